"""Keeping a finished session's events away from the next one. No Tk.

Every client posts to the one event bridge, and events wait there until the main loop
drains it. When the user leaves and joins again at once (or joins again after a refused
key or password), the old client's last events may still be queued when the new session
starts: its "disconnected" would read as the new join failing. So each session posts
through a `SessionGate` sink of its own: closing it stops whatever the old client still
posts, and queues a marker behind what it already posted; until the marker comes out of
the queue, `fresh` drops the events in front of it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from net.api import EventSink


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """Queued behind a closed session's last event (never shown)."""


class _Sink:
    def __init__(self, post: EventSink) -> None:
        self._post = post
        self._lock = threading.Lock()
        self.open = True

    def __call__(self, event: object) -> None:  # any thread; the bridge's post never blocks
        with self._lock:
            if self.open:
                self._post(event)

    def shut(self) -> None:
        with self._lock:  # an event being posted now is queued before what comes next
            self.open = False


class SessionGate:
    """Hands each session a sink; main thread, except the sinks themselves (thread-safe)."""

    def __init__(self, post: EventSink) -> None:
        self._post = post
        self._sink: _Sink | None = None
        self._ended = 0  # markers still in the queue

    def sink(self) -> EventSink:
        """The current session's sink (a new one after `close`), for its client and host."""
        if self._sink is None:
            self._sink = _Sink(self._post)
        return self._sink

    def close(self) -> None:
        """The session ends: nothing more from it (call before closing its client)."""
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.shut()
            self._ended += 1
            self._post(SessionEnded())

    def fresh(self, batch: list[object]) -> list[object]:
        """The events of `batch` that belong to the current session, in order."""
        kept: list[object] = []
        for event in batch:
            if isinstance(event, SessionEnded):
                self._ended -= 1
            elif not self._ended:
                kept.append(event)
        return kept
