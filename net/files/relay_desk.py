"""The host's relay tickets: which two connections to its relay port belong together.

When a receiver cannot reach a sender's transfer port, it asks the host (a `file` step
`relay`, through the room). The room opens a pair here: two one-time tickets, one for the
receiver (`fetch`) and one for the sender (`send`), each sent to that member alone over
its encrypted chat. Both connect out to the host's relay port and present their ticket;
the relay splices the two legs once both are in (`net.files.relay`). The tickets only
say which legs meet: whether the receiver may fetch is still decided by the sender's own
one-time token, checked by the sender at the far end of the splice.

Thread-safe (the room's thread opens pairs, the relay's threads redeem tickets); the
clock can be given (tests). Bounded: at most `limit` pairs wait, the oldest are dropped.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from net.files.limits import MAX_RELAY_TICKETS, TOKEN_LIFETIME
from net.files.tokens import TokenRefused

if TYPE_CHECKING:
    from net.files.host_cache import HostCache

FETCH, SEND = "fetch", "send"


@dataclass(frozen=True, slots=True)
class Leg:
    """A redeemed ticket: which pair, which side, for the log."""

    pair: str
    role: str  # FETCH or SEND
    offer: str
    fetcher: str
    sender: str


@dataclass(frozen=True, slots=True)
class _Ticket:
    leg: Leg
    expires: float


class RelayDesk:
    """Open pairs of relay tickets (see the module docstring)."""

    def __init__(
        self,
        *,
        lifetime: float = TOKEN_LIFETIME,
        limit: int = MAX_RELAY_TICKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lifetime = lifetime
        self._clock = clock
        self.limit = limit
        self.port = 0  # the relay's port, set when it listens
        self.key = ""  # SHA-256 of the host's certificate (hex), for members to check
        self.cache: HostCache | None = None  # the relay's cache of room-wide offers
        self._lock = threading.Lock()
        self._tickets: OrderedDict[str, _Ticket] = OrderedDict()

    def open(self, offer: str, fetcher: str, sender: str) -> tuple[str, str]:
        """Two fresh tickets for one relayed fetch of `offer`: (the fetcher's, the sender's)."""
        now = self._clock()
        pair = secrets.token_hex(8)
        expires = now + self.lifetime
        fetch_ticket, send_ticket = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self._lock:
            self._expire(now)
            self._tickets[fetch_ticket] = _Ticket(Leg(pair, FETCH, offer, fetcher, sender), expires)
            self._tickets[send_ticket] = _Ticket(Leg(pair, SEND, offer, fetcher, sender), expires)
            while len(self._tickets) > self.limit:
                self._tickets.popitem(last=False)
        return fetch_ticket, send_ticket

    def redeem(self, ticket: object) -> Leg:
        """Use `ticket` once; TokenRefused when it is unknown, used or expired."""
        with self._lock:
            self._expire(self._clock())
            found = self._tickets.pop(ticket, None) if isinstance(ticket, str) else None
        if found is None:
            raise TokenRefused("unknown, used or expired relay ticket")
        return found.leg

    def __len__(self) -> int:
        with self._lock:
            return len(self._tickets)

    def _expire(self, now: float) -> None:
        for ticket in [t for t, held in self._tickets.items() if held.expires <= now]:
            del self._tickets[ticket]
