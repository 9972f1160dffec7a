"""What a join asks for, and what the window does when a first join fails. No Tk.

A `JoinRequest` is one attempt's plain data: who joins where, over which transport, which
room code the host must show (from an invite, or accepted after a key warning) and the
room's password. The controller keeps the last one, so a failed join can be tried again
with what the user then gives: `follow_up` says what to ask (the password, or whether to
trust a changed key), as a value the controller hands the window.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

from gui.trust import KeyWarning, Trust, pin_key
from net.addresses import format_address
from net.api import ClientConfig, FailureKind, KeyRejected, Transport
from net.invite import parse_invite


@dataclass(frozen=True, slots=True)
class JoinRequest:
    nick: str
    host: str
    port: int
    transport: Transport
    code: str | None = None  # the room code the host must show (no pin is consulted then)
    password: str | None = None

    @property
    def where(self) -> str:
        """Where the room's key is pinned."""
        return pin_key(self.host, self.port)

    @property
    def address(self) -> str:
        """host:port as the user would type it."""
        return format_address(self.host, self.port)

    def again(self, *, code: str | None = None, password: str | None = None) -> JoinRequest:
        """The same join with the code the user accepted or the password they typed."""
        return dataclasses.replace(
            self, code=code or self.code, password=self.password if password is None else password
        )

    def client_config(self, *, client_id: str, resume_secret: str, trust: Trust) -> ClientConfig:
        """The client's settings for this join: the key it must see (`Trust.pinned`) and
        this installation's mailbox secret (messages kept while it is away)."""
        return ClientConfig(
            host=self.host,
            port=self.port,
            nick=self.nick,
            client_id=client_id,
            resume_secret=resume_secret,
            password=self.password,
            expected_code=self.code,
            pinned=trust.pinned(self.where, self.code),
            mailbox=trust.mailbox(),
            follow_room=True,  # a host back on the other transport (or elsewhere) is found again
            follow_handover=True,  # the room handed over to a successor (docs/PROTOCOL.md, "Handover")
        )


def join_request(nick: str, address: str, default_port: int, transport: Transport) -> JoinRequest:
    """A join to what the user typed or pasted: ``host[:port]`` or an invite
    (``lanchat://HOST:PORT[/udp]#CODE``, whose transport and code then count). Raises
    AddressError when it is neither."""
    invite = parse_invite(address, default_port)
    return JoinRequest(nick, invite.host, invite.port, invite.transport or transport, invite.code)


class AskPassword(NamedTuple):
    """The room needs a password: ask for it (`wrong`: the one given was refused)."""

    address: str
    wrong: bool


class WarnKey(NamedTuple):
    """The room showed another key than expected: warn, and join again only if told to."""

    warning: KeyWarning


FollowUp = AskPassword | WarnKey | None

#: First joins refused for the nickname: the start view then puts the cursor in its field.
NICKNAME_FAILURES = frozenset({FailureKind.NICK_TAKEN, FailureKind.NICK_INVALID})


def follow_up(
    failure: FailureKind | None, rejected: KeyRejected | None, request: JoinRequest | None
) -> FollowUp:
    """What to ask the user after a first join failed with `failure`."""
    if request is None:
        return None
    if rejected is not None:
        return WarnKey(KeyWarning.of(rejected, request.address))
    if failure is FailureKind.PASSWORD:
        return AskPassword(request.address, wrong=request.password is not None)
    return None
