"""Relays' CPU per delivery, measured round by round with the relays side by side.

`make bench`'s fan-out lets each relay batch as its speed allows, and a run at C = 50 lasts
a few tenths of a second: on a shared machine someone else's work inside one attempt moves
its CPU per delivery by up to 40 %. Here every relay runs at once and gets the same rounds,
one relay after another: in each round each of C members writes K messages (the members one
after another, so they arrive spread out), then every member reads until it has every
other member's. A relay's CPU is summed over its own rounds only, so a burst of other work
hits every relay alike, and ratios repeat within a few per cent. The order of the relays
rotates every round.

    python -m bench.interleaved --relays native-tls,redis-tls [--members 50] [--messages 11]
    python -m bench.interleaved --relays native-tls@/path/to/other/checkout,native-tls

`RELAY@DIR` runs our host from another checkout (the same relay before and after a change).
The members are blocking sockets (TLS through `ssl`); their CPU is not measured.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import ssl
import sys
import time
from pathlib import Path

from bench import loadgen, payload, procs
from bench.relays import RELAYS

_DRAIN_TIMEOUT = 30.0


class Driven:
    """One relay process and its members."""

    def __init__(self, spec: str, members: int) -> None:
        self.name, _, tree = spec.partition("@")
        self.label = spec
        relay = RELAYS[self.name]
        self.tls = loadgen.tls_client() if relay.tls else None
        self.dialect = relay.dialect
        self.members = members
        repo = procs.REPO
        procs.REPO = Path(tree).resolve() if tree else repo  # where `main.py host` runs from
        try:
            self.proc = relay.start()
        finally:
            procs.REPO = repo
        self.cpu = 0.0
        self.deliveries = 0
        self.inbound: list[socket.socket] = []
        self.outbound: list[socket.socket] = []
        self.selector = selectors.DefaultSelector()

    def join(self) -> None:
        self.proc.wait_listening()
        for index in range(self.members):
            sock = self._connect()
            sock.sendall(self.dialect.greeting(index))
            received = b""
            deadline = time.monotonic() + _DRAIN_TIMEOUT
            while not self.dialect.is_joined(received):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.label}: member {index} not joined: {received[-200:]!r}")
                received += sock.recv(65536)
            self.inbound.append(sock)
            self.outbound.append(self._connect() if self.dialect.separate_publisher else sock)
        for index, sock in enumerate(self.inbound):
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, index)
        self._read(None, time.monotonic() + 0.5)  # the join notices

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.proc.port), timeout=_DRAIN_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock if self.tls is None else self.tls.wrap_socket(sock)

    def round(self, first: int, count: int, timed: bool = True) -> None:
        """Every member writes `count` messages; returns once every other member has them."""
        cpu = procs.process_cpu_seconds(self.proc.process)
        for index, sock in enumerate(self.outbound):
            frames = (
                self.dialect.frame(seq, payload.message_text(index, seq, False, 0.0, 90))
                for seq in range(first, first + count)
            )
            shared = not self.dialect.separate_publisher  # also read, without blocking
            sock.setblocking(True)
            sock.sendall(b"".join(frames))
            sock.setblocking(not shared)
        each = count * (self.members - 1 + (1 if self.dialect.echoes_own else 0))
        self._read([each] * self.members, time.monotonic() + _DRAIN_TIMEOUT)
        if timed:
            self.cpu += procs.process_cpu_seconds(self.proc.process) - cpu
            self.deliveries += count * self.members * (self.members - 1)

    def _read(self, wanted: list[int] | None, deadline: float) -> None:
        """Read until each member got `wanted` message heads (None: until `deadline`)."""
        left = self.members if wanted is not None else -1
        while left and time.monotonic() < deadline:
            for key, _ in self.selector.select(min(0.05, max(0.0, deadline - time.monotonic()))):
                sock, index = key.fileobj, key.data
                assert isinstance(sock, socket.socket)
                try:
                    while data := sock.recv(1 << 20):
                        if wanted is not None:
                            before = wanted[index]
                            wanted[index] -= data.count(payload.HEAD)
                            if before > 0 >= wanted[index]:
                                left -= 1
                except (BlockingIOError, ssl.SSLWantReadError):
                    continue
                raise RuntimeError(f"{self.label} closed member {index}'s connection")
        if left > 0:
            raise RuntimeError(f"{self.label}: deliveries missing after {_DRAIN_TIMEOUT} s")

    def close(self) -> None:
        self.selector.close()
        for sock in self.inbound + self.outbound:
            sock.close()
        self.proc.stop()


def run(specs: list[str], members: int, messages: int, rounds: int) -> list[dict]:
    """Each relay's CPU per delivery over `rounds` interleaved rounds (after one untimed)."""
    driven: list[Driven] = []
    try:
        for spec in specs:
            driven.append(Driven(spec, members))
        for relay in driven:
            relay.join()
            relay.round(0, messages, timed=False)
        for number in range(1, rounds + 1):
            turn = number % len(driven)
            for relay in driven[turn:] + driven[:turn]:
                relay.round(number * messages, messages)
    finally:
        for relay in driven:
            relay.close()
    return [
        {"relay": r.label, "host_cpu_s": round(r.cpu, 3), "deliveries": r.deliveries,
         "host_cpu_us_per_delivery": round(1e6 * r.cpu / r.deliveries, 4)}
        for r in driven
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.interleaved", description=__doc__.splitlines()[0])
    parser.add_argument("--relays", required=True, help="comma list of RELAY or RELAY@DIR (our host)")
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--messages", type=int, default=11, help="messages per member per round")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args(argv)
    results = run(args.relays.split(","), args.members, args.messages, args.rounds)
    first = results[0]["host_cpu_us_per_delivery"]
    for result in results:
        per = result["host_cpu_us_per_delivery"]
        print(f"{result['relay']:40s} {per:.4f} µs/delivery  {per / first:.3f} × the first")
    return 0


if __name__ == "__main__":
    sys.exit(main())
