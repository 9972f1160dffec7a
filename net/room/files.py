"""How the room passes on the steps of a file transfer (offers, answers, grants).

The room relays the control of a transfer, never its bytes (those go over their own TLS
stream, docs/PROTOCOL.md "File transfers"). It stamps who sent each step, so nobody can
accept, decline or be granted in another member's name, and adds the sender's address as
the host sees it to an offer, so the receiver knows where to fetch from. An offer or a
cancel without `to` goes to every other member; every other step goes to one member.

Only members whose hello announced `files` get `file` notices (an older client would count
the unknown kind as a protocol error, and enough of those disconnect it): a room-wide
step skips the others, a step to one of them is refused to its sender with
`files_unsupported` (`ref`: the offer id), and a member that did not announce it cannot
send steps (it could not read the answers).

A `relay` step (a receiver could not reach the sender's port) is answered by the room
itself when the host runs a relay (`net.files.relay`): it opens a pair of relay tickets
and sends each side its own, with the relay's port and the host's key; without a relay
the receiver is told so at once. An `upload` step, and the accepts of an offer the host
keeps a copy of, are answered by the room too (`net.room.file_cache`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from net.protocol import events as ev
from net.room.file_cache import answer_upload, cached_grant, drop_cached
from net.room.member import Member
from net.room.outputs import Output, Send

if TYPE_CHECKING:
    from net.files.relay_desk import RelayDesk

#: The steps of a transfer, and those that may go to the whole room.
FILE_OPS = frozenset(("offer", "accept", "decline", "cancel", "grant", "relay", "pause", "resume", "upload"))
ROOM_WIDE_OPS = frozenset(("offer", "cancel", "upload"))


def route_file_step(
    member: Member,
    step: ev.FileControl,
    holder: Callable[[str], Member | None],
    now: float,
    relay: RelayDesk | None = None,
    members: Iterable[Member] = (),
) -> list[Output]:
    """The outputs that pass `step` from `member` on (or tell it why not); `members`: the
    room's, for a room-wide step."""
    if not member.files:
        return _refuse(member, "not_allowed", "file steps need `files` in the hello")
    if step.op not in FILE_OPS:
        return _refuse(member, "bad_field", f"unknown file step {step.op[:20]!r}")
    recipient = None
    if step.to is not None:
        recipient = holder(step.to)
        if recipient is None:
            return _refuse(member, "no_such_member", f"{step.to} is not here")
        if not recipient.files:
            why = f"{recipient.nick}'s LanChat cannot receive files (an older version or a text client)"
            return _refuse(member, "files_unsupported", why, step.offer)
    elif step.op not in ROOM_WIDE_OPS:
        return _refuse(member, "bad_field", f"a file {step.op} needs a member to go to")
    if step.op == "relay":
        assert recipient is not None
        return _pair(member, recipient, step.offer, now, relay)
    if step.op == "upload":  # answered by the room: the host's cache (net.room.file_cache)
        return answer_upload(member, step, now, relay)
    if step.op == "accept" and recipient is not None:
        granted = cached_grant(member, recipient, step.offer, now, relay)
        if granted:
            return granted
    if step.op == "cancel" and recipient is None:
        drop_cached(member, step.offer, relay)
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
        return [Send(other.peer, notice) for other in members if other.files and other is not member]
    return [Send(recipient.peer, notice)]


def _pair(fetcher: Member, sender: Member, offer: str, now: float, relay: RelayDesk | None) -> list[Output]:
    """Relay tickets for `fetcher` to fetch `sender`'s `offer` through the host."""
    if relay is None or not relay.port:
        why = "this host runs no relay (plain-text room)"
        return [
            Send(
                fetcher.peer, ev.FileNotice(op="relay", offer=offer, sender=sender.nick, time=now, reason=why)
            )
        ]
    fetch_ticket, send_ticket = relay.open(offer, fetcher.nick, sender.nick)

    def ticket(to: Member, other: Member, token: str) -> ev.FileNotice:
        return ev.FileNotice(
            op="relay",
            offer=offer,
            sender=other.nick,
            time=now,
            to=to.nick,
            token=token,
            port=relay.port,
            key=relay.key,
        )

    return [
        Send(sender.peer, ticket(sender, fetcher, send_ticket)),
        Send(fetcher.peer, ticket(fetcher, sender, fetch_ticket)),
    ]


def _refuse(member: Member, code: str, text: str, ref: str | None = None) -> list[Output]:
    return [Send(member.peer, ev.Error(code=code, text=text, ref=ref))]
