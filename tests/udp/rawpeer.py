"""A hand-driven UDP peer for tests: the pure channel and protocol objects on a raw socket.

No thread: the test calls `pump()` (directly or as `wait_until`'s pump) to send what is
due and read what arrived. It can behave (handshake, say things) or misbehave (go silent,
stop acknowledging, send raw bytes), which is what the host's robustness tests need.
"""

from __future__ import annotations

import secrets
import socket
import time

from net.protocol import Connection, NeedData, Role
from net.protocol import events as ev
from net.protocol.limits import PROTOCOL_VERSION
from net.udp.channel import Channel
from net.udp.wire import WireError, parse
from tests.helpers import wait_until


class RawPeer:
    def __init__(
        self, port: int, *, host: str = "127.0.0.1", conn_id: int | None = None, source: str = "127.0.0.1"
    ) -> None:
        """`source`: the address to send from (another loopback address is another computer)."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.sock.setblocking(False)
        self.channel = Channel(conn_id or secrets.randbits(64) | 1, now=time.monotonic(), opener=True)
        self.conn = Connection(Role.CLIENT)
        self.events: list[ev.Event] = []
        self.received: list[bytes] = []  # every datagram that arrived, raw
        self.sent: list[bytes] = []  # every datagram sent, raw (for replays)
        self.silent = False  # True: receive and process, but never send (a vanished peer)
        self.deaf = False  # True: neither process nor acknowledge anything (a stuck peer)

    def close(self) -> None:
        self.sock.close()

    def pump(self) -> None:
        now = time.monotonic()
        if not self.silent and not self.deaf:
            for datagram in self.channel.poll(now):
                self.sent.append(datagram)
                self.sock.send(datagram)
        while True:
            try:
                data = self.sock.recv(65535)
            except (BlockingIOError, ConnectionRefusedError):
                break
            self.received.append(data)
            if self.deaf:
                continue
            try:
                datagram = parse(data)
            except WireError:
                continue
            self.channel.receive(datagram, now)
        for message in self.channel.take_messages():
            self.conn.receive_data(message + b"\n")
            while not isinstance(event := self.conn.next_event(), NeedData):
                self.events.append(event)
                if event.TYPE == "<closed>":
                    break

    def send_event(self, event: ev.Event) -> None:
        self.channel.send(self.conn.send(event)[:-1])
        self.pump()

    def join(self, nick: str, client_id: str | None = None) -> ev.Welcome:
        wait_until(
            lambda: self.channel.heard, timeout=5, pump=self.pump, message="the host answers the probe"
        )
        self.send_event(
            ev.Hello(version=PROTOCOL_VERSION, nick=nick, client_id=client_id or secrets.token_hex(8))
        )
        return wait_until(
            lambda: next((e for e in self.events if isinstance(e, ev.Welcome)), None),
            timeout=5,
            pump=self.pump,
            message=f"{nick} welcomed",
        )

    def of_type(self, kind: type) -> list:
        return [event for event in self.events if isinstance(event, kind)]
