"""Opening a received file, or its folder, with the system's own programs. No Tk.

The command is a list (never a shell string): xdg-open on Linux and the BSDs, `open` on
macOS, `os.startfile`/Explorer on Windows. The programs started are reaped when the next
one starts and when the window closes, so none lingers as a zombie.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

#: Openers still running that are checked (reaped) before the next one starts.
MAX_RUNNING = 16


def open_command(path: Path, platform: str = sys.platform) -> list[str] | None:
    """The command that opens `path` with its usual program (None: Windows' startfile)."""
    if platform == "win32":
        return None
    return ["open" if platform == "darwin" else "xdg-open", str(path)]


def reveal_command(path: Path, platform: str = sys.platform) -> list[str] | None:
    """The command that shows `path` in its folder (selected where the system can)."""
    if platform == "win32":
        return ["explorer", "/select,", str(path)]
    if platform == "darwin":
        return ["open", "-R", str(path)]
    return ["xdg-open", str(path.parent)]


class Opener:
    """Starts the system's opener; `run` can be replaced (tests record the commands)."""

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []

    def open(self, path: Path) -> None:
        command = open_command(path)
        if command is None:
            self._startfile(path)
        else:
            self.run(command)

    def reveal(self, path: Path) -> None:
        command = reveal_command(path)
        if command is not None:
            self.run(command)

    def run(self, command: list[str]) -> None:
        self._reap()
        if len(self._running) >= MAX_RUNNING:
            log.warning("too many openers still running; not opening another")
            return
        try:
            self._running.append(
                subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        except OSError as exc:
            log.warning("cannot start %s: %s", command[0], exc)

    def close(self) -> None:
        self._reap()

    def _reap(self) -> None:
        self._running = [process for process in self._running if process.poll() is None]

    @staticmethod
    def _startfile(path: Path) -> None:
        try:
            os.startfile(path)  # type: ignore[attr-defined]  # Windows only
        except OSError as exc:
            log.warning("cannot open a received file: %s", exc)
