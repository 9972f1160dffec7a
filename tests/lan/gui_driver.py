"""Driving the LanChat window on a virtual PC: a virtual screen, real input, and reading it back.

`virtual_screen` starts Xvfb in the root namespace (it listens only on its Unix socket, a
file path that processes in every network namespace can open, so `DISPLAY=:N` works inside
the PCs). `Xdo` sends real keyboard and mouse input with xdotool, as a user would. `RemoteTk`
reads what the window shows through Tk's `send` (see tests/lan/tk_remote.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

from tests.lan.virtual_lan import LanProcess, Pc

#: Bound on Xvfb coming up and on one xdotool or Tk query.
X_TIMEOUT = 10.0


def missing_gui_tools() -> list[str]:
    return [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]


@contextlib.contextmanager
def virtual_screen(width: int = 1280, height: int = 900) -> Iterator[str]:
    """A fresh Xvfb on a free display number (Xvfb picks it: -displayfd); yields ":N"."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    os.close(write_end)
    try:
        number = b""
        deadline = time.monotonic() + X_TIMEOUT
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(read_end, 16) if ready else b""
            if not chunk:
                raise RuntimeError(f"Xvfb did not report its display within {X_TIMEOUT} s")
            number += chunk
        yield f":{number.decode().strip()}"
    finally:
        os.close(read_end)
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        if server.stderr is not None:
            server.stderr.close()


class Xdo:
    """Real X input on `display` through xdotool (XTEST: the app cannot tell it from a person)."""

    def __init__(self, pc: Pc, display: str) -> None:
        self.pc = pc
        self.display = display

    def __call__(self, *args: str) -> str:
        return self.pc.check_output(["xdotool", *args], timeout=X_TIMEOUT, env={"DISPLAY": self.display})

    def window(self, title_pattern: str, timeout: float = 20.0) -> str:
        """The id of the visible window whose title matches, once there is one."""
        deadline = time.monotonic() + timeout
        while True:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", title_pattern],
                env={**os.environ, "DISPLAY": self.display},
                capture_output=True,
                text=True,
                timeout=X_TIMEOUT,
            ).stdout.split()
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no window titled {title_pattern!r} within {timeout} s")
            time.sleep(0.1)

    def type(self, text: str) -> None:
        self("type", "--delay", "30", "--", text)

    def key(self, *keys: str) -> None:
        self("key", "--delay", "30", *keys)

    def double_click(self, x: int, y: int) -> None:
        self("mousemove", "--sync", str(x), str(y), "click", "--repeat", "2", "--delay", "120", "1")


class TkError(RuntimeError):
    """The app's Tk refused a query (e.g. a widget that no longer exists)."""


class RemoteTk:
    """Reads a Tk app's widgets over the display (Tk `send`), from a helper process on `pc`."""

    def __init__(self, pc: Pc, display: str) -> None:
        self.process: LanProcess = pc.run(
            [sys.executable, "-m", "tests.lan.tk_remote"], name="tk-remote", env={"DISPLAY": display}
        )
        self.process.shown_lines = 6  # its question-and-answer traffic is noise in a failure report
        self.own_name = json.loads(self.process.expect('{"ready"', timeout=X_TIMEOUT).text)["ready"]
        self.app = ""

    def call(self, *words: str) -> object:
        mark = self.process.mark()
        self.process.send(json.dumps(list(words), ensure_ascii=False))
        answer = json.loads(
            self.process.expect(re.compile(r'^\{"(ok|error)"'), after=mark, timeout=X_TIMEOUT).text
        )
        if "error" in answer:
            raise TkError(f"Tk: {' '.join(words)}: {answer['error']}")
        return answer["ok"]

    def attach(self, timeout: float = 20.0) -> str:
        """Wait for the app's Tk interpreter to appear on the display; remember its name."""
        deadline = time.monotonic() + timeout
        while True:
            others = [name for name in self.call("winfo", "interps") if name != self.own_name]
            if others:
                self.app = others[0]
                return self.app
            if time.monotonic() > deadline:
                raise AssertionError(f"no Tk application appeared within {timeout} s")
            time.sleep(0.1)

    def ask(self, *words: str) -> str:
        """Evaluate a read-only Tcl command in the app; its result as a string."""
        return str(self.call("send", self.app, *words))

    def ask_list(self, *words: str) -> list[str]:
        """Evaluate a read-only Tcl command in the app; its result split as a Tcl list."""
        return [str(item) for item in self.call("sendlist", self.app, *words)]  # type: ignore[union-attr]

    def widgets(self, tk_class: str, *, mapped: bool = True) -> list[str]:
        """Paths of the app's widgets of `tk_class` (e.g. "Treeview", "Text"), in creation order.

        Widgets destroyed while the walk is under way (a view being replaced) are left out.
        """
        found, pending = [], ["."]
        while pending:
            path = pending.pop(0)
            try:
                if self.ask("winfo", "class", path) == tk_class and (
                    not mapped or self.ask("winfo", "ismapped", path) == "1"
                ):
                    found.append(path)
                pending.extend(self.ask_list("winfo", "children", path))
            except TkError:
                continue
        return [path for path in found if self.ask("winfo", "exists", path) == "1"]

    def focused_class(self) -> str:
        """The class of the widget with the keyboard focus ("" when none or it just went away)."""
        try:
            widget = self.ask("focus")
            return self.ask("winfo", "class", widget) if widget else ""
        except TkError:
            return ""
