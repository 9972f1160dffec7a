"""What a member says of itself: typing notices (who is told) and renames (who may)."""

from __future__ import annotations

from net.protocol import events as ev
from net.protocol.nicknames import InvalidNickname, normalize_nick
from net.room.member import Member
from net.room.names import Names
from net.room.outputs import Broadcast, Output, Send
from net.room.remote import RemoteMembers


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


def rename(
    names: Names, member: Member, raw: str, now: float, remote: RemoteMembers | None = None
) -> list[Output]:
    """Give `member` the nickname `raw` if the rules and the others' names allow (here, and
    on the room's other hosts: `remote`), else tell it why not (a `renamed` for everyone)."""
    try:
        nick = normalize_nick(raw)
    except InvalidNickname as exc:
        return [Send(member.peer, ev.Error(code="nick_invalid", text=f"invalid nickname: {exc}"))]
    taken = names.taken(nick, member) or (remote.taken(nick, member.client_id) if remote else "")
    if taken:
        return [Send(member.peer, ev.Error(code="nick_taken", text=taken))]
    if nick == member.nick:
        return []
    old = member.nick
    names.unname(member)
    names.name(member, nick)
    return [Broadcast(ev.Renamed(old=old, new=nick, time=now))]
