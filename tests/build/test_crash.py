"""gui/crash.py and gui/icon.py in-process: every unhandled error is logged and shown, once."""

from __future__ import annotations

import gc
import logging
import queue
import sys
import threading
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path
from tkinter import ttk

import pytest

from gui import crash, i18n
from gui.icon import WINDOW_ICON_SIZES
from net import __version__, logsetup
from tests.helpers import wait_until


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The log file of a configured LanChat logging set-up (no console), torn down after."""
    monkeypatch.setenv(logsetup.LOG_DIR_ENV, str(tmp_path / "logs"))
    root_logger = logging.getLogger()
    level = root_logger.level
    path = logsetup.configure_logging(console=None)
    assert path is not None
    yield path
    for handler in [h for h in root_logger.handlers if getattr(h, "lanchat_owned", False)]:
        root_logger.removeHandler(handler)
        handler.close()
    root_logger.setLevel(level)


#: Tk roots made by these tests. A Tcl interpreter must be freed by the thread that made it
#: (else Tcl aborts the process), and the garbage collector may run in any thread, so the
#: roots are destroyed after each test but kept alive until the interpreter exits.
_KEEP_ALIVE: list[tk.Tk] = []


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Process hooks and module state restored after the test; its Tk garbage freed here."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(crash._state, "dialogs", False)
    monkeypatch.setattr(crash._state, "pending", queue.Queue(maxsize=crash.MAX_PENDING_REPORTS))
    monkeypatch.delenv(crash.TEST_CRASH_ENV, raising=False)
    yield
    gc.collect()  # on the main thread, not whichever thread collects next


@pytest.fixture
def root(hooks: None) -> Iterator[tk.Tk]:
    window = tk.Tk()
    window.withdraw()
    _KEEP_ALIVE.append(window)
    try:
        yield window
    finally:
        window.destroy()


def dialog_of(window: tk.Tk) -> crash.ErrorDialog:
    return wait_until(
        lambda: getattr(window, "lanchat_error_dialog", None), pump=window.update, message="the error dialog"
    )


def fail(text: str = "boom") -> None:
    raise ValueError(text)


@pytest.mark.allow_error_logs
def test_a_failing_window_callback_is_logged_and_shown(
    root: tk.Tk, log_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    crash.install_tk_hooks(root)
    root.after(0, fail)
    dialog = dialog_of(root)

    assert dialog.window.title() == crash.DIALOG_TITLE
    assert dialog.report.summary == "ValueError: boom"
    assert dialog.path_var.get() == str(log_file)
    (record,) = [r for r in caplog.records if r.getMessage() == "unhandled error in a window callback"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "ValueError: boom" in log_file.read_text(encoding="utf-8")

    dialog.close_button.invoke()
    assert not dialog.is_open()


@pytest.mark.allow_error_logs
def test_errors_while_the_dialog_is_open_are_counted_not_stacked(root: tk.Tk, log_file: Path) -> None:
    crash.install_tk_hooks(root)
    root.after(0, fail)
    dialog = dialog_of(root)
    root.after(0, fail, "again")
    root.after(0, fail, "and again")
    wait_until(lambda: dialog.more_errors == 2, pump=root.update, message="two more errors counted")
    toplevels = [w for w in root.winfo_children() if isinstance(w, tk.Toplevel)]
    assert toplevels == [dialog.window]
    assert dialog.more_label.cget("text") == "2 more errors since then; see the log file."


@pytest.mark.allow_error_logs
def test_a_thread_error_is_logged_and_shown_by_the_window(
    root: tk.Tk, log_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    crash.install_process_hooks(dialogs=True)
    crash.install_tk_hooks(root)
    worker = threading.Thread(target=fail, args=("in a thread",), name="worker")
    worker.start()
    worker.join(5)
    dialog = dialog_of(root)
    assert dialog.report.summary == "ValueError: in a thread"
    assert "'worker'" in dialog.report.where
    assert any(r.getMessage() == "unhandled error in thread worker" for r in caplog.records)


@pytest.mark.allow_error_logs
def test_window_less_commands_only_log_a_main_thread_error(
    hooks: None, caplog: pytest.LogCaptureFixture
) -> None:
    crash.install_process_hooks(dialogs=False)
    try:
        fail("in main")
    except ValueError:
        sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    (record,) = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert record.getMessage() == "unhandled error; LanChat stops"


@pytest.mark.allow_error_logs
def test_a_fatal_error_is_shown_then_the_process_ends(
    hooks: None, log_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[crash.CrashReport] = []
    ended: list[int] = []

    class ReadAndClosed(crash.ErrorDialog):
        """The user reads the dialog, then clicks Close."""

        def __init__(self, master: tk.Misc, report: crash.CrashReport) -> None:
            super().__init__(master, report)
            shown.append(report)
            self.window.after(50, self.close_button.invoke)

    monkeypatch.setattr(crash, "ErrorDialog", ReadAndClosed)
    monkeypatch.setattr(crash, "_end_process", ended.append)
    monkeypatch.setattr(tk, "_default_root", None)  # leave any other test's root alone
    crash.install_process_hooks(dialogs=True)
    try:
        fail("at start-up")
    except ValueError:
        sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    assert [r.summary for r in shown] == ["ValueError: at start-up"]
    assert shown[0].fatal
    assert ended == [1]


@pytest.mark.allow_error_logs
def test_copy_details_puts_the_whole_report_on_the_clipboard(root: tk.Tk, log_file: Path) -> None:
    crash.install_tk_hooks(root)
    root.after(0, fail)
    dialog = dialog_of(root)
    dialog.copy_details()
    copied = root.clipboard_get()
    assert copied.startswith(f"LanChat {__version__}, Python ")
    assert "Traceback (most recent call last)" in copied and "ValueError: boom" in copied


def test_install_tk_hooks_sets_the_window_icon(root: tk.Tk) -> None:
    crash.install_tk_hooks(root)
    images = root.lanchat_icon_images  # type: ignore[attr-defined]
    assert [(image.width(), image.height()) for image in images] == [(s, s) for s in WINDOW_ICON_SIZES]


def test_the_start_up_test_hook_raises_at_once(root: tk.Tk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(crash.TEST_CRASH_ENV, "main")
    with pytest.raises(RuntimeError, match="LANCHAT_TEST_CRASH"):
        crash.install_tk_hooks(root)


@pytest.mark.allow_error_logs
def test_the_callback_test_hook_fails_in_a_callback(
    root: tk.Tk, log_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(crash.TEST_CRASH_ENV, "tk")
    crash.install_tk_hooks(root)
    dialog = dialog_of(root)
    assert dialog.report.summary == f"RuntimeError: {crash.TEST_CRASH_MESSAGE}"


def test_a_dialog_without_a_log_file_says_so(root: tk.Tk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crash, "current_log_file", lambda: None)
    try:
        fail()
    except ValueError:
        report = crash.make_report(sys.exc_info(), "a test")  # type: ignore[arg-type]
    dialog = crash.ErrorDialog(root, report)
    labels = [w for w in dialog.window.winfo_children()[0].winfo_children() if isinstance(w, ttk.Label)]
    assert any("could not be written" in str(label.cget("text")) for label in labels)
    dialog.close()


@pytest.mark.allow_error_logs
def test_the_dialog_speaks_the_chosen_language(root: tk.Tk, log_file: Path) -> None:
    previous = i18n.current_language()
    i18n.set_language("zh_CN")
    try:
        crash.install_tk_hooks(root)
        root.after(0, fail)
        dialog = dialog_of(root)
        assert dialog.window.title() == "LanChat：出错了"
        assert dialog.close_button.cget("text") == "确定"
        root.after(0, fail, "again")
        wait_until(lambda: dialog.more_errors == 1, pump=root.update, message="one more error counted")
        assert dialog.more_label.cget("text") == "又出现了 1 个错误；请查看日志文件。"
        dialog.close_button.invoke()
    finally:
        i18n.set_language(previous)
