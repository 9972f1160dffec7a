"""The room's rules for members who are away, over its `Mailbox` (`net.room.mailbox`).

Kept apart from `Room` so the room reads as the live chat; it calls these at the three
moments that matter: a private message to an absent nickname, a member's return, and a
member's `got`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from net.protocol import events as ev
from net.room.mailbox import Mailbox, MailboxFull
from net.room.member import Member
from net.room.outputs import Output, Send


def hold(
    mailbox: Mailbox, sender: Member, say: ev.Say, make_id: Callable[[], str], text: str, now: float
) -> list[Output] | None:
    """Keep `say` for the absent member it names, or None when nobody by that name is away
    with a box (or the sender cannot read `held`: it announced no box of its own)."""
    assert say.to is not None
    away = mailbox.away(say.to)
    if away is None or sender.box is None:
        return None
    msg_id = make_id()
    message = ev.build_message(msg_id, sender.nick, text, now, away.nick, say.action)
    try:
        kept = mailbox.keep(away.box, message, sender.box, now)
    except MailboxFull as exc:
        return [Send(sender.peer, ev.Error(code="mailbox_full", text=str(exc)[:300], ref=say.id))]
    held = ev.Held(id=say.id, msg_id=msg_id, time=now, to=away.nick, expires=kept.expires)
    return [Send(sender.peer, held)]


def welcome_back(mailbox: Mailbox, member: Member, now: float) -> list[Output]:
    """What waits for `member` (just welcomed at `now`), as `mail` frames."""
    if member.box is None:
        return []
    mailbox.expire(now)
    return [Send(member.peer, mail) for mail in mailbox.returned(member.box)]


def got(
    mailbox: Mailbox, member: Member, ids: Iterable[str], members: Iterable[Member], now: float
) -> list[Output]:
    """`member` has the kept messages `ids`: forget them and tell their senders who are here."""
    if member.box is None:
        return []
    gone = mailbox.got(member.box, ids)
    if not gone:
        return []
    senders = {m.box: m for m in members if m.box is not None}
    outputs: list[Output] = []
    for kept in gone:
        sender = senders.get(kept.sender_box)
        if sender is not None:
            outputs.append(
                Send(
                    sender.peer,
                    ev.Delivered(msg_id=kept.message.id, to=kept.message.to or member.nick, time=now),
                )
            )
    return outputs
