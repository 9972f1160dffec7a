"""A token bucket, the per-member rate limit."""

from __future__ import annotations


class TokenBucket:
    """Allows `rate` events per second on average and bursts of up to `burst`.

    A rate of 0 switches the limit off (benchmarks do that). Time comes in as an argument so
    the bucket stays pure and testable.
    """

    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self._tokens = self.burst
        self._last = now

    def take(self, now: float) -> float:
        """Consume one token. Returns 0.0 when allowed, else the seconds until one is free."""
        if self.rate <= 0:
            return 0.0
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate
