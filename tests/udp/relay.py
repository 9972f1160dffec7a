"""An in-process UDP relay on loopback that loses, duplicates, delays and reorders datagrams.

Clients send to the relay's port instead of the host's. For each client address the relay
opens its own upstream socket to the host, so the host sees one distinct address per
client, exactly as without the relay. Every datagram, in both directions, is dropped with
probability `loss`, sent twice with probability `duplicate`, and held for `delay` plus a
random part of `jitter` seconds; datagrams that draw different delays overtake each other.
One thread does it all and is stopped and joined by `stop()`.
"""

from __future__ import annotations

import heapq
import itertools
import random
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class RelayStats:
    forwarded: int = 0
    dropped: int = 0
    duplicated: int = 0
    by_direction: dict[str, int] = field(default_factory=lambda: {"to_host": 0, "to_client": 0})


class LossyRelay:
    def __init__(
        self,
        host_address: tuple[str, int],
        *,
        loss: float = 0.2,
        duplicate: float = 0.05,
        delay: float = 0.001,
        jitter: float = 0.01,
        seed: int = 1,
        record: bool = False,
    ) -> None:
        self._host = host_address
        #: Every datagram that reached the relay, both ways (with `record`): an eavesdropper's view.
        self.recorded: bytearray | None = bytearray() if record else None
        #: May be changed while the relay runs (e.g. loss=1.0 to cut the link for a while).
        self.loss, self.duplicate = loss, duplicate
        self._delay, self._jitter = delay, jitter
        self._rng = random.Random(seed)
        self._front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._front.bind(("127.0.0.1", 0))
        self._front.setblocking(False)
        for sock in (self._front,):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.port = self._front.getsockname()[1]
        self._upstream: dict[tuple, socket.socket] = {}  # client address -> its socket to the host
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._front, selectors.EVENT_READ, None)
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._selector.register(self._wake_reader, selectors.EVENT_READ, "wake")
        self._queue: list[tuple[float, int, socket.socket, bytes, tuple]] = []
        self._order = itertools.count()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lossy-relay", daemon=True)
        self.stats = RelayStats()

    def start(self) -> LossyRelay:
        self._thread.start()
        return self

    def retarget(self, host_address: tuple[str, int]) -> None:
        """Send clients' datagrams to another host from now on (a host restarted elsewhere)."""
        self._host = host_address

    def stop(self) -> None:
        self._stopping.set()
        self._wake_writer.send(b"\0")
        self._thread.join(2.0)
        assert not self._thread.is_alive()
        self._selector.close()
        for sock in (self._front, self._wake_reader, self._wake_writer, *self._upstream.values()):
            sock.close()

    def _schedule(self, sock: socket.socket, data: bytes, destination: tuple, direction: str) -> None:
        if self.recorded is not None:
            self.recorded += data
        rng = self._rng
        if rng.random() < self.loss:
            self.stats.dropped += 1
            return
        copies = 2 if rng.random() < self.duplicate else 1
        self.stats.duplicated += copies - 1
        now = time.monotonic()
        for _ in range(copies):
            when = now + self._delay + rng.random() * self._jitter
            heapq.heappush(self._queue, (when, next(self._order), sock, data, destination))
        self.stats.by_direction[direction] += copies

    def _run(self) -> None:
        while not self._stopping.is_set():
            timeout = max(0.0, self._queue[0][0] - time.monotonic()) if self._queue else 0.5
            for key, _ in self._selector.select(timeout):
                if key.data == "wake":
                    continue
                self._read(key.fileobj, key.data)
            now = time.monotonic()
            while self._queue and self._queue[0][0] <= now:
                _, _, sock, data, destination = heapq.heappop(self._queue)
                try:
                    sock.sendto(data, destination)
                    self.stats.forwarded += 1
                except OSError:
                    self.stats.dropped += 1  # a full buffer is just more loss

    def _read(self, sock: socket.socket, client: tuple | None) -> None:
        for _ in range(256):
            try:
                data, source = sock.recvfrom(65535)
            except (BlockingIOError, ConnectionError):
                return
            if client is None:  # from a client, on the front socket
                upstream = self._upstream.get(source)
                if upstream is None:
                    upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    upstream.bind(("127.0.0.1", 0))
                    upstream.setblocking(False)
                    upstream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
                    self._upstream[source] = upstream
                    self._selector.register(upstream, selectors.EVENT_READ, source)
                self._schedule(upstream, data, self._host, "to_host")
            else:  # from the host, on a client's upstream socket
                self._schedule(self._front, data, client, "to_client")
