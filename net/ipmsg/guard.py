"""Port 2425 is a broadcast port anyone can reach: rate limits and the anti-amplification rule.

- Every source address has a token bucket (`SOURCE_RATE`/`SOURCE_BURST`); all sources share
  another (`TOTAL_RATE`/`TOTAL_BURST`). A packet over either limit is dropped unread.
- Answers (ANSENTRY, RECVMSG, SENDINFO) also draw on a bucket of their own (`ANSWER_RATE`),
  so that even many forged sources cannot make us send more than that many datagrams.
- No amplification: a UDP source address can be forged, so until an address has *proved*
  it receives what we send there, an answer to it is at most as many bytes as the packet it
  answers (QUIC's rule, with a factor of 1). An address proves it by acknowledging a packet
  number we sent to it (RECVMSG), or by answering our BR_ENTRY with ANSENTRY within
  `ENTRY_ANSWER_WINDOW` seconds of it.

Every table here is bounded (`MAX_SOURCES`, least recently seen forgotten first).
"""

from __future__ import annotations

from collections import OrderedDict

from net.room.ratelimit import TokenBucket

SOURCE_RATE = 20.0
SOURCE_BURST = 40.0
TOTAL_RATE = 1000.0
TOTAL_BURST = 2000.0
ANSWER_RATE = 100.0
ANSWER_BURST = 200.0
MAX_SOURCES = 4096
MAX_VERIFIED = 4096
#: How long after our BR_ENTRY an ANSENTRY counts as an answer to it.
ENTRY_ANSWER_WINDOW = 30.0


class Guard:
    """Decides what passes in and how much may go out. Pure: time is an argument."""

    def __init__(self, now: float, *, source_rate: float = SOURCE_RATE, source_burst: float = SOURCE_BURST,
                 total_rate: float = TOTAL_RATE, total_burst: float = TOTAL_BURST,
                 answer_rate: float = ANSWER_RATE, answer_burst: float = ANSWER_BURST) -> None:  # fmt: skip
        self._source_rate = source_rate
        self._source_burst = source_burst
        self._sources: OrderedDict[str, TokenBucket] = OrderedDict()
        self._total = TokenBucket(total_rate, total_burst, now)
        self._answers = TokenBucket(answer_rate, answer_burst, now)
        self._verified: OrderedDict[str, None] = OrderedDict()
        self._entry_sent_at: float | None = None
        self.dropped = 0  # packets refused by a rate limit (for logs and tests)
        self.answers_refused = 0  # answers not sent (budget or size rule)

    @property
    def tracked_sources(self) -> int:
        return len(self._sources)

    def admit(self, source: str, now: float) -> bool:
        """Whether a packet from `source` may be read now (draws on both buckets)."""
        bucket = self._sources.get(source)
        if bucket is None:
            bucket = TokenBucket(self._source_rate, self._source_burst, now)
            self._sources[source] = bucket
            while len(self._sources) > MAX_SOURCES:
                self._sources.popitem(last=False)
        else:
            self._sources.move_to_end(source)
        if bucket.take(now) > 0 or self._total.take(now) > 0:
            self.dropped += 1
            return False
        return True

    # -- proof of address ---------------------------------------------------------------------

    def entry_sent(self, now: float) -> None:
        """We sent BR_ENTRY: ANSENTRYs in the next window answer it."""
        self._entry_sent_at = now

    def answers_our_entry(self, now: float) -> bool:
        sent = self._entry_sent_at
        return sent is not None and 0.0 <= now - sent <= ENTRY_ANSWER_WINDOW

    def verify(self, source: str) -> None:
        self._verified[source] = None
        self._verified.move_to_end(source)
        while len(self._verified) > MAX_VERIFIED:
            self._verified.popitem(last=False)

    def is_verified(self, source: str) -> bool:
        return source in self._verified

    def forget(self, source: str) -> None:
        self._verified.pop(source, None)

    def answer_allowed(self, source: str, answer_bytes: int, received_bytes: int, now: float) -> bool:
        """Whether an answer of `answer_bytes` to a packet of `received_bytes` may go to `source`."""
        if not self.is_verified(source) and answer_bytes > received_bytes:
            self.answers_refused += 1
            return False
        if self._answers.take(now) > 0:
            self.answers_refused += 1
            return False
        return True
