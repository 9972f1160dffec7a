"""How the room uses the host's cache of room-wide offers (`net.files.host_cache`).

- `upload` (a sender, no `to`): the sender of a small room-wide offer asks to upload it
  once. The room opens an entry in the cache and answers the sender alone with an
  `upload` notice: a one-time upload ticket, the relay's port and the host's key; or,
  when the cache cannot take it (full, too big, a plain-text host), a `reason` and no
  ticket, and the offer goes the direct way.
- `accept` of a cached offer: the room answers the member itself with a `grant` whose
  token opens the cached copy and whose `port` and `key` are the host's relay's (a grant
  with a port means "fetch from the host"). The sender is told of the accept with the
  relay's port in it (an accept with a port: "the host serves it"), and grants nothing.
  A member's second accept of the same offer goes to the sender as always.
- `cancel` of a room-wide offer: the cached copy is dropped with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from net.files.host_cache import CacheRefused
from net.protocol import events as ev
from net.room.member import Member
from net.room.outputs import Output, Send

if TYPE_CHECKING:
    from net.files.relay_desk import RelayDesk


def answer_upload(sender: Member, step: ev.FileControl, now: float, relay: RelayDesk | None) -> list[Output]:
    """The room's answer to a sender's `upload` step: a ticket, or why not."""

    def notice(reason: str | None = None, token: str | None = None) -> list[Output]:
        port, key = (relay.port, relay.key) if token and relay is not None else (None, None)
        answer = ev.FileNotice(
            op="upload", offer=step.offer, sender=sender.nick, time=now, to=sender.nick,
            token=token, port=port, key=key, reason=reason,
        )  # fmt: skip
        return [Send(sender.peer, answer)]

    cache = relay.cache if relay is not None and relay.port else None
    if cache is None:
        return notice(reason="this host keeps no copies (plain-text room)")
    try:
        return notice(token=cache.open_upload(sender.nick, step.offer, step.size or 0))
    except CacheRefused as exc:
        return notice(reason=str(exc))


def cached_grant(
    member: Member, sender: Member, offer: str, now: float, relay: RelayDesk | None
) -> list[Output]:
    """A grant from the host's copy of `sender`'s `offer` for `member`, or [] (not cached,
    or this member was given one before: its accept goes to the sender)."""
    cache = relay.cache if relay is not None and relay.port else None
    token = cache.grant(sender.nick, offer, member.nick) if cache is not None else None
    if token is None or relay is None:
        return []
    grant = ev.FileNotice(
        op="grant", offer=offer, sender=sender.nick, time=now, to=member.nick,
        token=token, port=relay.port, key=relay.key,
    )  # fmt: skip
    told = ev.FileNotice(
        op="accept", offer=offer, sender=member.nick, time=now, to=sender.nick, port=relay.port
    )
    return [Send(member.peer, grant), Send(sender.peer, told)]


def drop_cached(sender: Member, offer: str, relay: RelayDesk | None) -> None:
    if relay is not None and relay.cache is not None:
        relay.cache.drop(sender.nick, offer)
