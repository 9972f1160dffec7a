"""A private virtual screen for the built program, and a user's hands on it (xdotool, Xlib).

Each `Screen` is its own Xvfb, so the only windows on it are those of the program under
test: other tests' Tk windows (on pytest-xvfb's display) can never be picked by title.

There is no window manager on it, so "the user closes the window" is sent by hand: a
WM_DELETE_WINDOW client message, exactly what a window manager sends when the title bar's
close button is clicked (xdotool's `windowclose` destroys the window instead, which no user
can do). Xlib is reached through ctypes; libX11 is on every machine that has Tk.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import wait_until

_CLIENT_MESSAGE = 33
_NO_EVENT_MASK = 0


class _ClientMessageEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _ClientMessageEvent), ("pad", ctypes.c_long * 24)]


def _xlib() -> ctypes.CDLL:
    name = ctypes.util.find_library("X11")
    if name is None:
        raise RuntimeError("libX11 not found")
    lib = ctypes.CDLL(name)
    lib.XOpenDisplay.restype = ctypes.c_void_p
    lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    lib.XInternAtom.restype = ctypes.c_ulong
    lib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    lib.XSendEvent.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.c_long,
        ctypes.POINTER(_XEvent),
    ]
    lib.XSetInputFocus.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_ulong]
    lib.XFlush.argtypes = [ctypes.c_void_p]
    lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    return lib


class Screen:
    """An Xvfb of our own; `display` is its DISPLAY value. Use as a context manager."""

    def __init__(self, width: int = 1280, height: int = 800) -> None:
        if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
            raise RuntimeError("the build tests need Xvfb and xdotool (make system-deps installs them)")
        read_end, write_end = os.pipe()
        self._server = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write_end),
                "-screen",
                "0",
                f"{width}x{height}x24",
                "-nolisten",
                "tcp",
            ],
            pass_fds=(write_end,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.close()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def __enter__(self) -> Screen:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.terminate()
        try:
            self._server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._server.kill()
            self._server.wait()

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for a program that should open its windows here."""
        return {**(base if base is not None else os.environ), "DISPLAY": self.display}

    def xdotool(self, *args: str) -> str:
        """Run xdotool on this screen; its output, or "" when it found nothing."""
        result = subprocess.run(
            ["xdotool", *args], capture_output=True, text=True, timeout=10, env=self.env()
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    def windows(self, title: str) -> list[int]:
        """Visible windows whose title matches the regular expression `title`."""
        return [int(w) for w in self.xdotool("search", "--onlyvisible", "--name", title).split()]

    def wait_for_window(self, title: str, timeout: float = 20.0) -> int:
        """The first visible window whose title matches `title`, once there is one."""
        found = wait_until(
            lambda: self.windows(title), timeout=timeout, interval=0.05, message=f"window {title!r}"
        )
        return found[0]

    def title(self, window: int) -> str:
        return self.xdotool("getwindowname", str(window))

    def focus(self, window: int) -> None:
        """Give `window` the keyboard focus (no window manager does it on a click here)."""
        self.xdotool("windowfocus", "--sync", str(window))

    def type_text(self, text: str) -> None:
        """Type `text` as real key presses (XTEST) into whatever has the keyboard focus."""
        self.xdotool("type", "--delay", "10", text)

    def press(self, *keys: str) -> None:
        """Press keys such as "Return", "Tab" or "ctrl+a" in whatever has the keyboard focus."""
        self.xdotool("key", "--delay", "20", *keys)

    def request_close(self, window: int) -> None:
        """Ask `window` to close as a window manager's close button does (WM_DELETE_WINDOW)."""
        with self._xlib_display() as (lib, display):
            event = _XEvent()
            event.xclient.type = _CLIENT_MESSAGE
            event.xclient.window = window
            event.xclient.message_type = lib.XInternAtom(display, b"WM_PROTOCOLS", 0)
            event.xclient.format = 32
            event.xclient.data[0] = lib.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
            event.xclient.data[1] = 0  # CurrentTime
            lib.XSendEvent(display, window, 0, _NO_EVENT_MASK, ctypes.byref(event))

    def drop_focus(self) -> None:
        """Take the keyboard focus away from every window, as switching to another program does."""
        with self._xlib_display() as (lib, display):
            lib.XSetInputFocus(display, 0, 0, 0)  # None, RevertToNone, CurrentTime

    @contextlib.contextmanager
    def _xlib_display(self) -> Iterator[tuple[ctypes.CDLL, int]]:
        lib = _xlib()
        display = lib.XOpenDisplay(self.display.encode())
        if not display:
            raise RuntimeError(f"cannot open display {self.display!r}")
        try:
            yield lib, display
            lib.XFlush(display)
        finally:
            lib.XCloseDisplay(display)

    def screenshot(self, path: Path) -> Path | None:
        """Save the whole screen as a PNG (for a failing test's report); None if impossible."""
        try:
            from PIL import ImageGrab

            ImageGrab.grab(xdisplay=self.display).save(path)
        except Exception:
            return None
        return path
