"""Start-up time of a built LanChat: from launching the executable to its window on screen.

    python -m bench.startup dist/LanChat dist/LanChat-onedir/LanChat [--runs 5]

`measure_startup(executable)` starts the program on a private Xvfb screen of its own (so no
other window can be mistaken for it), polls with xdotool until a visible window titled
"LanChat" exists, and stops the program. `measure_startup_detail` also gives the CPU time
used by then, a figure that a busy machine disturbs far less than the wall-clock time.
The settings and log folders point at a temporary folder, so a user's settings don't
change what is measured. Needs Xvfb and xdotool (as the test suite does). Self-contained:
bench/startsize.py and the packaging tests call it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

WINDOW_TITLE = "^LanChat$"
POLL_SECONDS = 0.01


@contextlib.contextmanager
def virtual_screen(width: int = 1280, height: int = 800) -> Iterator[str]:
    """A private Xvfb for the duration of the block; yields its DISPLAY value."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _window_shown(display: str) -> bool:
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", WINDOW_TITLE],
        capture_output=True,
        env={**os.environ, "DISPLAY": display},
        timeout=10,
    )
    return found.returncode == 0 and bool(found.stdout.strip())


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Startup:
    """One launch: wall-clock seconds to the window, and the CPU seconds spent by then."""

    seconds: float
    cpu_seconds: float | None  # None where /proc is not there to read it


def _cpu_seconds(root_pid: int) -> float | None:
    """User + system CPU time of `root_pid` and its descendants so far (Linux /proc).

    Counts a one-file build's unpacking parent and the program it starts alike, and does not
    depend on how busy the machine is, unlike the wall-clock time.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = int(fields[11]) + int(fields[12])  # utime, stime

    def descends(pid: int) -> bool:
        while pid > 1:
            if pid == root_pid:
                return True
            pid = parents.get(pid, 0)
        return False

    return sum(ticks_ for pid, ticks_ in cpu.items() if descends(pid)) / ticks


def measure_startup(executable: str, *, display: str | None = None, timeout: float = 60.0) -> float:
    """Seconds from starting `executable` (no arguments) until its window is visible.

    Uses `display` if given, else a private Xvfb started (and stopped) for this one run.
    Raises TimeoutError if no window appears within `timeout` seconds, RuntimeError if the
    program exits first.
    """
    return measure_startup_detail(executable, display=display, timeout=timeout).seconds


def measure_startup_detail(executable: str, *, display: str | None = None, timeout: float = 60.0) -> Startup:
    """`measure_startup`, plus the CPU time the program had used when its window appeared."""
    if display is None:
        with virtual_screen() as own_display:
            return measure_startup_detail(executable, display=own_display, timeout=timeout)
    with tempfile.TemporaryDirectory(prefix="lanchat-startup-") as scratch:
        env = {
            **os.environ,
            "DISPLAY": display,
            "LANCHAT_CONFIG_DIR": os.path.join(scratch, "config"),
            "LANCHAT_LOG_DIR": os.path.join(scratch, "log"),
            "LANCHAT_LOOPBACK_ONLY": "1",
        }
        env.pop("LANCHAT_TEST_CRASH", None)
        started = time.perf_counter()
        process = subprocess.Popen(
            [executable],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while not _window_shown(display):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{executable} exited with status {process.returncode} before its window"
                    )
                if time.perf_counter() - started > timeout:
                    raise TimeoutError(f"no LanChat window from {executable} within {timeout} s")
                time.sleep(POLL_SECONDS)
            seconds = time.perf_counter() - started
            return Startup(seconds=seconds, cpu_seconds=_cpu_seconds(process.pid))
        finally:
            _stop(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("executables", nargs="+", help="built LanChat executables to time")
    parser.add_argument("--runs", type=int, default=5, help="launches per executable (default 5)")
    args = parser.parse_args(argv)
    with virtual_screen() as display:
        for executable in args.executables:
            runs = [measure_startup_detail(executable, display=display) for _ in range(args.runs)]
            times = [run.seconds for run in runs]
            cpu = [run.cpu_seconds for run in runs if run.cpu_seconds is not None]
            cpu_text = f", CPU {statistics.median(cpu):.2f} s" if cpu else ""
            listed = ", ".join(f"{t:.2f}" for t in times)
            print(
                f"{executable}: window after {statistics.median(times):.2f} s median{cpu_text}"
                f" (runs: {listed})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
