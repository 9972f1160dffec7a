"""Lines a host wrote for a person, skipped before its first TLS record.

A host greets a connection that stays silent after connecting with a line of text for the
person at `nc` (a nickname prompt, or why it cannot join: `net.host.driver`). LanChat
clients speak first, at once, so they are never greeted; one that stalls longer than the
host waits (a busy PC) may be, and must not take that text for a broken TLS handshake,
which it would report as a final failure. So lines that come before the host's first TLS
record (they start with a byte a TLS record never starts with) are dropped, up to a bound.
"""

from __future__ import annotations

#: TLS record types a host opens with: a handshake (its ServerHello) or an alert.
_TLS_OPENINGS = (0x16, 0x15)
#: The most text skipped; beyond it the bytes go to TLS (which then fails: not a LanChat host).
MAX_GREETING_BYTES = 4096


class GreetingSkipper:
    """Feed it what the host sends until it has passed the greeting on (per link)."""

    def __init__(self) -> None:
        self.done = False
        self._skipped = 0
        self._line_start = True

    def feed(self, data: bytes) -> bytes:
        """`data` without the greeting lines in it (``b""`` while only those came)."""
        if self.done:
            return data
        at = 0
        while at < len(data) and self._skipped <= MAX_GREETING_BYTES:
            if self._line_start and data[at] in _TLS_OPENINGS:
                break
            end = data.find(b"\n", at)
            self._line_start = end >= 0
            end = len(data) if end < 0 else end + 1
            self._skipped += end - at
            at = end
        if at < len(data):
            self.done = True
        return data[at:]
