"""The one door from network threads into the Tk main loop.

Network threads (a client's reader, a host's threads) call `EventBridge.post` — the only
thread-safe entry point of `gui/` — with plain-data events (frozen dataclasses from
`net.api` and `net.protocol.events`). Nothing Tk-related crosses: no widget, no variable,
no closure over one.

`BridgePump` runs on the main thread: every tick it takes events in chunks sized to fit a
small time budget (from the measured cost per event) and hands each chunk to the window,
then gives the loop back to Tk (redraws, clicks, typing) and comes back after 1 ms if work
is left, or after a short idle poll otherwise. A burst of thousands of messages is
therefore shown in a few dozen ticks while the window stays responsive.

Bounded without ever blocking the network: `post` never waits (only a short lock). Events
that describe a *state* (latency, member list, someone typing) replace their own older
copy still waiting in the queue, so a flood of them costs one slot. Chat messages are never
coalesced or dropped in normal operation; only if the main loop stops draining altogether
and `limit` events pile up are the oldest chat messages folded into one `Overflowed` count,
so memory stays bounded even then.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from gui.model.values import Overflowed
from net.api import LatencyMeasured
from net.files import events as fe
from net.ipmsg.events import IpmsgUsers
from net.protocol import events as ev

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 200_000
MIN_CHUNK = 16
_EMPTY = object()


def coalesce_key(event: object) -> Hashable | None:
    """Events with the same key describe the same state: only the newest one matters."""
    match event:
        case LatencyMeasured():
            return "latency"
        case ev.Members():
            return "members"
        case ev.TypingNotice(nick=nick, to=to):
            return ("typing", nick, to)
        case IpmsgUsers():
            return "ipmsg-users"
        case fe.TransferProgress(sender=sender, offer=offer):  # a transfer's progress: its latest
            return ("transfer", sender, offer)
    return None


def barrier_key(event: object) -> Hashable | None:
    """The state key an event must not be reordered with: a transfer's pause, resume or end
    stays after the progress posted before it (a later progress does not replace that one)."""
    if isinstance(event, fe.TransferPaused | fe.TransferResumed | fe.TransferFinished | fe.TransferFailed):
        return ("transfer", event.sender, event.offer)
    return None


class EventBridge:
    """A thread-safe, never-blocking, bounded queue of events for the main loop."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._lock = threading.Lock()
        self._cells: deque[list[Any]] = deque()  # one-element lists, so a slot can be emptied in place
        self._latest: dict[Hashable, list[Any]] = {}
        self._limit = limit
        self._overflowed = 0
        self.posted = 0  # events accepted since creation (for tests and benchmarks)

    def post(self, event: object) -> None:
        """Queue `event` for the main loop. Thread-safe; never blocks; call from any thread."""
        cell = [event]
        key = coalesce_key(event)
        with self._lock:
            self.posted += 1
            if key is not None:
                older = self._latest.get(key)
                if older is not None:
                    older[0] = _EMPTY  # the newer state replaces it; order among other events kept
                self._latest[key] = cell
            elif (barrier := barrier_key(event)) is not None:
                self._latest.pop(barrier, None)
            self._cells.append(cell)
            if len(self._cells) > self._limit:
                self._fold_oldest_message()

    def take(self, max_events: int) -> list[object]:
        """Up to `max_events` events, oldest first (main thread)."""
        taken: list[object] = []
        with self._lock:
            if self._overflowed:
                taken.append(Overflowed(self._overflowed))
                self._overflowed = 0
            cells = self._cells
            while cells and len(taken) < max_events:
                cell = cells.popleft()
                event = cell[0]
                if event is _EMPTY:
                    continue
                key = coalesce_key(event)
                if key is not None and self._latest.get(key) is cell:
                    del self._latest[key]
                taken.append(event)
        return taken

    def __len__(self) -> int:
        return len(self._cells)

    def _fold_oldest_message(self) -> None:
        """Drop the oldest chat message (lock held); other events are kept in order."""
        kept: list[list[Any]] = []
        while self._cells:
            cell = self._cells.popleft()
            if isinstance(cell[0], ev.ChatMessage):
                self._overflowed += 1
                break
            if cell[0] is not _EMPTY:
                kept.append(cell)
        self._cells.extendleft(reversed(kept))
        if not self._overflowed:
            log.warning("event queue full of non-message events; dropping the oldest")
            self._cells.popleft()


class BridgePump:
    """Drains an `EventBridge` into `handle` from the Tk main loop with ``after()``.

    `handle` receives a list of events (a chunk). A tick ends within `budget` seconds: each
    chunk is sized from the measured cost per event so that it fits in what is left of the
    budget, and no chunk is started that would not fit (except the first of a tick, so that
    there is always progress). Checking the deadline only after a chunk, as a simple pump
    does, lets every tick overrun its budget by up to a whole chunk.
    """

    def __init__(
        self,
        widget: Any,
        bridge: EventBridge,
        handle: Callable[[list[object]], None],
        *,
        chunk: int = 2000,
        budget: float = 0.005,
        idle_ms: int = 15,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._widget = widget
        self._bridge = bridge
        self._handle = handle
        self._chunk = chunk
        self._budget = budget
        self._idle_ms = idle_ms
        self._clock = clock
        self._after_id: str | None = None
        self._stopped = False
        self.per_event = 100e-6  # seconds per event: a cautious guess, then measured (`_learn`)
        self.ticks = 0
        self.longest_tick = 0.0  # seconds (tests and benchmarks)

    @property
    def running(self) -> bool:
        return self._after_id is not None

    def start(self) -> None:
        self._stopped = False
        if self._after_id is None:
            self._after_id = self._widget.after(0, self._tick)

    def stop(self) -> None:
        self._stopped = True
        if self._after_id is not None:
            self._widget.after_cancel(self._after_id)
            self._after_id = None

    def drain_now(self) -> None:
        """Run one tick immediately (tests, and before closing)."""
        self._run_budget()

    def _tick(self) -> None:
        self._after_id = None
        out_of_time = False
        try:
            out_of_time = self._run_budget()
        finally:
            if not self._stopped:
                # Work left over because the budget ran out: come back at once (after Tk has
                # redrawn and handled input). Otherwise wait a little, so that a trickle of
                # events is shown in fewer, larger batches (each Tk call has a fixed cost).
                delay = 1 if out_of_time else self._idle_ms
                self._after_id = self._widget.after(delay, self._tick)

    def _run_budget(self) -> bool:
        """Handle chunks until the queue is empty (False) or the time budget is spent (True).

        Usually one chunk per tick, sized to the whole budget: each chunk has a fixed cost
        (the Tk call, the scroll), so a small trailing chunk costs more per event than the
        estimate says. Another chunk is started only while half the budget is left (the
        estimate was cautious).
        """
        self.ticks += 1
        started = self._clock()
        deadline = started + self._budget
        now = started
        try:
            while True:
                left = deadline - now
                size = min(self._chunk, int(left / self.per_event))
                if now > started and (left < self._budget / 2 or size < MIN_CHUNK):
                    return len(self._bridge) > 0  # the next chunk would not fit
                batch = self._bridge.take(max(MIN_CHUNK, size))
                if not batch:
                    return False
                before = self._clock()
                self._handle(batch)
                now = self._clock()
                self._learn(now - before, len(batch))
        finally:
            self.longest_tick = max(self.longest_tick, self._clock() - started)

    def _learn(self, seconds: float, events: int) -> None:
        """Update the cost per event: up at once (a slow chunk must not be followed by an
        overrun) but at most doubled (one wait for the GIL or the CPU is not a trend), down
        more slowly (one fast chunk is no promise). Wall time, so a busy machine, or network
        threads holding the GIL, make the chunks smaller. Chunks of a few events say more
        about the fixed cost of a call than about the cost per event: skipped."""
        if events < MIN_CHUNK:
            return
        observed = max(1e-6, seconds / events)
        if observed > self.per_event:
            self.per_event = min(observed, 2 * self.per_event)
        else:
            self.per_event += 0.3 * (observed - self.per_event)
