"""net/logsetup.py: the log file in the user's log folder, and the console when there is one."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from net import logsetup


def owned_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if getattr(h, "lanchat_owned", False)]


@pytest.fixture(autouse=True)
def restore_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test's own log folder; the root logger as it was afterwards."""
    monkeypatch.setenv(logsetup.LOG_DIR_ENV, str(tmp_path / "logs"))
    root = logging.getLogger()
    level = root.level
    yield
    for handler in owned_handlers():
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def flush() -> None:
    for handler in owned_handlers():
        handler.flush()


def test_records_go_to_the_log_file(tmp_path: Path) -> None:
    path = logsetup.configure_logging(console=None)
    assert path == tmp_path / "logs" / "lanchat.log" == logsetup.current_log_file()
    logging.getLogger("lanchat.test").warning("written to the file, 你好")
    flush()
    text = path.read_text(encoding="utf-8")
    assert "WARNING lanchat.test [MainThread]: written to the file, 你好" in text


def test_verbose_logs_debug_detail() -> None:
    path = logsetup.configure_logging(verbose=True, console=None)
    logging.getLogger("lanchat.test").debug("detail")
    logging.getLogger("lanchat.test").info("not verbose")
    flush()
    assert "detail" in path.read_text(encoding="utf-8")
    logsetup.configure_logging(verbose=False, console=None)
    logging.getLogger("lanchat.test").debug("hidden detail")
    flush()
    assert "hidden detail" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("console", ["stdout", "stderr"])
def test_the_console_gets_the_same_records(console: str, capsys: pytest.CaptureFixture[str]) -> None:
    logsetup.configure_logging(console=console)  # type: ignore[arg-type]
    logging.getLogger("lanchat.test").info("on the console")
    captured = capsys.readouterr()
    assert "on the console" in getattr(captured, "out" if console == "stdout" else "err")
    assert "on the console" not in getattr(captured, "err" if console == "stdout" else "out")


def test_a_windowed_build_without_stderr_logs_to_the_file_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", None)  # what a double-clicked windowed .exe has
    path = logsetup.configure_logging()
    logging.getLogger("lanchat.test").warning("nowhere to print this")
    flush()
    assert "nowhere to print this" in path.read_text(encoding="utf-8")


def test_the_console_handler_follows_a_replaced_stream(capsys: pytest.CaptureFixture[str]) -> None:
    logsetup.configure_logging(console="stderr")
    (console,) = [
        h for h in owned_handlers() if isinstance(h, logging.StreamHandler) and h.stream is sys.stderr
    ]
    console.setStream(sys.stdout)  # what `main.py host` did before logsetup took "stdout"
    logging.getLogger("lanchat.test").info("moved to stdout")
    assert "moved to stdout" in capsys.readouterr().out


def test_configuring_again_replaces_only_its_own_handlers() -> None:
    foreign = logging.NullHandler()
    logging.getLogger().addHandler(foreign)
    try:
        logsetup.configure_logging(console="stderr")
        logsetup.configure_logging(console="stdout")
        assert len(owned_handlers()) == 2  # one file, one console
        assert foreign in logging.getLogger().handlers
    finally:
        logging.getLogger().removeHandler(foreign)


def test_an_unwritable_log_folder_falls_back_to_the_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(logsetup.LOG_DIR_ENV, str(blocker / "logs"))
    assert logsetup.configure_logging(console="stderr") is None
    assert logsetup.current_log_file() is None
    assert "cannot write the log file" in capsys.readouterr().err
    logging.getLogger("lanchat.test").info("still logged")
    assert "still logged" in capsys.readouterr().err


def test_the_log_rolls_over_and_keeps_a_bounded_number_of_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logsetup, "MAX_LOG_BYTES", 2_000)
    path = logsetup.configure_logging(console=None)
    for number in range(200):
        logging.getLogger("lanchat.test").info("line %d %s", number, "x" * 40)
    flush()
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["lanchat.log", *(f"lanchat.log.{n}" for n in range(1, logsetup.BACKUP_COUNT + 1))]
    assert all((path.parent / name).stat().st_size <= 2_000 for name in files)
    assert "line 199" in path.read_text(encoding="utf-8")


def test_without_the_override_the_log_goes_to_the_platform_log_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(logsetup.LOG_DIR_ENV)
    assert logsetup.log_dir() == Path(platformdirs.user_log_dir("LanChat", appauthor=False))
    assert logsetup.log_file_path().name == "lanchat.log"
