"""A simulated lossy link between two pure channels, driven by a fake clock.

Each datagram is dropped, duplicated and delayed at random (a seeded `random.Random`), so
reordering happens whenever a later datagram draws a shorter delay. Nothing sleeps: the
clock jumps to the next delivery or the next channel timer.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field

from net.udp.channel import Channel
from net.udp.wire import MAX_DATAGRAM_BYTES, parse


@dataclass
class LinkProfile:
    loss: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.001
    jitter: float = 0.0


@dataclass
class SimLink:
    a: Channel
    b: Channel
    profile: LinkProfile = field(default_factory=LinkProfile)
    seed: int = 1
    now: float = 0.0
    received: dict[str, list[bytes]] = field(default_factory=lambda: {"a": [], "b": []})
    datagrams: int = 0
    largest_datagram: int = 0
    #: Optional per-direction override: a -> b uses profile_ab when set.
    profile_ab: LinkProfile | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._queue: list[tuple[float, int, str, bytes]] = []
        self._order = itertools.count()

    def _emit(self, source: str, datagrams: list[bytes]) -> None:
        target = "b" if source == "a" else "a"
        profile = self.profile_ab if (source == "a" and self.profile_ab) else self.profile
        for data in datagrams:
            self.datagrams += 1
            self.largest_datagram = max(self.largest_datagram, len(data))
            assert len(data) <= MAX_DATAGRAM_BYTES
            if self._rng.random() < profile.loss:
                continue
            copies = 2 if self._rng.random() < profile.duplicate else 1
            for _ in range(copies):
                when = self.now + profile.delay + self._rng.random() * profile.jitter
                heapq.heappush(self._queue, (when, next(self._order), target, data))

    def step(self) -> bool:
        """Advance to the next thing that happens; False when nothing is left to happen."""
        for name, channel in (("a", self.a), ("b", self.b)):
            self._emit(name, channel.poll(self.now))
        times = [self._queue[0][0]] if self._queue else []
        for channel in (self.a, self.b):
            deadline = channel.next_deadline()
            if deadline is not None:
                times.append(max(deadline, self.now))
        if not times:
            return False
        self.now = max(self.now, min(times))
        while self._queue and self._queue[0][0] <= self.now:
            _, _, target, data = heapq.heappop(self._queue)
            channel = self.a if target == "a" else self.b
            channel.receive(parse(data), self.now)
            self.received[target].extend(channel.take_messages())
        return True

    def run_until(self, condition, *, limit: float = 600.0, max_steps: int = 2_000_000) -> None:
        for _ in range(max_steps):
            if condition() or self.now > limit:
                break
            if not self.step():
                break
        assert condition(), f"condition not met by simulated time {self.now:.2f} s"
