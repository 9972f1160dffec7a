"""Private messages for members who are away: kept by the room, given back on return.

IP Messenger's users know "delayed send": a message to someone who is not there waits
until they are. Here the room keeps it. A member that announces a lasting secret in its
hello (`Hello.mailbox`, the same for every run of one installation) has a *box*: the
digest of that secret. When the member leaves (or its PC drops), the room remembers its
nickname and box for a while; a private message to that nickname then goes into the box
instead of being refused, its sender is told it waits (`held`), and whoever presents the
secret again is given it (`mail`, answered with `got`), whatever nickname it now uses.
The sender, if present, hears of the delivery (`delivered`).

Everything is bounded: per box, in all, by age (expired messages are dropped), and the
number of departures remembered. Nothing here touches a disk: every change is also
written to `changes`, which the host's journal takes after each round (`net.host.journal`)
so that what a sender was told is held survives a host crash.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from net.protocol import events as ev
from net.protocol.limits import (
    DEFAULT_MAIL_EXPIRY_SECONDS,
    DEFAULT_MAIL_PER_MEMBER,
    DEFAULT_MAIL_TOTAL,
    MAIL_FRAME_BUDGET,
    MAX_AWAY_MEMBERS,
    MAX_MAIL_IN_FRAME,
)
from net.room.replay import size_bound


@dataclass(frozen=True, slots=True)
class Away:
    """A member that left with a box: messages to `nick` wait in `box`."""

    nick: str
    box: bytes
    since: float


@dataclass(frozen=True, slots=True)
class Kept:
    """A private message waiting in `box` until `expires`; `sender_box` is told of delivery."""

    box: bytes
    message: ev.ChatMessage
    sender_box: bytes
    expires: float


@dataclass(frozen=True, slots=True)
class Departed:
    """Change: `away` left (replacing what was known of its nickname)."""

    away: Away


@dataclass(frozen=True, slots=True)
class Returned:
    """Change: the owner of `box` is back: its departure is forgotten."""

    box: bytes


@dataclass(frozen=True, slots=True)
class Stored:
    """Change: `kept` waits."""

    kept: Kept


@dataclass(frozen=True, slots=True)
class Removed:
    """Change: the kept message `msg_id` is gone (delivered or expired)."""

    msg_id: str


Change = Departed | Returned | Stored | Removed


@dataclass(slots=True)
class MailLimits:
    per_member: int = DEFAULT_MAIL_PER_MEMBER
    total: int = DEFAULT_MAIL_TOTAL
    expiry: float = DEFAULT_MAIL_EXPIRY_SECONDS
    away_members: int = MAX_AWAY_MEMBERS


class MailboxFull(Exception):
    """The message cannot be kept: the recipient's box or the room's store is full."""


class Mailbox:
    """The room's kept messages and departures. Not thread-safe: the room's owner serialises calls."""

    def __init__(self, limits: MailLimits | None = None) -> None:
        self.limits = limits or MailLimits()
        self._away: OrderedDict[str, Away] = OrderedDict()  # by nickname key, oldest first
        self._away_key: dict[bytes, str] = {}  # each box's key in `_away`
        self._boxes: dict[bytes, deque[Kept]] = {}
        self._count = 0
        self._next_expiry = float("inf")
        #: What changed since the journal last took it (None: nobody keeps a journal).
        self.changes: list[Change] | None = None

    def __len__(self) -> int:
        """Messages kept, in all boxes."""
        return self._count

    # -- what the room asks ---------------------------------------------------------------

    def away(self, nick: str) -> Away | None:
        """The departure under the nickname `nick`, if one is remembered."""
        return self._away.get(nick_key(nick))

    def left(self, nick: str, box: bytes, now: float) -> None:
        """The member `nick` with `box` left at `now`."""
        self._forget_box(box)
        key = nick_key(nick)
        earlier = self._away.pop(key, None)
        if earlier is not None:  # someone else left under this nickname before
            del self._away_key[earlier.box]
        away = Away(nick, box, now)
        self._away[key] = away
        self._away_key[box] = key
        self._note(Departed(away))
        while len(self._away) > self.limits.away_members:
            self._forget_oldest()

    def returned(self, box: bytes) -> list[ev.Mail]:
        """The owner of `box` is back: its departure is forgotten, and its kept messages
        come as `mail` frames (they stay kept until it says `got`)."""
        if self._forget_box(box):
            self._note(Returned(box))
        kept = self._boxes.get(box)
        return list(_mail_frames(k.message for k in kept)) if kept else []

    def keep(self, box: bytes, message: ev.ChatMessage, sender_box: bytes, now: float) -> Kept:
        """Keep `message` for the owner of `box`; raises `MailboxFull` when it cannot."""
        self.expire(now)
        kept_here = self._boxes.get(box)
        if kept_here is not None and len(kept_here) >= self.limits.per_member:
            raise MailboxFull(f"{message.to} has {self.limits.per_member} messages waiting already")
        if self._count >= self.limits.total:
            raise MailboxFull("this room keeps no more messages for members who are away")
        kept = Kept(box, message, sender_box, now + self.limits.expiry)
        self._boxes.setdefault(box, deque()).append(kept)
        self._count += 1
        self._next_expiry = min(self._next_expiry, kept.expires)
        self._note(Stored(kept))
        return kept

    def got(self, box: bytes, ids: Iterable[str]) -> list[Kept]:
        """The owner of `box` has the messages `ids`: they are forgotten, and returned."""
        kept_here = self._boxes.get(box)
        if not kept_here:
            return []
        wanted = set(ids)
        gone = [k for k in kept_here if k.message.id in wanted]
        if gone:
            remaining = deque(k for k in kept_here if k.message.id not in wanted)
            self._replace(box, remaining)
            for kept in gone:
                self._note(Removed(kept.message.id))
        return gone

    def expire(self, now: float) -> int:
        """Drop what has expired by `now`; how many messages that was."""
        if now < self._next_expiry:
            return 0
        dropped = 0
        self._next_expiry = float("inf")
        for box, kept_here in list(self._boxes.items()):
            remaining = deque(k for k in kept_here if k.expires > now)
            for kept in kept_here:
                if kept.expires <= now:
                    self._note(Removed(kept.message.id))
            dropped += len(kept_here) - len(remaining)
            self._replace(box, remaining)
            for kept in remaining:
                self._next_expiry = min(self._next_expiry, kept.expires)
        horizon = now - self.limits.expiry
        while self._away and next(iter(self._away.values())).since <= horizon:
            self._forget_oldest()
        return dropped

    # -- restoring after a restart ----------------------------------------------------------

    def restore(self, departures: Iterable[Away], kept: Iterable[Kept]) -> None:
        """Take back what a journal held (oldest first), without noting it as changes."""
        changes, self.changes = self.changes, None
        for away in departures:
            self._forget_box(away.box)
            self._away[nick_key(away.nick)] = away
            self._away_key[away.box] = nick_key(away.nick)
        for item in kept:
            self._boxes.setdefault(item.box, deque()).append(item)
            self._count += 1
            self._next_expiry = min(self._next_expiry, item.expires)
        self.changes = changes

    def take_changes(self) -> list[Change]:
        """What changed since the last call (for the journal)."""
        changes = self.changes
        if not changes:
            return []
        self.changes = []
        return changes

    # -- internals --------------------------------------------------------------------------

    def _note(self, change: Change) -> None:
        if self.changes is not None:
            self.changes.append(change)

    def _forget_box(self, box: bytes) -> bool:
        key = self._away_key.pop(box, None)
        if key is None:
            return False
        del self._away[key]
        return True

    def _forget_oldest(self) -> None:
        _, oldest = self._away.popitem(last=False)
        del self._away_key[oldest.box]
        self._note(Returned(oldest.box))

    def _replace(self, box: bytes, remaining: deque[Kept]) -> None:
        before = len(self._boxes.get(box, ()))
        if remaining:
            self._boxes[box] = remaining
        else:
            self._boxes.pop(box, None)
        self._count -= before - len(remaining)


def nick_key(nick: str) -> str:
    return nick.casefold()


def _mail_frames(messages: Iterable[ev.ChatMessage]) -> Iterable[ev.Mail]:
    """`messages` in `mail` frames, each within the frame's count and size budget."""
    frame: list[ev.ChatMessage] = []
    budget = MAIL_FRAME_BUDGET
    for message in messages:
        size = size_bound(message)
        if frame and (len(frame) >= MAX_MAIL_IN_FRAME or size > budget):
            yield ev.Mail(messages=tuple(frame))
            frame, budget = [], MAIL_FRAME_BUDGET
        frame.append(message)
        budget -= size
    if frame:
        yield ev.Mail(messages=tuple(frame))
