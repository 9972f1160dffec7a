"""When a host answers which probes, and whom it says goodbye to. Pure; time is an argument.

A probe sent to a broadcast address reaches every host on the LAN at once; if they all
answered at once, their answers would collide in the prober's receive buffer and on slow
Wi-Fi. So a probe says how long answerers may wait (``mx``, like SSDP's MX), and each
answerer waits a random time up to that (at most `MAX_REPLY_DELAY`). The same probe heard
twice (limited and directed broadcast, or twice through two adapters) is answered once. A
token bucket bounds answers per second, so a flood of forged probes cannot turn a host into
an amplifier, and every queue here is bounded.

Hosts also remember who probed them recently and send their goodbye to those addresses as
well as to the broadcast destinations: a browser that found the host by a unicast probe
(an extra address, a network that drops broadcasts, loopback in tests) learns at once that
the chat ended instead of waiting for the ttl.
"""

from __future__ import annotations

import heapq
import logging
import random
from collections import OrderedDict

from net.addresses import SockAddr
from net.discovery.wire import MAX_REPLY_DELAY, DiscoveryDecodeError, Probe, decode_datagram
from net.room.ratelimit import TokenBucket

log = logging.getLogger(__name__)

ANSWERS_PER_SECOND = 50.0
ANSWER_BURST = 100
MAX_PENDING_ANSWERS = 256
MAX_REMEMBERED_PROBERS = 64
_MAX_RECENT_PROBE_IDS = 512


def reply_delay(requested: float, rng: random.Random) -> float:
    """How long to wait before answering a probe that allows `requested` seconds of jitter."""
    return rng.uniform(0.0, max(0.0, min(requested, MAX_REPLY_DELAY)))


class ProbeAnswerer:
    """Schedules jittered answers to probes and remembers recent probers."""

    def __init__(
        self,
        now: float,
        *,
        remember_for: float,
        rng: random.Random | None = None,
        answers_per_second: float = ANSWERS_PER_SECOND,
        burst: int = ANSWER_BURST,
    ) -> None:
        self._rng = rng or random.Random()
        self._bucket = TokenBucket(answers_per_second, burst, now)
        self._pending: list[tuple[float, int, SockAddr, str]] = []  # heap of (due, seq, to, probe id)
        self._seq = 0
        self._recent_ids: OrderedDict[tuple[SockAddr, str], None] = OrderedDict()
        self._probers: OrderedDict[SockAddr, float] = OrderedDict()  # sender -> last probe time
        self._remember_for = remember_for

    def receive(self, data: bytes, sender: SockAddr, now: float) -> Probe | None:
        """Check one datagram that arrived at the responder; the probe to answer, or None.

        A probe is returned (and its sender remembered) unless it is a repeat of one already
        accepted or the answer rate is exhausted. Anything else is ignored with a debug log.
        """
        try:
            message = decode_datagram(data)
        except DiscoveryDecodeError as exc:
            log.debug("ignored a datagram from %s: %s", sender[:2], exc)
            return None
        if not isinstance(message, Probe):
            log.debug("ignored a %s from %s at the responder", type(message).__name__, sender[:2])
            return None
        self._remember(sender, now)
        key = (sender, message.probe_id)
        if key in self._recent_ids:
            return None  # the same probe arrived again by another route
        self._recent_ids[key] = None
        if len(self._recent_ids) > _MAX_RECENT_PROBE_IDS:
            self._recent_ids.popitem(last=False)
        if len(self._pending) >= MAX_PENDING_ANSWERS or self._bucket.take(now) > 0:
            log.debug("too many probes: not answering %s", sender[:2])
            return None
        return message

    def schedule(self, probe: Probe, sender: SockAddr, now: float) -> float:
        """Queue the answer to an accepted probe after its jitter; returns when it is due."""
        due = now + reply_delay(probe.max_delay, self._rng)
        self._seq += 1
        heapq.heappush(self._pending, (due, self._seq, sender, probe.probe_id))
        return due

    def _remember(self, sender: SockAddr, now: float) -> None:
        self._probers[sender] = now
        self._probers.move_to_end(sender)
        while len(self._probers) > MAX_REMEMBERED_PROBERS:
            self._probers.popitem(last=False)

    def due(self, now: float) -> list[tuple[SockAddr, str]]:
        """Answers to send now, as (destination, probe id), oldest first."""
        ready = []
        while self._pending and self._pending[0][0] <= now:
            _, _, sender, probe_id = heapq.heappop(self._pending)
            ready.append((sender, probe_id))
        return ready

    def next_due(self) -> float | None:
        return self._pending[0][0] if self._pending else None

    def recent_probers(self, now: float) -> list[SockAddr]:
        """Senders that probed within `remember_for` seconds, most recent last."""
        return [sender for sender, heard in self._probers.items() if now - heard <= self._remember_for]
