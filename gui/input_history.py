"""Up/Down recall of what the user sent, like a shell (pure and bounded)."""

from __future__ import annotations

from collections import deque

HISTORY_SIZE = 100


class InputHistory:
    """What was sent, newest last; `older`/`newer` walk it while keeping the unsent draft."""

    def __init__(self, size: int = HISTORY_SIZE) -> None:
        self._items: deque[str] = deque(maxlen=size)
        self._position: int | None = None  # index into _items while browsing
        self._draft = ""

    def add(self, text: str) -> None:
        if text.strip() and (not self._items or self._items[-1] != text):
            self._items.append(text)
        self._position = None
        self._draft = ""

    def older(self, current: str) -> str | None:
        """The entry before the one shown (None at the oldest: leave the text alone)."""
        if not self._items:
            return None
        if self._position is None:
            self._draft = current
            self._position = len(self._items)
        if self._position == 0:
            return None
        self._position -= 1
        return self._items[self._position]

    def newer(self) -> str | None:
        """The entry after the one shown; the saved draft after the newest; None when not browsing."""
        if self._position is None:
            return None
        self._position += 1
        if self._position >= len(self._items):
            self._position = None
            return self._draft
        return self._items[self._position]
