"""Where LanChat's log goes: a rotating file in the user's log folder, and the console if any.

A double-clicked LanChat (a windowed build) has no stdout or stderr at all (`sys.stderr is
None`), so the log file is the only place a problem can be found afterwards; the crash dialog
points the user at it. When there is a console, the same records also go there: stdout for
``host`` (it "logs to stdout"), stderr otherwise.

The folder is platformdirs' ``user_log_dir("LanChat")`` (e.g. ``~/.local/state/LanChat/log``
on Linux, ``%LOCALAPPDATA%\\LanChat\\Logs`` on Windows, ``~/Library/Logs/LanChat`` on macOS);
the environment variable ``LANCHAT_LOG_DIR`` overrides it (tests use this).

No Tk here: `net` stays usable without a display.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import Literal, TextIO

import platformdirs

LOG_DIR_ENV = "LANCHAT_LOG_DIR"
LOG_FILE_NAME = "lanchat.log"
#: The file rolls over at this size, keeping BACKUP_COUNT old files: at most 4 MB on disk.
MAX_LOG_BYTES = 1_000_000
BACKUP_COUNT = 3
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"

Console = Literal["stdout", "stderr"]
_current_log_file: Path | None = None


class _OwnedHandler:
    """Marks the handlers this module installed, so configuring again replaces only those."""

    lanchat_owned = True


class _FileHandler(_OwnedHandler, logging.handlers.RotatingFileHandler):
    pass


class _ConsoleHandler(_OwnedHandler, logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` or ``sys.stderr`` is at the time, and to nothing if None.

    Looked up on every record (as logging's own last-resort handler does), so a replaced
    stream (a test runner's capture) or a missing one (a windowed build) never breaks it.
    """

    def __init__(self, which: Console) -> None:
        logging.Handler.__init__(self)
        self.which = which
        self._fixed: TextIO | None = None

    @property
    def stream(self) -> TextIO | None:
        return self._fixed if self._fixed is not None else getattr(sys, self.which)

    @stream.setter
    def stream(self, value: TextIO | None) -> None:
        """`setStream(sys.stdout)` (as `host` does) switches to following stdout."""
        if value is sys.stdout:
            self.which, self._fixed = "stdout", None
        elif value is sys.stderr:
            self.which, self._fixed = "stderr", None
        else:
            self._fixed = value

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is not None:
            super().emit(record)


def log_dir() -> Path:
    """The folder the log file goes in (``LANCHAT_LOG_DIR`` if set)."""
    override = os.environ.get(LOG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_log_dir("LanChat", appauthor=False))


def log_file_path() -> Path:
    """Where the log file is, or would be: shown to the user by the crash dialog."""
    return log_dir() / LOG_FILE_NAME


def current_log_file() -> Path | None:
    """The file records are being written to now, or None if file logging could not start."""
    return _current_log_file


def configure_logging(verbose: bool = False, *, console: Console | None = "stderr") -> Path | None:
    """Send log records to the log file and to the `console` stream, when the process has one.

    ``console="stdout"`` for commands that log to stdout, None for no console at all. Safe to
    call again (it replaces what an earlier call installed and leaves other handlers, such
    as a test runner's, alone). Returns the log file's path, or None when the file cannot be
    opened (a read-only home folder, say): a warning then says why, and logging carries on
    to the console.
    """
    global _current_log_file
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "lanchat_owned", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = logging.Formatter(LOG_FORMAT)

    if console is not None:
        console_handler = _ConsoleHandler(console)
        console_handler.setFormatter(formatter)
        root.addHandler(console_handler)

    _current_log_file = None
    path = log_file_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = _FileHandler(path, maxBytes=MAX_LOG_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8")
    except OSError as exc:
        logging.getLogger(__name__).warning(
            "cannot write the log file %s (%s); logging to the console only", path, exc
        )
    else:
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
        _current_log_file = path
    logging.captureWarnings(True)
    return _current_log_file
