"""Unexpected errors end up in the log file and in a friendly dialog, never in a vanished window.

A double-clicked LanChat has no console: Tk's default prints a failing callback's traceback
to ``sys.stderr``, which is None there, so the error would be lost and the window would just
stop doing something. Three hooks catch every unhandled exception instead:

- ``Tk.report_callback_exception`` for window callbacks (installed by `install_tk_hooks`),
- ``threading.excepthook`` for network and other threads,
- ``sys.excepthook`` for the main thread (an error that escapes ``main()``).

Each one logs the traceback (to the log file, and to the console if there is one) and, in
the window app, shows a dialog naming the log file. Threads never touch Tk: their reports
wait in a queue that the Tk main loop polls. One dialog at a time: while it is open, further
errors are only logged and counted on it.

`main.py` calls `install_process_hooks` before anything else runs; the window calls
`install_tk_hooks(root)` once it has created its root (that also sets the window icon).

Test hook (for the packaging tests only): ``LANCHAT_TEST_CRASH=tk`` makes
`install_tk_hooks` schedule a callback that raises, ``=thread`` starts a thread that raises,
``=main`` raises at once from `install_tk_hooks` (an error during start-up).
"""

from __future__ import annotations

import logging
import os
import platform
import queue
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from gui.i18n import N_, ntr, tr
from net import __version__
from net.logsetup import current_log_file, log_file_path

if TYPE_CHECKING:
    import tkinter as tk

log = logging.getLogger(__name__)

TEST_CRASH_ENV = "LANCHAT_TEST_CRASH"
TEST_CRASH_MESSAGE = "deliberate failure for the packaging tests (LANCHAT_TEST_CRASH)"
DIALOG_TITLE = N_("LanChat: something went wrong")
#: How often the window looks for errors reported by other threads.
THREAD_REPORT_POLL_MS = 200
#: At most this many thread reports are queued for the dialog; more are only logged.
MAX_PENDING_REPORTS = 20

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


@dataclass(frozen=True)
class CrashReport:
    """What the dialog shows about one unhandled exception."""

    where: str
    summary: str
    details: str
    fatal: bool = False


def make_report(exc_info: ExcInfo, where: str, *, fatal: bool = False) -> CrashReport:
    """A report with a one-line summary and the full text for "Copy details"."""
    exc_type, exc_value, exc_tb = exc_info
    summary = "".join(traceback.format_exception_only(exc_type, exc_value)).strip()
    header = (
        f"LanChat {__version__}, Python {platform.python_version()}, {platform.platform()}, "
        f"{'frozen' if getattr(sys, 'frozen', False) else 'from source'}\n"
        f"Unhandled error in {where}:\n"
    )
    details = header + "".join(traceback.format_exception(exc_type, exc_value, exc_tb))
    return CrashReport(where=where, summary=summary, details=details, fatal=fatal)


class _HookState:
    """Process-wide settings of the hooks (module state, set up once by main.py)."""

    def __init__(self) -> None:
        self.dialogs = False
        self.pending: queue.Queue[CrashReport] = queue.Queue(maxsize=MAX_PENDING_REPORTS)


_state = _HookState()


def install_process_hooks(*, dialogs: bool) -> None:
    """Log unhandled exceptions of the main thread and of other threads.

    `dialogs` is True for the window app: errors are then also shown to the user (thread
    errors once `install_tk_hooks` has run, main-thread errors in a dialog of their own
    before the program ends). The window-less commands only log, to their console and file.
    """
    _state.dialogs = dialogs
    sys.excepthook = _main_thread_hook
    threading.excepthook = _thread_hook


def _main_thread_hook(
    exc_type: type[BaseException], exc_value: BaseException, exc_tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc_value, exc_tb)
        return
    log.critical("unhandled error; LanChat stops", exc_info=(exc_type, exc_value, exc_tb))
    if _state.dialogs:
        show_fatal_dialog(
            make_report((exc_type, exc_value, exc_tb), "LanChat's start-up or shutdown", fatal=True)
        )
        # The window app is over, but a network thread it started could keep the process
        # alive with no window at all: end it here, as the dialog told the user.
        logging.shutdown()
        _end_process(1)


def _end_process(status: int) -> None:
    os._exit(status)


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "unknown"
    exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
    log.error("unhandled error in thread %s", name, exc_info=exc_info)
    if _state.dialogs:
        try:
            _state.pending.put_nowait(make_report(exc_info, f"the background task {name!r}"))
        except queue.Full:
            pass  # already logged; the dialog is showing plenty


def install_tk_hooks(root: tk.Tk) -> None:
    """Report this window's callback errors and other threads' errors in a dialog; set the icon.

    Call once, from the main thread, right after creating the root window.
    """
    from gui.icon import set_window_icon

    set_window_icon(root)
    root.report_callback_exception = lambda *exc_info: report_tk_callback_error(root, exc_info)
    _state.dialogs = True
    _poll_thread_reports(root)
    _start_test_crash(root, os.environ.get(TEST_CRASH_ENV, ""))


def report_tk_callback_error(root: tk.Misc, exc_info: ExcInfo) -> None:
    """What a failing Tk callback does: log it, then tell the user."""
    log.error("unhandled error in a window callback", exc_info=exc_info)
    show_error_dialog(root, make_report(exc_info, "a window callback"))


def _poll_thread_reports(root: tk.Misc) -> None:
    try:
        if not root.winfo_exists():
            return
        while True:
            try:
                report = _state.pending.get_nowait()
            except queue.Empty:
                break
            show_error_dialog(root, report)
        root.after(THREAD_REPORT_POLL_MS, _poll_thread_reports, root)
    except Exception:  # a broken poll must not itself become a dialog loop
        if _is_alive(root):
            log.exception("the error-report poll stopped")


def _is_alive(root: tk.Misc) -> bool:
    try:
        return bool(root.winfo_exists())
    except Exception:
        return False


def show_error_dialog(root: tk.Misc, report: CrashReport) -> None:
    """Show `report`, or count it on the dialog already open. Never raises."""
    existing: ErrorDialog | None = getattr(root, "lanchat_error_dialog", None)
    try:
        if existing is not None and existing.is_open():
            existing.count_another()
            return
        root.lanchat_error_dialog = ErrorDialog(root, report)  # type: ignore[attr-defined]
    except Exception:
        log.exception("could not show the error dialog (the error itself is logged above)")


def show_fatal_dialog(report: CrashReport) -> None:
    """Show `report` in a window of its own and wait until the user closes it.

    Used when the program is ending anyway: the window that failed is closed first (its main
    loop is gone). Without a display it only logs.
    """
    import tkinter as tk

    leftover = getattr(tk, "_default_root", None)
    if leftover is not None:
        try:
            leftover.destroy()
        except Exception:
            pass  # half-built or already gone
    try:
        root = tk.Tk()
    except tk.TclError as exc:
        log.warning("no error dialog (no display: %s)", exc)
        return
    try:
        root.withdraw()
        dialog = ErrorDialog(root, report)
        root.wait_window(dialog.window)
    except Exception:
        log.exception("could not show the error dialog (the error itself is logged above)")
    finally:
        try:
            root.destroy()
        except tk.TclError:
            pass


class ErrorDialog:
    """The friendly dialog: what happened, where the log is, copy details, open the log folder."""

    def __init__(self, master: tk.Misc, report: CrashReport) -> None:
        import tkinter as tk
        from tkinter import ttk

        self.report = report
        self.more_errors = 0
        self.log_file = current_log_file()
        window = self.window = tk.Toplevel(master)
        window.title(tr(DIALOG_TITLE))
        window.resizable(False, False)
        if master.winfo_viewable():
            window.transient(master.winfo_toplevel())

        frame = ttk.Frame(window, padding=16)
        frame.grid(sticky="nsew")
        frame.columnconfigure(0, weight=1)
        heading = tr("LanChat has to close.") if report.fatal else tr("Something went wrong in LanChat.")
        advice = (
            tr("It ran into an error it did not expect. Starting it again usually helps.")
            if report.fatal
            else tr(
                "It ran into an error it did not expect. You can keep chatting; if something "
                "looks wrong, close LanChat and start it again."
            )
        )
        ttk.Label(frame, text=heading, font=("TkDefaultFont", 12, "bold")).grid(sticky="w")
        ttk.Label(frame, text=advice, wraplength=440, justify="left").grid(sticky="w", pady=(6, 8))
        happened = tr("What happened: {summary}").format(summary=report.summary)
        ttk.Label(frame, text=happened, wraplength=440, justify="left").grid(sticky="w")

        if self.log_file is not None:
            where_text = tr("The details are in the log file (please include it when you report this):")
        else:
            where_text = tr("The log file could not be written; use Copy details to keep them.")
        ttk.Label(frame, text=where_text, wraplength=440, justify="left").grid(sticky="w", pady=(8, 2))
        self.path_var = tk.StringVar(master=window, value=str(self.log_file or log_file_path()))
        path_entry = ttk.Entry(frame, textvariable=self.path_var, state="readonly", width=60)
        path_entry.grid(sticky="ew")
        self.more_label = ttk.Label(frame, text="")
        self.more_label.grid(sticky="w", pady=(4, 0))

        buttons = ttk.Frame(frame)
        buttons.grid(sticky="ew", pady=(12, 0))
        buttons.columnconfigure(2, weight=1)
        ttk.Button(buttons, text=tr("Copy details"), command=self.copy_details).grid(row=0, column=0)
        ttk.Button(buttons, text=tr("Open log folder"), command=self.open_log_folder).grid(
            row=0, column=1, padx=(6, 0)
        )
        self.close_button = ttk.Button(
            buttons, text=tr("Close") if report.fatal else tr("OK"), command=self.close
        )
        self.close_button.grid(row=0, column=3)
        window.protocol("WM_DELETE_WINDOW", self.close)
        window.bind("<Escape>", lambda _event: self.close_button.invoke())
        window.bind("<Return>", lambda _event: self.close_button.invoke())
        self.close_button.focus_set()

    def is_open(self) -> bool:
        try:
            return bool(self.window.winfo_exists())
        except Exception:
            return False

    def count_another(self) -> None:
        """Another error arrived while this dialog is open: say so instead of stacking dialogs."""
        self.more_errors += 1
        text = ntr(
            "{count} more error since then; see the log file.",
            "{count} more errors since then; see the log file.",
            self.more_errors,
        )
        self.more_label.configure(text=text.format(count=self.more_errors))

    def copy_details(self) -> None:
        self.window.clipboard_clear()
        self.window.clipboard_append(self.report.details)

    def open_log_folder(self) -> None:
        folder = (self.log_file or log_file_path()).parent
        try:
            open_folder(folder)
        except OSError as exc:
            log.warning("could not open the log folder %s: %s", folder, exc)
            self.more_label.configure(text=tr("Could not open the folder: {error}").format(error=exc))

    def close(self) -> None:
        if self.is_open():
            self.window.destroy()


def open_folder(folder: Path) -> None:
    """Show `folder` in the system's file manager."""
    if sys.platform == "win32":
        os.startfile(folder)  # type: ignore[attr-defined]
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    subprocess.Popen(
        [opener, str(folder)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _start_test_crash(root: tk.Misc, mode: str) -> None:
    """The LANCHAT_TEST_CRASH hook: a deliberate failure the packaging tests look for."""
    if not mode:
        return
    if mode == "main":
        raise RuntimeError(TEST_CRASH_MESSAGE)
    if mode == "tk":
        root.after(300, _deliberate_failure)
    elif mode == "thread":
        root.after(
            300, lambda: threading.Thread(target=_deliberate_failure, name="test-crash", daemon=True).start()
        )
    else:
        log.warning("%s=%r is not one of tk, thread, main; ignored", TEST_CRASH_ENV, mode)


def _deliberate_failure() -> None:
    raise RuntimeError(TEST_CRASH_MESSAGE)
