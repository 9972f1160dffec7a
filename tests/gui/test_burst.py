"""A burst of 20,000 incoming messages: all shown, the window stays responsive, memory stays flat.

The main loop runs for real (``mainloop``) while a probe scheduled every 5 ms records how
long each turn of the loop took; the longest gap between two probe runs is the figure the
issue asks for (under 50 ms).

On a shared machine the OS sometimes does not run the main thread at all for a while
(other processes have the CPUs). On Linux the probe also reads how long the thread sat in
the run queue (``/proc/thread-self/schedstat``) and the assertion is on the gap without
that wait: what the window's own work and its threads cost. Both figures are recorded.
When the machine is overloaded (load average above 1.5 per CPU, e.g. several test runs at
once) the limit is relaxed to 150 ms and the load is recorded with the figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import tkinter as tk
from collections.abc import Callable
from pathlib import Path

from gui.model.values import ROOM
from net.protocol import events as ev
from tests.gui.driving import connected, join_from_window

BURST = 20_000
PROBE_MS = 5
MAX_GAP = 0.050


SCHEDSTAT = Path("/proc/thread-self/schedstat")


def machine_overloaded() -> bool:
    """More runnable work than CPUs (other test runs, builds): wall-clock gaps say little then."""
    try:
        return os.getloadavg()[0] > (os.cpu_count() or 1) * 1.5
    except OSError:
        return False


def allowed_gap() -> float:
    """50 ms, as the issue asks; three times that on a machine that is overloaded right now."""
    return MAX_GAP * 3 if machine_overloaded() else MAX_GAP


def run_queue_wait() -> float:
    """Seconds this thread has spent runnable but not running (0 where the OS does not say)."""
    try:
        return int(SCHEDSTAT.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class Gaps:
    """Gaps between probe ticks: as measured, and without the OS run-queue wait."""

    def __init__(self) -> None:
        self.raw: list[float] = []
        self.own: list[float] = []

    @property
    def longest_raw(self) -> float:
        return max(self.raw)

    @property
    def longest_own(self) -> float:
        return max(self.own)


def run_loop_until(root: tk.Tk, done: Callable[[], bool], timeout: float) -> Gaps:
    """Run the Tk main loop until `done()`; returns the gaps between probe ticks (seconds)."""
    gaps = Gaps()
    last = time.perf_counter()
    last_wait = run_queue_wait()
    deadline = last + timeout
    state = {"after": None}

    def probe() -> None:
        nonlocal last, last_wait
        now = time.perf_counter()
        waited = run_queue_wait()
        gaps.raw.append(now - last)
        gaps.own.append(max(0.0, (now - last) - (waited - last_wait)))
        last, last_wait = now, waited
        if done() or now > deadline:
            root.quit()
            return
        state["after"] = root.after(PROBE_MS, probe)

    state["after"] = root.after(PROBE_MS, probe)
    root.mainloop()
    assert done(), f"not done within {timeout} s"
    return gaps


def report(record_property, name: str, gaps: Gaps, what: str) -> None:
    record_property(f"{name}_longest_gap_ms", round(gaps.longest_raw * 1000, 1))
    record_property(f"{name}_longest_gap_without_run_queue_ms", round(gaps.longest_own * 1000, 1))
    record_property(f"{name}_load_average", round(os.getloadavg()[0], 2))
    print(
        f"\n{what}; longest main-loop gap {gaps.longest_raw * 1000:.1f} ms"
        f" ({gaps.longest_own * 1000:.1f} ms without waiting for a CPU);"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


def test_burst_over_tcp_is_shown_with_short_loop_gaps(make_app, record_property):
    """20,000 messages from another member arrive over TCP; the window shows them all."""
    peer = subprocess.Popen(
        [sys.executable, "-m", "tests.gui.burst_peer"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        port = int(peer.stdout.readline())
        app = make_app(scrollback_lines=5_000)
        join_from_window(app, "reader", f"127.0.0.1:{port}")
        make_app.wait(lambda: connected(app))
        pane = app.chat_view.panes[ROOM]
        shown_before = pane.lines_added
        started = time.perf_counter()
        peer.stdin.write(f"{BURST}\n")
        peer.stdin.flush()
        gaps = run_loop_until(app.root, lambda: pane.lines_added - shown_before >= BURST + 1, timeout=50)
        elapsed = time.perf_counter() - started
    finally:
        peer.stdin.close()
        peer.wait(10)
    report(record_property, "burst_tcp", gaps, f"20,000 messages over TCP shown in {elapsed:.2f} s")

    assert pane.lines_added - shown_before == BURST + 1  # and the line saying flood joined
    assert pane.line_count() <= 5_000
    assert f"message {BURST - 1:05d}" in pane.text.get("end-2l", "end")
    assert f"message {BURST - 5_000:05d}" in pane.content()  # exactly the last 5,000 lines kept
    assert f"message {BURST - 5_001:05d}" not in pane.content()  # trimmed: memory stays flat
    limit = allowed_gap()
    assert gaps.longest_own < limit, f"the main loop stalled for {gaps.longest_own * 1000:.1f} ms"


def test_burst_already_queued_is_drained_in_short_ticks(make_app, headless_host, record_property):
    """Worst case: all 20,000 are waiting in the bridge before the first tick."""
    host = headless_host()
    app = make_app(scrollback_lines=1_000)
    join_from_window(app, "reader", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app))
    pane = app.chat_view.panes[ROOM]
    shown_before = pane.lines_added
    now = time.time()

    def post_all() -> None:  # as a network thread would
        for number in range(BURST):
            app.bridge.post(ev.ChatMessage(f"burst-{number}", "ghost", f"queued {number} 🙂", now))

    thread = threading.Thread(target=post_all, name="fake-network")
    thread.start()
    thread.join(10)
    assert len(app.bridge) >= BURST
    gaps = run_loop_until(app.root, lambda: pane.lines_added - shown_before >= BURST, timeout=30)
    report(record_property, "burst_queued", gaps, "20,000 queued messages drained")
    assert pane.line_count() <= 1_000
    assert f"queued {BURST - 1} 🙂" in pane.text.get("end-2l", "end")
    limit = allowed_gap()
    assert gaps.longest_own < limit, f"the main loop stalled for {gaps.longest_own * 1000:.1f} ms"
