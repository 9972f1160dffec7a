"""Fixtures for the packaging tests: one PyInstaller build per session, and its processes.

Both executables (one file, one folder) are built once per test session into a fresh
temporary folder (new work and dist folders, so nothing of an earlier build is reused) and
shared by every test marked `build`. `pytest -m "not build"` leaves the build out.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.build.x11 import Screen

REPO = Path(__file__).resolve().parents[2]
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""
BUILD_TIMEOUT = 600


@dataclass(frozen=True)
class Build:
    """One built executable, and how long the PyInstaller run that made it took."""

    executable: Path
    seconds: float

    @property
    def size(self) -> int:
        """Bytes on disk: the file, or for a one-folder build the whole folder."""
        if self.executable.parent.name == "LanChat-onedir":
            return sum(f.stat().st_size for f in self.executable.parent.rglob("*") if f.is_file())
        return self.executable.stat().st_size


def run_pyinstaller(variant: str, folder: Path) -> float:
    """Run build.spec with PyInstaller from this venv into `folder`; returns the seconds taken.

    `variant` is onefile, onedir or both (LANCHAT_BUILD). The work and dist folders are new,
    so nothing of an earlier build is reused.
    """
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(folder / "dist"),
            "--workpath",
            str(folder / "work"),
            str(REPO / "build.spec"),
        ],
        cwd=REPO,
        env={**os.environ, "LANCHAT_BUILD": variant},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    if result.returncode != 0:
        pytest.fail(
            f"PyInstaller failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
        )
    return time.monotonic() - started


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Build]:
    """Both variants from one PyInstaller run (one analysis; the second costs seconds)."""
    folder = tmp_path_factory.mktemp("pyinstaller")
    seconds = run_pyinstaller("both", folder)
    name = "LanChat" + EXE_SUFFIX
    found = {
        "onefile": Build(folder / "dist" / name, seconds),
        "onedir": Build(folder / "dist" / "LanChat-onedir" / name, seconds),
    }
    for build in found.values():
        assert build.executable.is_file(), f"the build made no {build.executable}"
    return found


@pytest.fixture(scope="session")
def onefile_build(builds: dict[str, Build]) -> Build:
    return builds["onefile"]


@pytest.fixture(scope="session")
def onedir_build(builds: dict[str, Build]) -> Build:
    return builds["onedir"]


@pytest.fixture
def app_env(tmp_path: Path) -> dict[str, str]:
    """Environment for the built program: its own settings and log folders, loopback only."""
    env = {
        **os.environ,
        "LANCHAT_CONFIG_DIR": str(tmp_path / "config"),
        "LANCHAT_LOG_DIR": str(tmp_path / "log"),
        "LANCHAT_LOOPBACK_ONLY": "1",
    }
    env.pop("LANCHAT_TEST_CRASH", None)
    return env


@pytest.fixture
def screen(tmp_path: Path, request: pytest.FixtureRequest, processes: Processes) -> Iterator[Screen]:
    """A private virtual screen; a screenshot of it is kept in tmp_path if the test fails.

    The test's programs are stopped before the screen goes, so none dies of a lost display.
    """
    with Screen() as own_screen:
        yield own_screen
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            own_screen.screenshot(tmp_path / "screen-at-failure.png")
        processes.cleanup()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


class OutputLines:
    """Collects a process's output lines in a thread, so tests can wait for one with a timeout."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.lines: list[str] = []
        self.ended = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), name="output-lines", daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """The match of the first line (already read or still to come) matching `pattern`."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        checked = 0
        with self._changed:
            while True:
                for line in self.lines[checked:]:
                    if found := regex.search(line):
                        return found
                checked = len(self.lines)
                remaining = deadline - time.monotonic()
                if self.ended or remaining <= 0:
                    state = "output ended" if self.ended else f"nothing within {timeout} s"
                    raise AssertionError(f"{state} matching {pattern!r}: {self.lines[-20:]}")
                self._changed.wait(remaining)

    def join(self, timeout: float = 5.0) -> None:
        """Wait until the output has ended (the process closed it) and every line is in."""
        self._thread.join(timeout)


class Processes:
    """Starts the built program; whatever a test leaves running is killed at its end."""

    def __init__(self) -> None:
        self._started: list[tuple[subprocess.Popen, OutputLines | None]] = []

    def start(
        self, args: list[str], env: dict[str, str], *, capture: bool = False, **popen
    ) -> subprocess.Popen:
        # Its own process group: a one-file build runs the program as a child of a bootloader,
        # and cleanup must reach both.
        options = {"stdin": subprocess.DEVNULL, "start_new_session": True, **popen}
        if capture:
            options.update(stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8")
        process = subprocess.Popen(args, env=env, **options)
        output = OutputLines(process.stdout) if capture else None
        process.output = output  # type: ignore[attr-defined]
        self._started.append((process, output))
        return process

    def cleanup(self) -> None:
        started, self._started = self._started, []
        for process, output in started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the group: no orphaned child either
            except (ProcessLookupError, PermissionError):
                pass
            process.wait(timeout=10)
            if output is not None:
                output.join()
            if process.stdout is not None:
                process.stdout.close()


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    try:
        yield started
    finally:
        started.cleanup()
