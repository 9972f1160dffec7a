"""Invites: where a room is, over which transport, and the code of its key.

``lanchat://192.168.1.5:47800#7F3A-91C2-4B8D-E01F-2A6C`` (``/udp`` after the port for a
UDP room). Joining with an invite is authenticated from the very first time: the host
must present the key the code names. A bare ``host[:port]`` is an invite without a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from net.addresses import AddressError, format_address, parse_address
from net.api import Transport
from net.secure.codes import normalize_code

SCHEME = "lanchat"


@dataclass(frozen=True, slots=True)
class Invite:
    host: str
    port: int
    transport: Transport | None = None  # None: not said (the joiner's setting decides)
    code: str | None = None

    def __str__(self) -> str:
        path = "/udp" if self.transport is Transport.UDP else ""
        code = f"#{self.code}" if self.code else ""
        return f"{SCHEME}://{format_address(self.host, self.port)}{path}{code}"


def parse_invite(text: str, default_port: int) -> Invite:
    """An invite from what a user pasted or typed; AddressError with a sentence if it is none."""
    text = text.strip()
    if not text.lower().startswith(f"{SCHEME}://"):
        host, port = parse_address(text, default_port)
        return Invite(host, port)
    parts = urlsplit(text)
    host, port = parse_address(parts.netloc, default_port)
    path = parts.path.strip("/").lower()
    if path not in ("", "tcp", "udp"):
        raise AddressError(f"{path!r} is not a transport (tcp or udp)")
    code = None
    if parts.fragment:
        code = normalize_code(parts.fragment)
        if code is None:
            raise AddressError(f"{parts.fragment!r} is not a room code (five groups of four: 7F3A-91C2-...)")
    return Invite(host, port, Transport(path) if path else None, code)
