"""Showing notifications on the desktop, from a worker thread of its own. No Tk.

The library is `desktop-notifier` (maintained; one API over the freedesktop D-Bus service on
Linux, WinRT toasts on Windows and the Notification Center on macOS, with click callbacks on
all three). It is asyncio-based, so the worker thread runs an event loop of its own, and it
is imported there, the first time a notification is due: nothing of it (nor asyncio) is
loaded while the window starts (measured: 120-150 ms of imports here).

The window hands piles over with `show`, which never blocks (a short lock around the
`Pacer`, which bounds what waits). The worker shows what is due, replacing the previous
notification of the same conversation, so a busy conversation keeps one on the desktop. A
click calls `on_click` with the pile, in the worker's (or the platform's) thread: the owner
only posts an event there. With no notification service (no D-Bus session, a macOS build
outside an app bundle, a Windows without toasts) the first attempt logs one debug line and
the backend quietly drops everything after it: no dialog, no error.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from gui.notify.pacing import Pacer, Pile
from gui.notify.wording import toast_text
from gui.resources import asset_path

log = logging.getLogger(__name__)
library_log = logging.getLogger("desktop_notifier")

APP_NAME = "LanChat"
ICON = "icons/lanchat-64.png"
#: Seconds to reach the notification service the first time (a D-Bus round trip or two).
OPEN_TIMEOUT = 5.0
#: Seconds one call to the service may take before it is given up.
CALL_TIMEOUT = 3.0
#: Seconds `close` waits for the worker to finish.
JOIN_TIMEOUT = 5.0
#: How long the desktop shows a notification, in seconds (-1: the desktop's default).
SHOW_SECONDS = -1
#: Notifications remembered for their clicks (one per conversation is on the desktop).
MAX_REMEMBERED = 64


class DesktopBackend:
    """Shows `Pile`s as desktop notifications; owns its worker thread (started on first use)."""

    def __init__(
        self,
        on_click: Callable[[Pile], None],
        *,
        pacer: Pacer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_click = on_click
        self._pacer = pacer if pacer is not None else Pacer()  # (an empty one is falsy)
        self._clock = clock
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: Any = None  # the worker's asyncio loop, once it runs
        self._wake: Any = None  # its asyncio.Event: something new to show, or stop
        self._stopping = False
        self._shown: dict[str | None, str] = {}  # conversation -> identifier on the desktop
        self._piles: dict[str, Pile] = {}  # identifier -> what it showed (for clicks)
        self.available: bool | None = None  # None until the service was tried
        self.sent = 0  # notifications handed to the service (tests)

    # -- the owner's side (main thread) ---------------------------------------------------------

    def show(self, pile: Pile) -> None:
        """Show `pile` when its conversation's turn comes. Never blocks; drops it when the
        desktop has no notification service."""
        if self.available is False or self._stopping:
            return
        with self._lock:
            self._pacer.add(pile)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="desktop-notifications", daemon=True)
            self._thread.start()
        else:
            self._poke()

    def forget(self, conversation: str | None) -> None:
        """The user is looking at `conversation`: drop what waits for it."""
        with self._lock:
            self._pacer.forget(conversation)

    def close(self) -> None:
        """Stop the worker (our notifications are taken off the desktop) and join it."""
        self._stopping = True
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._poke()
        thread.join(JOIN_TIMEOUT)
        if thread.is_alive():
            log.warning("the desktop notification thread did not stop within %s s", JOIN_TIMEOUT)

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return  # not running yet: it looks at the pacer before it first waits
        try:
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:
            pass  # the loop has just closed

    # -- the worker thread -----------------------------------------------------------------------

    def _run(self) -> None:
        import asyncio

        try:
            asyncio.run(self._serve())
        except Exception:
            log.exception("desktop notifications stopped")
        finally:
            self._loop = self._wake = None

    async def _serve(self) -> None:
        import asyncio

        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()  # from now on `show` wakes us
        notifier = await self._open()
        if notifier is None:
            return
        try:
            while not self._stopping:
                with self._lock:
                    due = self._pacer.due(self._clock())
                for pile in due:
                    await self._send(notifier, pile)
                with self._lock:
                    wait = self._pacer.wait(self._clock())
                if wait == 0:
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            await self._shut(notifier)

    async def _open(self) -> Any:
        """The library's notifier, or None (one debug line) when there is no service."""
        import asyncio

        try:
            from desktop_notifier import DesktopNotifier, Icon

            # Its debug lines quote the notification (message text): never in our logs. While
            # it looks for a service, not even its warnings (a macOS program outside an app
            # bundle gets one): finding none is worth our one debug line, no more.
            library_log.setLevel(logging.ERROR)
            notifier = DesktopNotifier(app_name=APP_NAME, app_icon=Icon(path=asset_path(ICON)))
            notifier.on_clicked = self._clicked
            if not await asyncio.wait_for(notifier.get_capabilities(), OPEN_TIMEOUT):
                raise RuntimeError("no notification service")
        except Exception as exc:
            log.debug("no desktop notifications on this desktop: %s", str(exc) or type(exc).__name__)
            self.available = False
            with self._lock:
                self._pacer = Pacer()  # what waited is dropped
            return None
        library_log.setLevel(logging.WARNING)  # a notification that fails from now on is logged
        self.available = True
        return notifier

    async def _send(self, notifier: Any, pile: Pile) -> None:
        import asyncio
        import html  # here, not at start-up: its entity table costs a few ms to load

        title, body = toast_text(pile)
        if sys.platform.startswith("linux"):
            body = html.escape(body, quote=False)  # the freedesktop body is markup: show it as text
        previous = self._shown.pop(pile.conversation, None)
        try:
            if previous is not None:
                with self._lock:
                    self._piles.pop(previous, None)
                await asyncio.wait_for(notifier.clear(previous), CALL_TIMEOUT)
        except Exception as exc:  # already closed by the user, or clicked
            log.debug("could not take a notification back: %s", type(exc).__name__)
        try:
            identifier = await asyncio.wait_for(
                notifier.send(title=title, message=body, timeout=SHOW_SECONDS), CALL_TIMEOUT
            )
        except Exception as exc:
            log.info("a desktop notification could not be shown: %s", type(exc).__name__)
            return
        self.sent += 1
        self._shown[pile.conversation] = identifier
        with self._lock:
            self._piles[identifier] = pile
            _keep_newest(self._piles)  # the oldest stay on the desktop, no longer clickable
        _keep_newest(self._shown)

    def _clicked(self, identifier: str) -> None:
        """The library's click callback (any thread): hand the pile to the owner."""
        with self._lock:
            pile = self._piles.get(identifier)
        if pile is not None:
            self._on_click(pile)

    async def _shut(self, notifier: Any) -> None:
        """Take our notifications off the desktop (a click could no longer do anything) and
        close the connection to the service."""
        import asyncio

        try:
            await asyncio.wait_for(notifier.clear_all(), CALL_TIMEOUT)
        except Exception as exc:
            log.debug("could not clear the notifications: %s", type(exc).__name__)
        bus = getattr(getattr(notifier, "_backend", None), "bus", None)  # the D-Bus connection (Linux)
        if bus is not None:
            bus.disconnect()
            try:
                await asyncio.wait_for(bus.wait_for_disconnect(), CALL_TIMEOUT)
            except Exception:
                pass  # closed either way


def _keep_newest(table: dict[Any, Any]) -> None:
    """Drop the oldest entries of `table` beyond `MAX_REMEMBERED`."""
    while len(table) > MAX_REMEMBERED:
        del table[next(iter(table))]
