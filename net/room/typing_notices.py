"""Typing notices: who is told that a member started or stopped typing."""

from __future__ import annotations

from net.protocol import events as ev
from net.room.member import Member
from net.room.names import Names
from net.room.outputs import Broadcast, Output, Send


def typing_notice(names: Names, member: Member, active: bool, to: str | None, moment: float) -> list[Output]:
    """The notice for the room (`to` None) or for one member; nothing over the rate limit
    (typing notices are best effort: over the limit they are just skipped)."""
    if active and member.limit.take(moment):
        return []
    if to is None:
        return [Broadcast(ev.TypingNotice(nick=member.nick, active=active), exclude=member.peer)]
    recipient = names.holder(to)
    if recipient is None or recipient is member:
        return []
    return [Send(recipient.peer, ev.TypingNotice(nick=member.nick, active=active, to=recipient.nick))]
