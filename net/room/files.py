"""How the room passes on the steps of a file transfer (offers, answers, grants).

The room relays the control of a transfer, never its bytes (those go over their own TLS
stream, docs/PROTOCOL.md "File transfers"). It stamps who sent each step, so nobody can
accept, decline or be granted in another member's name, and adds the sender's address as
the host sees it to an offer, so the receiver knows where to fetch from. An offer or a
cancel without `to` goes to every other member; every other step goes to one member.
"""

from __future__ import annotations

from collections.abc import Callable

from net.protocol import events as ev
from net.room.member import Member
from net.room.outputs import Broadcast, Output, Send

#: The steps of a transfer, and those that may go to the whole room.
FILE_OPS = frozenset(("offer", "accept", "decline", "cancel", "grant"))
ROOM_WIDE_OPS = frozenset(("offer", "cancel"))


def route_file_step(
    member: Member, step: ev.FileControl, holder: Callable[[str], Member | None], now: float
) -> list[Output]:
    """The outputs that pass `step` from `member` on (or tell it why not)."""
    if step.op not in FILE_OPS:
        return _refuse(member, "bad_field", f"unknown file step {step.op[:20]!r}")
    recipient = None
    if step.to is not None:
        recipient = holder(step.to)
        if recipient is None:
            return _refuse(member, "no_such_member", f"{step.to} is not here")
    elif step.op not in ROOM_WIDE_OPS:
        return _refuse(member, "bad_field", f"a file {step.op} needs a member to go to")
    notice = ev.FileNotice(
        op=step.op,
        offer=step.offer,
        sender=member.nick,
        time=now,
        to=recipient.nick if recipient else None,
        names=step.names,
        count=step.count,
        size=step.size,
        port=step.port,
        key=step.key,
        token=step.token,
        reason=step.reason,
        address=member.address if step.op == "offer" else None,
    )
    if recipient is None:
        return [Broadcast(notice, exclude=member.peer)]
    return [Send(recipient.peer, notice)]


def _refuse(member: Member, code: str, text: str) -> list[Output]:
    return [Send(member.peer, ev.Error(code=code, text=text))]
