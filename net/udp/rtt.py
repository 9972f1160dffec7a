"""Retransmission timeout from measured round trips (RFC 6298), with exponential backoff."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class RttConfig:
    initial_rto: float = 0.5  # before the first sample (RFC 6298 says 1 s; a LAN answers faster)
    min_rto: float = 0.05  # RFC 6298 says 1 s, tuned for the Internet; LAN round trips are ~1 ms
    max_rto: float = 4.0
    granularity: float = 0.005  # the G of RFC 6298: our timers' resolution


class RttEstimator:
    """Smoothed RTT and variance, and the timeout derived from them.

    Samples must come from fragments sent exactly once (Karn's rule), because an ack for a
    retransmitted fragment cannot say which copy it answers. A timeout doubles the RTO
    until the next valid sample recomputes it (RFC 6298 sections 5.5 and 5.7). Keeping the
    backoff until a clean sample matters when the path slows down: resetting it on any ack
    would let every fragment time out again before its ack could arrive.
    """

    __slots__ = ("_base", "_config", "backoffs", "rttvar", "samples", "srtt")

    def __init__(self, config: RttConfig | None = None) -> None:
        self._config = config or RttConfig()
        self.srtt: float | None = None
        self.rttvar = 0.0
        self._base = self._config.initial_rto
        self.backoffs = 0
        self.samples = 0

    @property
    def rto(self) -> float:
        """The current retransmission timeout, backoff included."""
        return float(min(self._config.max_rto, self._base * (2**self.backoffs)))

    def sample(self, rtt: float) -> None:
        """Take one round-trip measurement in seconds."""
        rtt = max(0.0, rtt)
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self.samples += 1
        self.backoffs = 0
        self._base = min(
            self._config.max_rto,
            max(self._config.min_rto, self.srtt + max(self._config.granularity, 4 * self.rttvar)),
        )

    def back_off(self) -> None:
        """A retransmission timer expired: wait twice as long next time (up to max_rto)."""
        if self.rto < self._config.max_rto:
            self.backoffs += 1
