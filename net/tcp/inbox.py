"""Work for the router thread from other threads: new connections and the stop request.

The accept thread and `stop()` append items; the router takes everything pending at once.
A wake-up byte is written only when the router is asleep in `select`, so a busy router is
never interrupted by a system call of ours.
"""

from __future__ import annotations

import threading
from typing import Any

from net.wakeup import Wakeup


class Inbox:
    """Thread-safe queue of router work items with a selectable wake-up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Any] = []
        self._router_asleep = False
        self._wake_sent = False
        self._closed = False
        self._sealed = False  # the router has finished: it takes no more items
        self._wakeup = Wakeup()
        self.wake_reader = self._wakeup.reader

    # -- producers (any thread) ---------------------------------------------------------

    def put(self, item: Any) -> bool:
        """Queue `item`; False when the router has finished (`seal`): nobody will take it."""
        with self._lock:
            if self._closed or self._sealed:
                return False
            self._items.append(item)
            if self._router_asleep and not self._wake_sent:
                self._wake_sent = True
                self._send_wake_byte()
            return True

    def wake(self) -> None:
        """Wake the router even when nothing was queued (used by `stop`)."""
        with self._lock:
            if not self._closed:
                self._wake_sent = True
                self._send_wake_byte()

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
        if self._wake_sent:
            self._wakeup.drain()
        with self._lock:
            self._router_asleep = False
            self._wake_sent = False
            items, self._items = self._items, []
            return items

    # -- shutting down --------------------------------------------------------------------

    def seal(self) -> list[Any]:
        """The router's last call: refuse items from now on and return those still queued.

        After this, whoever fails to `put` an item keeps ownership of what it carries (the
        accept thread closes a connection the router will never see).
        """
        with self._lock:
            self._sealed = True
            items, self._items = self._items, []
            return items

    def close(self) -> None:
        """Refuse new items and close the wake-up sockets; the host calls it last."""
        with self._lock:
            self._closed = True
            self._items.clear()
            self._wakeup.close()

    def _send_wake_byte(self) -> None:
        self._wakeup.wake()  # under the lock, so `close` cannot close the socket in the middle
