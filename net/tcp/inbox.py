"""The hand-off from the reader threads (and the accept thread) to the router thread.

Readers append whole batches; the router takes everything pending at once, so one lock
round-trip moves a whole burst. A reader writes a wake-up byte only when the router is
asleep in `select`, which keeps the busy path free of system calls. Counting the received
bytes that wait here lets readers stop reading when the router is behind: overload turns
into TCP back-pressure on the senders instead of unbounded memory.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

#: How often a reader waiting for space re-checks whether the host is stopping.
_SPACE_POLL_SECONDS = 0.5


class Inbox:
    """Thread-safe queue of router work items with back-pressure and a selectable wake-up."""

    def __init__(self, *, total_limit: int, peer_limit: int) -> None:
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        self._items: list[Any] = []
        self._pending = 0
        self._waiters = 0
        self._router_asleep = False
        self._wake_sent = False
        self._closed = False
        self._sealed = False  # the router has finished: it takes no more items
        self._total_limit = total_limit
        self._peer_limit = peer_limit
        self.wake_reader, self._wake_writer = socket.socketpair()
        self.wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)

    # -- producers (any thread) ---------------------------------------------------------

    def put(self, item: Any, *, owner: Any = None, size: int = 0) -> bool:
        """Queue `item`; `size` received bytes are charged to `owner` until `release`.

        Returns False when the router has finished (`seal`): nobody will take `item`.
        """
        with self._lock:
            if self._closed or self._sealed:
                return False
            self._items.append(item)
            if size:
                self._pending += size
                owner.pending_in += size
            if self._router_asleep and not self._wake_sent:
                self._wake_sent = True
                self._send_wake_byte()
            return True

    def wait_for_space(self, owner: Any, stopping: Callable[[], bool]) -> bool:
        """Block a reader while too many received bytes wait for the router; True if it waited."""
        if owner.pending_in <= self._peer_limit and self._pending <= self._total_limit:
            # The common case, checked without the lock the router also takes: a stale value
            # can only let one more `recv` through, which checking under the lock allows too
            # (the bytes arrive after the check either way).
            return False
        waited = False
        with self._lock:
            while (
                (owner.pending_in > self._peer_limit or self._pending > self._total_limit)
                and not self._closed
                and not self._sealed
                and not stopping()
            ):
                waited = owner.paused = True
                self._waiters += 1
                try:
                    self._space.wait(_SPACE_POLL_SECONDS)
                finally:
                    self._waiters -= 1
            owner.paused = False
        return waited

    # -- the router ---------------------------------------------------------------------

    def prepare_to_sleep(self) -> bool:
        """Mark the router asleep unless work is pending; False means do not sleep."""
        with self._lock:
            if self._items:
                return False
            self._router_asleep = True
            return True

    def take_all(self) -> list[Any]:
        """Everything queued so far (the router is awake again after this)."""
        try:
            while self.wake_reader.recv(4096):
                pass
        except OSError:
            pass  # drained (BlockingIOError) or closed
        with self._lock:
            self._router_asleep = False
            self._wake_sent = False
            items, self._items = self._items, []
            return items

    def release(self, sizes: dict[Any, int]) -> None:
        """The router is done with the bytes received from each owner (one lock per round)."""
        with self._lock:
            for owner, size in sizes.items():
                self._pending -= size
                owner.pending_in -= size
            if self._waiters:
                self._space.notify_all()

    # -- shutting down --------------------------------------------------------------------

    @property
    def sealed(self) -> bool:
        """True once the router has finished (`seal`)."""
        return self._sealed

    def seal(self) -> list[Any]:
        """The router's last call: refuse items from now on and return those still queued.

        After this, whoever fails to `put` an item keeps ownership of what it carries (the
        accept thread closes a connection the router will never see).
        """
        with self._lock:
            self._sealed = True
            items, self._items = self._items, []
            self._space.notify_all()
            return items

    def close(self) -> None:
        """Refuse new items and release every waiting reader; the host calls it last."""
        with self._lock:
            self._closed = True
            self._items.clear()
            self._space.notify_all()
            self.wake_reader.close()
            self._wake_writer.close()

    def wake(self) -> None:
        """Wake the router even when nothing was queued (used by `stop`)."""
        with self._lock:
            if not self._closed:
                self._wake_sent = True
                self._send_wake_byte()

    def _send_wake_byte(self) -> None:
        # Under the lock, so `close` cannot close the socket in the middle of it.
        try:
            self._wake_writer.send(b"\0")
        except OSError:
            pass  # a byte is already waiting: the router will wake anyway
