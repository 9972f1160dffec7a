"""A host made of the pure cores only (Room + Connection), for testing client logic without sockets."""

from __future__ import annotations

from net.protocol import Connection, Role
from net.protocol import events as ev
from net.room import Broadcast, Disconnect, Room, RoomConfig, Send


class PureHost:
    """Routes bytes between in-memory peers through a real `Room`."""

    def __init__(self, config: RoomConfig | None = None, **room_kwargs) -> None:
        self.room = Room(config or RoomConfig(name="test"), **room_kwargs)
        self.connections: dict[int, Connection] = {}
        self.outgoing: dict[int, bytearray] = {}
        self.closed: set[int] = set()

    def connect(self, peer: int) -> None:
        self.connections[peer] = Connection(Role.HOST)
        self.outgoing[peer] = bytearray()

    def feed(self, peer: int, data: bytes) -> None:
        conn = self.connections[peer]
        conn.receive_data(data)
        for event in conn.events():
            if isinstance(event, ev.Hello):
                self._apply(self.room.join(peer, event))
            elif isinstance(event, ev.Event) and event.TYPE != "<closed>":
                self._apply(self.room.handle(peer, event))

    def drop(self, peer: int) -> None:
        """The link to `peer` broke (no bye)."""
        self._apply(self.room.leave(peer, "lost"))
        self.connections.pop(peer, None)
        self.outgoing.pop(peer, None)

    def take(self, peer: int) -> bytes:
        data = bytes(self.outgoing.get(peer, b""))
        if peer in self.outgoing:
            self.outgoing[peer].clear()
        return data

    def _apply(self, outputs) -> None:
        for output in outputs:
            match output:
                case Send(to=to, event=event) if to in self.connections:
                    self.outgoing[to] += self.connections[to].send(event)
                case Broadcast(event=event, exclude=exclude):
                    for peer in self.room.peers():
                        if peer != exclude and peer in self.connections:
                            self.outgoing[peer] += self.connections[peer].send(event)
                case Disconnect(peer=peer):
                    self.closed.add(peer)
