"""Which messages a client has shown already, so a replayed history shows nothing twice."""

from __future__ import annotations

from collections import deque


class SeenIds:
    """Bounded memory of delivered message ids, so a replayed history shows nothing twice."""

    def __init__(self, limit: int) -> None:
        self._order: deque[str] = deque()
        self._ids: set[str] = set()
        self._limit = limit

    def add(self, message_id: str) -> bool:
        """Remember `message_id`; False when it was already known."""
        if message_id in self._ids:
            return False
        self._ids.add(message_id)
        self._order.append(message_id)
        if len(self._order) > self._limit:
            self._ids.discard(self._order.popleft())
        return True
