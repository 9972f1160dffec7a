"""Getting the user's attention while the window is in the background.

New messages put a count in the title ("(3) LanChat") and ask the desktop to flag the
window: FlashWindowEx on Windows, the ICCCM urgency hint on X11 (what taskbars show as a
flashing or highlighted entry), and on macOS the bell (Tk offers no dock bounce). Sounds
ring the bell. Each part follows a setting; all of it stops when the window gets focus.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import time
import tkinter as tk
from collections.abc import Callable

from gui.settings import Settings

log = logging.getLogger(__name__)


TITLE_INTERVAL = 0.25
BELL_INTERVAL = 2.0


def titled(base: str, unread: int) -> str:
    return f"({unread}) {base}" if unread else base


class Attention:
    """Tracks focus and the unread count; owns the title's count and the urgency flag."""

    def __init__(self, root: tk.Tk, settings: Settings, base_title: Callable[[], str]) -> None:
        self.root = root
        self.settings = settings
        self._base_title = base_title
        self.unread = 0
        self.focused = True
        self.flagged = False
        self.rings = 0  # bells rung (tests)
        # The window owns these root bindings (replaced, not added: one Attention per root).
        root.bind("<FocusIn>", self._on_focus_change)
        root.bind("<FocusOut>", self._on_focus_change)
        self._after_id: str | None = None
        self._title_after: str | None = None
        self._last_bell = -BELL_INTERVAL

    def close(self) -> None:
        """Drop the bindings and clear the count and the flag (the window is going away)."""
        self.root.unbind("<FocusIn>")
        self.root.unbind("<FocusOut>")
        for name in ("_after_id", "_title_after"):
            after_id = getattr(self, name)
            if after_id is not None:
                self.root.after_cancel(after_id)
                setattr(self, name, None)
        self.unread = 0
        self._flag(False)

    def _on_focus_change(self, _event: tk.Event) -> None:
        # The event may concern any widget; ask Tk whether the application has focus at all.
        if self._after_id is None:
            self._after_id = self.root.after_idle(self._check_focus)

    def _check_focus(self) -> None:
        self._after_id = None
        try:
            focused = self.root.focus_displayof() is not None
        except (tk.TclError, KeyError):
            focused = False
        self.set_focused(focused)

    def set_focused(self, focused: bool) -> None:
        self.focused = focused
        if focused and (self.unread or self.flagged):
            self.unread = 0
            self._flag(False)
            self.refresh_title()

    def notify(self, count: int = 1, mention: bool = False) -> None:
        """`count` new messages arrived: count, flag and ring if the window is in the background.

        A burst arrives in many batches; the title is rewritten at most every
        `TITLE_INTERVAL` seconds and the bell rings at most every `BELL_INTERVAL`.
        """
        if self.focused or count <= 0:
            return
        self.unread += count
        now = time.monotonic()
        if self.settings.notifications:
            self._flag(True)
            if self._title_after is None:
                self._title_after = self.root.after(int(TITLE_INTERVAL * 1000), self._title_due)
        wants_bell = self.settings.sounds or (mention and self.settings.notifications)
        if wants_bell and now - self._last_bell >= BELL_INTERVAL:
            self._last_bell = now
            self.rings += 1
            self.root.bell()

    def _title_due(self) -> None:
        self._title_after = None
        self.refresh_title()

    def refresh_title(self) -> None:
        count = self.unread if self.settings.notifications else 0
        self.root.title(titled(self._base_title(), count))

    def _flag(self, on: bool) -> None:
        if on == self.flagged:
            return
        self.flagged = on
        try:
            if sys.platform == "win32":
                _flash_windows(self.root, on)
            elif self.root.tk.call("tk", "windowingsystem") == "x11":
                _x11_urgency(self.root, on)
        except Exception as exc:  # a desktop nicety: never let it break the chat
            log.debug("could not flag the window: %s", exc)


def _flash_windows(root: tk.Tk, on: bool) -> None:
    """FlashWindowEx: flash the taskbar button until the window comes to the foreground."""

    class FLASHWINFO(ctypes.Structure):
        _fields_ = [
            ("cbSize", ctypes.c_uint),
            ("hwnd", ctypes.c_void_p),
            ("dwFlags", ctypes.c_uint),
            ("uCount", ctypes.c_uint),
            ("dwTimeout", ctypes.c_uint),
        ]

    flash_tray, flash_until_foreground, flash_stop = 0x2, 0xC, 0x0
    hwnd = int(root.wm_frame(), 16)
    flags = flash_tray | flash_until_foreground if on else flash_stop
    info = FLASHWINFO(ctypes.sizeof(FLASHWINFO), hwnd, flags, 0, 0)
    ctypes.windll.user32.FlashWindowEx(ctypes.byref(info))  # type: ignore[attr-defined]


class _XWMHints(ctypes.Structure):
    _fields_ = [
        ("flags", ctypes.c_long),
        ("input", ctypes.c_int),
        ("initial_state", ctypes.c_int),
        ("icon_pixmap", ctypes.c_ulong),
        ("icon_window", ctypes.c_ulong),
        ("icon_x", ctypes.c_int),
        ("icon_y", ctypes.c_int),
        ("icon_mask", ctypes.c_ulong),
        ("window_group", ctypes.c_ulong),
    ]


_X_URGENCY_HINT = 1 << 8
_xlib: ctypes.CDLL | None = None


def _load_xlib() -> ctypes.CDLL:
    global _xlib
    if _xlib is None:
        name = ctypes.util.find_library("X11")
        if not name:
            raise OSError("libX11 not found")
        lib = ctypes.CDLL(name)
        lib.XOpenDisplay.restype = ctypes.c_void_p
        lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        lib.XGetWMHints.restype = ctypes.POINTER(_XWMHints)
        lib.XGetWMHints.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        lib.XSetWMHints.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XWMHints)]
        lib.XAllocWMHints.restype = ctypes.POINTER(_XWMHints)
        lib.XFree.argtypes = [ctypes.c_void_p]
        lib.XFlush.argtypes = [ctypes.c_void_p]
        lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        lib.XQueryTree.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.POINTER(ctypes.c_ulong),
            ctypes.POINTER(ctypes.c_ulong),
            ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
            ctypes.POINTER(ctypes.c_uint),
        ]
        _xlib = lib
    return _xlib


def _x11_wrapper(lib: ctypes.CDLL, display: int, inner: int) -> int:
    """Tk's toplevel wrapper window (the parent of the widget's window): it carries WM_HINTS."""
    root_return, parent = ctypes.c_ulong(), ctypes.c_ulong()
    children = ctypes.POINTER(ctypes.c_ulong)()
    count = ctypes.c_uint()
    if not lib.XQueryTree(
        display,
        inner,
        ctypes.byref(root_return),
        ctypes.byref(parent),
        ctypes.byref(children),
        ctypes.byref(count),
    ):
        raise OSError("XQueryTree failed")
    if children:
        lib.XFree(children)
    return parent.value


def _x11_urgency(root: tk.Tk, on: bool) -> None:
    """Set or clear the urgency hint on the toplevel's X window (on its own X connection)."""
    lib = _load_xlib()
    display = lib.XOpenDisplay(root.winfo_screen().encode())
    if not display:
        raise OSError("cannot open the X display")
    try:
        window = _x11_wrapper(lib, display, root.winfo_id())
        hints = lib.XGetWMHints(display, window)
        if not hints:
            hints = lib.XAllocWMHints()
        if on:
            hints.contents.flags |= _X_URGENCY_HINT
        else:
            hints.contents.flags &= ~_X_URGENCY_HINT
        lib.XSetWMHints(display, window, hints)
        lib.XFree(hints)
        lib.XFlush(display)
    finally:
        lib.XCloseDisplay(display)
