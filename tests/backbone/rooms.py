"""LanChat hosts on a backbone and real TCP members, as the backbone tests and the bench use them."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from net.api import ClientConfig, ClientState, Delivered, DeliveryFailed, HostConfig, StateChanged
from net.backbone import BackboneConfig
from net.protocol import events as ev
from net.room import RoomConfig
from net.tcp.client import TcpClient
from net.tcp.host import TcpHost

ROOM = "Backbone test room"


def backbone_host(urls: tuple[str, ...], host_id: str, port: int = 0, **room: object) -> TcpHost:
    """A started TCP host of `ROOM` on the backbone at `urls` (plain text: no identity)."""
    config = HostConfig(
        port=port,
        bind="127.0.0.1",
        room=RoomConfig(name=ROOM, rate_per_second=0, max_members=500, **room),  # type: ignore[arg-type]
        heartbeat_timeout=30.0,
        backbone=BackboneConfig(servers=urls, host_id=host_id, advertise="127.0.0.1"),
    )
    host = TcpHost(config)
    host.start()
    return host


@dataclass
class Member:
    """A real TCP client that records what it received, in order."""

    nick: str
    port: int
    messages: list[ev.ChatMessage] = field(default_factory=list)
    delivered: dict[str, str] = field(default_factory=dict)  # local id -> message id
    welcomes: list[ev.Welcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    client: TcpClient | None = None
    members_seen: tuple[ev.MemberInfo, ...] | None = None
    failures: list[object] = field(default_factory=list)  # StateChanged with a failure, DeliveryFailed
    notices: list[ev.Joined | ev.Left] = field(default_factory=list)

    def start(self) -> Member:
        config = ClientConfig(
            host="127.0.0.1",
            port=self.port,
            nick=self.nick,
            encrypted=False,
            backoff=(0.1, 0.2, 0.4),
            heartbeat_timeout=30.0,
        )
        self.client = TcpClient(config, self._on_event)
        self.client.start()
        return self

    def _on_event(self, event: object) -> None:
        with self.lock:
            if type(event) is ev.ChatMessage:
                self.messages.append(event)
            elif type(event) is Delivered:
                self.delivered[event.local_id] = event.msg_id
            elif type(event) is ev.Members:
                self.members_seen = event.members
            elif type(event) is ev.Welcome:
                self.welcomes.append(event)
                self.messages.extend(event.history)
            elif type(event) is ev.Joined or type(event) is ev.Left:
                self.notices.append(event)
            elif type(event) in (DeliveryFailed, ev.Error) or (type(event) is StateChanged and event.failure):
                self.failures.append(event)

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.state is ClientState.CONNECTED

    def listed(self) -> int:
        """Asks the host for the member list; how many the last answer listed (once per name)."""
        assert self.client is not None
        self.client.request_members()
        seen = self.members_seen
        return len({member.nick for member in seen}) if seen is not None else 0

    def say(self, text: str, to: str | None = None) -> str:
        assert self.client is not None
        return self.client.send_message(text, to=to)

    def texts(self) -> list[str]:
        with self.lock:
            return [message.text for message in self.messages]

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
