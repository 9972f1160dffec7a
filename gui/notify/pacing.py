"""One notification per conversation every few seconds, however busy it is. Pure (clock passed in).

A busy room in the background would otherwise pop a notification for every line. The
messages of one conversation pile up instead: the first is shown at once, the ones arriving
within `MIN_GAP` seconds after it are shown together when the gap has passed ("3 new
messages in Lobby", with the latest one's first line). What waits is one `Pile` per
conversation, and at most `MAX_WAITING` conversations (the oldest is dropped), so memory
stays bounded whatever the network sends.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from gui.model.changes import Incoming

#: Seconds between two notifications of one conversation: long enough that a lively room
#: does not bury the desktop, short enough that a reply a few seconds later is noticed.
MIN_GAP = 4.0
#: Conversations that may have a notification waiting at once (a room and private tabs).
MAX_WAITING = 32


@dataclass(frozen=True, slots=True)
class Pile:
    """What one notification says about one conversation: its latest message, how many came."""

    conversation: str | None  # ROOM or the private conversation's key
    sender: str  # of the latest message (in a private conversation: the other person)
    text: str
    action: bool = False
    private: bool = False
    room: str = ""
    count: int = 1
    offer: bool = False  # the latest is a file offer: `text` says what it holds

    @classmethod
    def of(cls, message: Incoming, room: str, count: int = 1) -> Pile:
        """The pile of `count` messages of one conversation, `message` the latest."""
        return cls(
            message.conversation,
            message.sender,
            message.text,
            message.action,
            message.private,
            room,
            count,
            message.offer,
        )

    def then(self, later: Pile) -> Pile:
        """This pile with `later` on top: its message shown, the two counts added."""
        return dataclasses.replace(later, count=self.count + later.count)


class Pacer:
    """Decides when each conversation's pile is shown. Not thread-safe: its owner locks."""

    def __init__(self, gap: float | None = None, limit: int = MAX_WAITING) -> None:
        self._gap = MIN_GAP if gap is None else gap  # read when made (tests shorten it)
        self._limit = limit
        self._waiting: dict[str | None, Pile] = {}  # in the order they began waiting
        self._shown_at: dict[str | None, float] = {}  # conversations shown within the last gap

    def add(self, pile: Pile) -> None:
        older = self._waiting.pop(pile.conversation, None)
        self._waiting[pile.conversation] = older.then(pile) if older is not None else pile
        while len(self._waiting) > self._limit:
            del self._waiting[next(iter(self._waiting))]

    def forget(self, conversation: str | None) -> None:
        """The user is looking at `conversation`: what waited for it is no longer news."""
        self._waiting.pop(conversation, None)

    def due(self, now: float) -> list[Pile]:
        """The piles to show now (each conversation's gap has passed); they stop waiting."""
        self._shown_at = {key: at for key, at in self._shown_at.items() if now - at < self._gap}
        ready = [pile for key, pile in self._waiting.items() if key not in self._shown_at]
        for pile in ready:
            del self._waiting[pile.conversation]
            self._shown_at[pile.conversation] = now
        return ready

    def wait(self, now: float) -> float | None:
        """Seconds until a waiting pile is due (0: one is due now; None: nothing waits)."""
        if not self._waiting:
            return None
        return max(
            0.0, min(self._shown_at.get(key, now - self._gap) + self._gap - now for key in self._waiting)
        )

    def __len__(self) -> int:
        return len(self._waiting)
