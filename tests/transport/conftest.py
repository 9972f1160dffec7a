"""The behavioural suite runs every test once per transport, through `net.transports` only.

`chat` builds hosts and clients with `make_host`/`make_client` for the transport under
test and closes them all at the end. The few things that cannot go through the common
interface (a member that vanishes without a word, raw garbage on the wire) are done by
`raw_member` and `send_garbage`, which pick the matching low-level tool per transport.
"""

from __future__ import annotations

import random
import select
import socket
import struct

import pytest

from net.api import ChatClient, ChatHost, ClientConfig, ClientState, HostConfig, StateChanged
from net.protocol import events as ev
from net.protocol.limits import PROTOCOL_VERSION
from net.room import RoomConfig
from net.transports import make_client, make_host
from tests.helpers import wait_until
from tests.identity import secure

TRANSPORTS = ("tcp", "udp")


@pytest.fixture(params=TRANSPORTS)
def transport(request) -> str:
    return request.param


class Chat:
    """Hosts and clients of one transport for one test."""

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.hosts: list[ChatHost] = []
        self.clients: dict[str, ChatClient] = {}
        self.events: dict[str, list[object]] = {}
        self.raw: list = []

    def host(self, *, port: int = 0, room: RoomConfig | None = None, **config) -> ChatHost:
        room = room or RoomConfig(name="suite", rate_per_second=0)
        host = make_host(self.transport, HostConfig(port=port, bind="127.0.0.1", room=room, **secure(config)))
        self.hosts.append(host)
        host.start()
        return host

    def client(self, port: int, nick: str, *, key: str | None = None, **config) -> ChatClient:
        key = key or nick
        events: list[object] = []
        self.events[key] = events
        settings = {"backoff": (0.1, 0.2), "connect_timeout": 2.0, **config}
        client = make_client(
            self.transport, ClientConfig(host="127.0.0.1", port=port, nick=nick, **settings), events.append
        )
        self.clients[key] = client
        client.start()
        return client

    def joined(self, port: int, *nicks: str, **config) -> list[ChatClient]:
        """Clients for `nicks`, each connected before the next starts (so join order is fixed)."""
        clients = []
        for nick in nicks:
            client = self.client(port, nick, **config)
            wait_until(lambda c=client: c.state is ClientState.CONNECTED, message=f"{nick} connected")
            clients.append(client)
        return clients

    def of_type(self, key: str, kind: type) -> list:
        return [event for event in list(self.events[key]) if isinstance(event, kind)]

    def states(self, key: str) -> list[tuple]:
        return [(c.state, c.failure) for c in self.of_type(key, StateChanged)]

    def texts(self, key: str) -> list[str]:
        return [m.text for m in self.of_type(key, ev.ChatMessage)]

    def seen_texts(self, key: str) -> list[str]:
        """Message texts shown to `key`, live or in a welcome's history (the session drops repeats)."""
        texts = []
        for event in list(self.events[key]):
            if isinstance(event, ev.Welcome):
                texts += [m.text for m in event.history]
            elif isinstance(event, ev.ChatMessage):
                texts.append(event.text)
        return texts

    def wait_state(self, key: str, state: ClientState, timeout: float = 5.0) -> StateChanged:
        """The first StateChanged to `state` (the client's state before any event can't be trusted)."""
        return self.wait_event(key, StateChanged, lambda c: c.state is state, timeout, f"{key} {state.value}")

    def wait_event(self, key: str, kind: type, test=lambda e: True, timeout: float = 5.0, message: str = ""):
        return wait_until(
            lambda: next((e for e in self.of_type(key, kind) if test(e)), None),
            timeout=timeout,
            message=message or f"{key} gets {kind.__name__}",
        )

    # -- tools that differ per transport ------------------------------------------------------

    def raw_member(self, port: int, nick: str, *, source: str = "127.0.0.1", client_id: str | None = None):
        """A member driven by hand that joins (from `source`) and then does only what the test
        says (it never pings)."""
        if self.transport == "tcp":
            from tests.tcp.rawclient import RawClient

            member = RawClient(port, source=source)
            self.raw.append(member)
            member.join(nick, client_id=client_id)
        else:
            from tests.udp.rawpeer import RawPeer

            member = RawPeer(port, source=source)
            self.raw.append(member)
            member.join(nick, client_id)
            wait_until(lambda: member.channel.idle, pump=member.pump, message="welcome acknowledged")
        return member

    def pump(self, member) -> None:
        """Let a raw member take what arrived (and send what is due, over UDP)."""
        if self.transport == "tcp":
            member.read(0.0)
        else:
            member.pump()

    def leave(self, raw) -> None:
        """A raw member or someone from a crowd says bye (a UDP host would not notice a close)."""
        if hasattr(raw, "send_line"):
            raw.send_line("/quit")
        elif self.transport == "tcp":
            raw.send(ev.Bye(reason="bye"))
        else:
            raw.send_event(ev.Bye(reason="bye"))
            wait_until(lambda: raw.channel.idle, pump=raw.pump, message="bye acknowledged")

    def vanish(self, raw) -> None:
        """A raw member's connection ends without a goodbye, as a crash or a pulled cable
        ends it where the host can notice: TCP resets the connection (RST), UDP sends the
        channel's RESET (what a client whose link broke sends)."""
        if self.transport == "tcp":
            raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()
        else:
            from net.udp.wire import ResetReason

            raw.sock.send(raw.channel.reset_datagram(ResetReason.CLOSED))
            raw.close()

    def crowd(self, port: int, source: str, count: int) -> list:
        """`count` people joining at once from `source` (plain-text `nc` users over TCP, raw
        peers over UDP); once the host has answered every one, those it welcomed."""
        people = [self._hopeful(port, source, f"{source.replace('.', '_')}_{n}") for n in range(count)]
        wait_until(
            lambda: all(p.answered() for p in people), message=f"the host answers the crowd from {source}"
        )
        return [person.raw for person in people if person.welcomed()]

    def _hopeful(self, port: int, source: str, nick: str) -> _Hopeful:
        if self.transport == "tcp":
            from tests.tcp.rawclient import TextClient

            person = _Hopeful(TextClient(port, source=source), nick)
        else:
            from tests.udp.rawpeer import RawPeer

            person = _Hopeful(RawPeer(port, source=source), nick)
        self.raw.append(person.raw)
        person.try_joining()
        return person

    def send_garbage(self, port: int, seed: int = 1) -> None:
        """Bytes no LanChat peer would send, the way this transport carries them."""
        rng = random.Random(seed)
        chunks = [
            b"\x00\xff\xfe garbage \x80\n",
            b'{"type":"say","id":"x","text":"no hello"}\n',
            b'{"type": "hello", "version": "one"}\n',
            b"[1,2,3]\n",
            *(rng.randbytes(rng.randrange(1, 900)) + b"\n" for _ in range(20)),
        ]
        if self.transport == "tcp":
            for chunk in chunks:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                    sock.sendall(chunk)
        else:
            from net.udp.wire import MAGIC

            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                for chunk in chunks:
                    sock.sendto(chunk, ("127.0.0.1", port))
                    sock.sendto(MAGIC + chunk, ("127.0.0.1", port))

    def silent_port(self):
        """A context manager giving a port where something holds the address but never answers."""
        return _SilentPort(self.transport)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        for host in self.hosts:
            host.stop()
        for member in self.raw:
            member.close()


@pytest.fixture
def chat(transport):
    chat = Chat(transport)
    try:
        yield chat
    finally:
        chat.close()


class _Hopeful:
    """Someone trying to join who may be turned away: an `nc` user (TCP) or a raw peer (UDP)."""

    def __init__(self, raw, nick: str) -> None:
        self.raw = raw
        self.nick = nick
        self.said_hello = False

    def try_joining(self) -> None:
        if hasattr(self.raw, "send_line"):  # an nc user types the nickname at once
            try:
                self.raw.send_line(self.nick)
            except OSError:
                self.raw.closed = True  # turned away before it could type
            return
        self.raw.pump()
        if self.raw.channel.heard and not self.said_hello:  # over UDP, after the host answered
            self.said_hello = True
            self.raw.send_event(
                ev.Hello(version=PROTOCOL_VERSION, nick=self.nick, client_id=f"id-{self.nick}")
            )

    def welcomed(self) -> bool:
        if hasattr(self.raw, "lines"):
            return any(line.startswith("Welcome to") for line in self.raw.lines)
        return any(isinstance(event, ev.Welcome) for event in self.raw.events)

    def answered(self) -> bool:
        """Welcomed, refused or turned away: the host has made up its mind."""
        if hasattr(self.raw, "lines"):
            self.raw.read(0.0)
            return self.welcomed() or self.raw.closed
        self.try_joining()
        return self.welcomed() or self.raw.channel.failed or bool(self.raw.of_type(ev.Refuse))


class _SilentPort:
    """TCP: a listener whose accept queue is full, so connects hang. UDP: a socket that never reads.

    TCP, Linux: `listen(0)` leaves room for one connection in the accept queue; once a filler's
    connection sits there, the listener drops every further SYN (a listen overflow) without an
    answer, so a client's connect neither succeeds nor is refused: it times out. Entering
    waits until the queue is full (the listener reads as readable), so that holds by
    construction rather than by how fast loopback finished the first filler's handshake.
    """

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.sockets: list[socket.socket] = []

    def __enter__(self) -> int:
        if self.transport == "tcp":
            server = socket.create_server(("127.0.0.1", 0), backlog=0)
            self.sockets.append(server)
            port = server.getsockname()[1]
            for _ in range(8):  # fill the accept queue so further SYNs are dropped
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                self.sockets.append(filler)
            queued, _, _ = select.select([server], [], [], 5.0)
            assert queued, "no filler connection reached the accept queue"
            return port
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        self.sockets.append(sink)
        return sink.getsockname()[1]

    def __exit__(self, *exc_info) -> None:
        for sock in self.sockets:
            sock.close()
