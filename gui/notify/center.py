"""The window's desktop notifications: policy, piles and backend put together. No Tk.

`App` owns one `Notices`. After each batch of network events it calls `offer` with the
batch's live messages and what the window shows (focused or not, which conversation is in
front); the messages that deserve a notification become one `Pile` per conversation for
the backend. A click on a notification comes back as a `NotificationClicked` event through
the window's event bridge (`post`, thread-safe): the main loop then brings the window and
that conversation forward. Nothing here calls Tk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gui.model.changes import Incoming
from gui.notify.backend import DesktopBackend
from gui.notify.pacing import Pile
from gui.notify.policy import should_notify
from gui.settings import Settings
from net.api import EventSink


@dataclass(frozen=True, slots=True)
class NotificationClicked:
    """The user clicked our notification of `conversation` (posted from another thread).

    `nick`: whom a private conversation is with, to open its tab again if it was closed.
    """

    conversation: str | None
    nick: str = ""


class Backend(Protocol):
    def show(self, pile: Pile) -> None: ...
    def forget(self, conversation: str | None) -> None: ...
    def close(self) -> None: ...


BackendFactory = Callable[[Callable[[Pile], None]], Backend]


class Notices:
    """Decides and hands over the window's desktop notifications. Main thread only."""

    def __init__(
        self, settings: Settings, post: EventSink, make_backend: BackendFactory = DesktopBackend
    ) -> None:
        self.settings = settings
        self._post = post
        self._make_backend = make_backend
        self.backend: Backend | None = None  # made for the first notification
        self.handed_over = 0  # piles given to the backend (tests)

    def offer(
        self, incoming: list[Incoming], own_nick: str, room: str, window_focused: bool, in_front: str | None
    ) -> list[Pile]:
        """Notify of the messages in `incoming` that deserve it; returns the piles handed over.

        `in_front`: the conversation whose tab is shown. One pile per conversation and batch
        (a burst arrives in a few batches; the backend paces them further).
        """
        if not self.settings.desktop_notifications or not incoming:
            return []
        latest: dict[str | None, Incoming] = {}  # a burst: only the last line and the count matter
        counts: dict[str | None, int] = {}
        for message in incoming:
            front = message.conversation == in_front
            if should_notify(message, window_focused, front, self.settings, own_nick):
                latest[message.conversation] = message
                counts[message.conversation] = counts.get(message.conversation, 0) + 1
        piles = {key: Pile.of(message, room, counts[key]) for key, message in latest.items()}
        if window_focused and self.backend is not None:
            self.backend.forget(in_front)  # what waited for it is being read now
        if piles:
            if self.backend is None:
                self.backend = self._make_backend(self._clicked)
            for pile in piles.values():
                self.backend.show(pile)
            self.handed_over += len(piles)
        return list(piles.values())

    def _clicked(self, pile: Pile) -> None:
        """The backend's click callback (its thread): only an event for the main loop."""
        self._post(NotificationClicked(pile.conversation, pile.sender if pile.private else ""))

    def close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()
