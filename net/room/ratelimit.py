"""Rate limits: a token bucket, buckets kept by key, and a member's pair of buckets.

A member's bucket is kept by its client id, and the members from one address share a
bucket kept by the address, so that neither reconnecting nor opening more connections
buys a fresh burst (`Buckets`). A member draws on both (`Limit`).
"""

from __future__ import annotations

from collections import OrderedDict


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
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate

    def take_up_to(self, count: int, now: float) -> int:
        """Consume up to `count` tokens at once; returns how many (what `count` calls of
        `take` at `now` would have allowed, exactly: whole tokens are subtracted)."""
        if self.rate <= 0:
            return count
        self._refill(now)
        taken = min(count, int(self._tokens))
        self._tokens -= taken
        return taken

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)

    def give_back(self, count: int) -> None:
        """Return tokens taken but not used (up to the burst)."""
        if self.rate > 0:
            self._tokens = min(self.burst, self._tokens + count)

    def wait(self, now: float) -> float:
        """Seconds until a token is free at `now` (0.0 when one is)."""
        if self.rate <= 0:
            return 0.0
        tokens = min(self.burst, self._tokens + max(0.0, now - self._last) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def full(self, now: float) -> bool:
        """True when the bucket has refilled completely: then it is the same as a new one."""
        return self.rate <= 0 or self._tokens + max(0.0, now - self._last) * self.rate >= self.burst


class Buckets:
    """Token buckets by key (a client id, an address), shared by everyone holding the key.

    A bucket outlives its last holder until it has refilled (a new bucket would be full
    too, so forgetting it then changes nothing) or until more than `max_idle` buckets
    wait unheld (the longest unheld goes first): reconnecting does not refill it.
    """

    def __init__(self, rate: float, burst: float, max_idle: int) -> None:
        self.rate = rate
        self.burst = burst
        self.max_idle = max_idle
        self._held: dict[str, tuple[TokenBucket, int]] = {}
        self._idle: OrderedDict[str, TokenBucket] = OrderedDict()

    @property
    def idle(self) -> int:
        """Buckets remembered without a holder."""
        return len(self._idle)

    def acquire(self, key: str, now: float) -> TokenBucket:
        """The bucket for `key`, held until `release(key)`."""
        held = self._held.get(key)
        if held is not None:
            bucket, holders = held
        else:
            self._sweep(now)
            remembered = self._idle.pop(key, None)
            bucket, holders = remembered or TokenBucket(self.rate, self.burst, now), 0
        self._held[key] = (bucket, holders + 1)
        return bucket

    def release(self, key: str, now: float) -> None:
        """One holder of `key`'s bucket fewer; the last one leaves it remembered."""
        bucket, holders = self._held.pop(key)
        if holders > 1:
            self._held[key] = (bucket, holders - 1)
            return
        self._idle[key] = bucket
        self._sweep(now)

    def _sweep(self, now: float) -> None:
        idle = self._idle
        while idle and (len(idle) > self.max_idle or next(iter(idle.values())).full(now)):
            idle.popitem(last=False)


class Limit:
    """A member's rate limit: its own bucket, and its address's when it shares one. An
    event passes when both have a token; neither is charged for one refused."""

    __slots__ = ("own", "shared")

    def __init__(self, own: TokenBucket, shared: TokenBucket | None) -> None:
        self.own = own
        self.shared = shared

    @property
    def limited(self) -> bool:
        return self.own.rate > 0

    def take(self, now: float) -> float:
        """Consume one event. Returns 0.0 when allowed, else the seconds until one is."""
        return 0.0 if self.take_up_to(1, now) else self.wait(now)

    def take_up_to(self, count: int, now: float) -> int:
        """Consume up to `count` events at once; returns how many passed."""
        taken = self.own.take_up_to(count, now)
        shared = self.shared
        if shared is not None and taken:
            passed = shared.take_up_to(taken, now)
            self.own.give_back(taken - passed)
            return passed
        return taken

    def give_back(self, count: int) -> None:
        """Return events taken but not used."""
        self.own.give_back(count)
        if self.shared is not None:
            self.shared.give_back(count)

    def wait(self, now: float) -> float:
        """Seconds until an event would pass at `now`."""
        own = self.own.wait(now)
        return own if self.shared is None else max(own, self.shared.wait(now))


def member_limit(
    budgets: Buckets, address_budgets: Buckets | None, client_id: str, address: str | None, now: float
) -> Limit:
    """A joining member's budget: the one its client id had (a reconnect keeps what it spent),
    and the shared one of its address (when members from one address share one)."""
    shared = None
    if address is not None and address_budgets is not None:
        shared = address_budgets.acquire(address, now)
    return Limit(budgets.acquire(client_id, now), shared)
