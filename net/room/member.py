"""What the room keeps of one member, and how a reconnect proves it is that member."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from dataclasses import dataclass

from net.protocol import events as ev
from net.room.outputs import PeerId
from net.room.ratelimit import Limit


@dataclass(slots=True)
class Member:
    peer: PeerId
    nick: str
    client_id: str
    since: float
    is_host: bool
    limit: Limit
    address: str | None = None  # whose shared budget it draws on
    resume: bytes | None = None  # digest of the session's resume secret (None: it sent none)
    plaintext: bool = False  # connected without encryption
    box: bytes | None = None  # digest of its lasting secret: where messages wait while it is away
    files: bool = False  # it reads `file` notices (its hello said so): only then does it get any
    strikes: int = 0
    strike_window_start: float = 0.0
    #: The message-id hash with this member's client id already absorbed (made on first use).
    id_hash: hashlib.blake2b | None = dataclasses.field(default=None, compare=False, repr=False)

    def info(self) -> ev.MemberInfo:
        return ev.MemberInfo(nick=self.nick, host=self.is_host, since=self.since, plaintext=self.plaintext)


def same_session(kept: bytes | None, given: bytes | None) -> bool:
    """True when a reconnect proves the session: the same secret (or neither has one)."""
    if kept is None or given is None:
        return kept is given
    return hmac.compare_digest(kept, given)
