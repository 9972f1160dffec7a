"""One-time tokens: who may fetch which offer, once, soon.

A sender grants a token when a member accepts its offer (the accept reaches it through
the host, which names the member: nobody can accept in another's name). The token goes
back to that member alone over the encrypted chat, and the transfer stream must present
it with the same offer id and member name within TOKEN_LIFETIME; it works once. Guessing
one is hopeless (192 random bits), and a token seen by another member does not work
under that member's name. Pure: the clock is passed in.
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from net.files.limits import MAX_PENDING_TOKENS, TOKEN_LIFETIME


class TokenRefused(Exception):
    """The token does not open this offer for this member (the text says why, for logs)."""


@dataclass(frozen=True, slots=True)
class Grant:
    offer: str
    member: str
    expires: float


class Grants:
    """The tokens a sender has granted and not seen used (bounded, oldest dropped first)."""

    def __init__(self, *, lifetime: float = TOKEN_LIFETIME, limit: int = MAX_PENDING_TOKENS) -> None:
        self.lifetime = lifetime
        self.limit = limit
        self._grants: OrderedDict[str, Grant] = OrderedDict()

    def __len__(self) -> int:
        return len(self._grants)

    def grant(self, offer: str, member: str, now: float) -> str:
        """A fresh token for `member` to fetch `offer` once before `now + lifetime`."""
        self._expire(now)
        token = secrets.token_urlsafe(24)
        self._grants[token] = Grant(offer, member, now + self.lifetime)
        while len(self._grants) > self.limit:
            self._grants.popitem(last=False)
        return token

    def redeem(self, token: str, offer: str, member: str, now: float) -> None:
        """Use `token` (it is gone afterwards, whatever the verdict); TokenRefused unless it
        was granted to `member` for `offer` and has not expired."""
        self._expire(now)
        grant = self._grants.pop(token, None) if isinstance(token, str) else None
        if grant is None:
            raise TokenRefused("unknown, used or expired token")
        same_offer = hmac.compare_digest(grant.offer.encode(), offer.encode())
        same_member = hmac.compare_digest(grant.member.encode(), member.encode())
        if not (same_offer and same_member):
            raise TokenRefused("the token was granted for another offer or member")

    def withdraw(self, offer: str) -> None:
        """Forget every token of `offer` (cancelled)."""
        for token in [t for t, g in self._grants.items() if g.offer == offer]:
            del self._grants[token]

    def _expire(self, now: float) -> None:
        for token in [t for t, g in self._grants.items() if g.expires <= now]:
            del self._grants[token]
