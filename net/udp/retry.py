"""Address validation tokens for the UDP host: QUIC's stateless retry (RFC 9000, 8.1.2).

Anyone can put any source address on a datagram. A host that answered an OPEN with the
room's welcome and history would send a forged address (the victim's) hundreds of times
what the attacker sent: an amplifier. So the host creates a connection only once the
client has shown it receives at the address it claims: it answers an OPEN without a valid
token with a RETRY carrying one, which only the owner of that address receives, and the
client repeats its OPEN with the token (one extra round trip).

The host keeps nothing per token: a token is the time it was issued and a MAC over that
time, the client's address and port, and the connection id, keyed with a secret drawn at
random when the host starts. So a token is good only

- from the address and port it was sent to, for the connection id it was sent for;
- for `lifetime` seconds (a client answers a RETRY within a round trip; one whose OPEN is
  lost for longer just gets a new RETRY);
- from this run of the host (a restart draws a new secret).

Layout (`TOKEN_BYTES`, 16): issued (4 bytes, 0.1 s units since the host started, mod 2**32,
which wraps after 13 years), then the first 12 bytes of HMAC-SHA256(secret, issued | conn_id
| port | host). Forging one takes about 2**96 guesses, each a datagram. Pure code: the
caller passes `now` (monotonic seconds) and the address as the socket reported it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct

from net.addresses import SockAddr
from net.udp.wire import TOKEN_BYTES

#: Seconds a token stays good. A LAN round trip is milliseconds; this leaves room for a few
#: lost OPENs with backoff before a new RETRY is needed.
TOKEN_LIFETIME = 5.0
#: Clock units per second in the token's time stamp.
_TICKS_PER_SECOND = 10
_STAMP = struct.Struct("!I")
_BOUND = struct.Struct("!IQH")  # issued, conn_id, port
_MAC_BYTES = TOKEN_BYTES - _STAMP.size  # 12


class RetryTokens:
    """Issues and checks the tokens of one run of a host."""

    def __init__(self, now: float, *, lifetime: float = TOKEN_LIFETIME, secret: bytes | None = None) -> None:
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._start = now
        self._lifetime_ticks = int(lifetime * _TICKS_PER_SECOND)

    def issue(self, address: SockAddr, conn_id: int, now: float) -> bytes:
        """A token for `conn_id` from `address`, good for the lifetime from `now`."""
        issued = self._ticks(now)
        return _STAMP.pack(issued) + self._mac(issued, address, conn_id)

    def check(self, token: bytes, address: SockAddr, conn_id: int, now: float) -> bool:
        """True when `token` was issued by this host, for this address, port and connection
        id, no longer than the lifetime ago."""
        if len(token) != TOKEN_BYTES:
            return False
        (issued,) = _STAMP.unpack_from(token)
        age = (self._ticks(now) - issued) % 2**32  # a stamp from the future is very old
        if age > self._lifetime_ticks:
            return False
        return hmac.compare_digest(token[_STAMP.size :], self._mac(issued, address, conn_id))

    def _ticks(self, now: float) -> int:
        return int((now - self._start) * _TICKS_PER_SECOND) % 2**32

    def _mac(self, issued: int, address: SockAddr, conn_id: int) -> bytes:
        # The host part as text: IPv4 and IPv6 (with its scope, e.g. "fe80::1%eth0") alike.
        bound = _BOUND.pack(issued, conn_id, address[1]) + str(address[0]).encode("utf-8", "replace")
        return hmac.new(self._secret, bound, hashlib.sha256).digest()[:_MAC_BYTES]
