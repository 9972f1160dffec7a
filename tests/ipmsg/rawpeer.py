"""A hand-driven IP Messenger peer on loopback: a plain UDP socket, as Feiq or iptux would use."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from net.ipmsg import codec as c


class RawPeer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.address = f"{host}:{self.port}"
        self.received: list[c.Packet] = []
        self.sizes: list[int] = []

    def send(self, data: bytes, port: int) -> None:
        self.sock.sendto(data, ("127.0.0.1", port))

    def expect(
        self,
        accept: Callable[[c.Packet], bool],
        timeout: float = 5.0,
        pump: Callable[[], object] | None = None,
    ) -> c.Packet:
        """Wait for a packet `accept` takes (packets read meanwhile are kept in `received`);
        `pump` runs between reads (a Tk root's `update`, so the window keeps working)."""
        for packet in self.received:
            if accept(packet):
                return packet
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pump is not None:
                self.sock.settimeout(0.02)
                pump()
            try:
                data, _sender = self.sock.recvfrom(70000)
            except TimeoutError:
                continue
            packet = c.parse_packet(data)
            self.received.append(packet)
            self.sizes.append(len(data))
            if accept(packet):
                return packet
        raise AssertionError(
            f"no matching packet within {timeout} s; got {[p.mode_name for p in self.received]}"
        )

    def drain(self, seconds: float) -> None:
        """Read whatever arrives for `seconds` (to count answers)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                data, _sender = self.sock.recvfrom(70000)
            except TimeoutError:
                continue
            self.received.append(c.parse_packet(data))
            self.sizes.append(len(data))

    def close(self) -> None:
        self.sock.close()


@contextmanager
def raw_peer(host: str = "127.0.0.1") -> Iterator[RawPeer]:
    peer = RawPeer(host)
    try:
        yield peer
    finally:
        peer.close()


def mode(wanted: int) -> Callable[[c.Packet], bool]:
    return lambda packet: packet.mode == wanted
