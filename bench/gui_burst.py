"""Workload 5: a burst of chat messages arriving through the GUI's bridge into the chat view.

The real window (`gui.app.App`) joins a real in-process TCP host over TLS, so the chat view is the
one a user sees. Then a thread, standing in for the network thread, posts N chat messages
to `app.bridge` as fast as it can while the Tk main loop runs for real. Figures: seconds
from the first post until the chat view has added every line (and Tk has drawn), and the
longest gap between two runs of a probe scheduled every millisecond on the main loop (a
stall: nothing else, not a click nor a redraw, could run during it).

Tk needs a display: the parent (`run_gui_burst`) runs this module as a child process under
`xvfb-run` when no DISPLAY is set, and reads one JSON line back.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import procs

PROBE_MS = 1


def run_gui_burst(messages: int) -> dict:
    """Run the burst in a child process (under Xvfb when needed); its JSON result."""
    argv = [sys.executable, "-m", "bench.gui_burst", "--messages", str(messages)]
    if not os.environ.get("DISPLAY"):
        xvfb_run = shutil.which("xvfb-run")
        if xvfb_run is None:
            raise procs.Unavailable("no DISPLAY and no xvfb-run (make bench installs Xvfb when root)")
        argv = [xvfb_run, "-a", "-s", "-screen 0 1280x1024x24", *argv]
    env = {**os.environ, "LANCHAT_LOOPBACK_ONLY": "1"}
    result = subprocess.run(argv, cwd=procs.REPO, env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        if "ModuleNotFoundError" in result.stderr or "ImportError" in result.stderr:
            raise procs.Unavailable(f"the GUI modules are not complete yet: {tail}")
        raise RuntimeError(f"the GUI burst failed ({result.returncode}): {tail}")
    return json.loads(lines[-1])


def _burst(messages: int) -> dict:
    import tkinter as tk

    from gui.app import App
    from gui.model.values import ROOM
    from gui.settings import SettingsStore
    from net.api import ClientState, HostConfig
    from net.protocol import events as ev
    from net.room import RoomConfig
    from net.secure.identity import load_or_create_identity
    from net.transports import make_host

    root = tk.Tk()
    # A TLS host, as every host is now (the window's client speaks TLS to it), with a
    # throw-away key and certificate.
    identity_dir = tempfile.TemporaryDirectory()
    identity = load_or_create_identity(Path(identity_dir.name), name="bench")
    host = make_host(
        "tcp",
        HostConfig(
            port=0, bind="127.0.0.1", room=RoomConfig(name="bench", rate_per_second=0), identity=identity
        ),
    )
    host.start()
    with identity_dir, tempfile.TemporaryDirectory() as settings_dir:
        app = App(root, SettingsStore(Path(settings_dir)), on_exit=lambda: None)
        try:
            start = app.start_view
            assert start is not None
            start.nick_var.set("reader")
            start.address_var.set(f"127.0.0.1:{host.port}")
            start.join_button.invoke()
            _pump_until(
                root,
                lambda: app.chat_view is not None and app.chat_view.status.state is ClientState.CONNECTED,
            )
            assert app.chat_view is not None
            pane = app.chat_view.panes[ROOM]
            shown_before = pane.lines_added
            wall = time.time()

            def post_all() -> None:  # what the client's network thread does, at full speed
                for number in range(messages):
                    text = f"burst message {number:05d} " + "x" * 60
                    app.bridge.post(ev.ChatMessage(f"b-{number}", "sender", text, wall))

            gaps: list[float] = []
            waits: list[float] = []  # of each gap, the time the OS left this thread runnable but not running
            run_queue = RunQueueWait()
            state = {"last": time.perf_counter(), "done_at": None, "waited": run_queue.read()}

            def probe() -> None:
                now = time.perf_counter()
                waited = run_queue.read()
                gaps.append(now - state["last"])
                waits.append(waited - state["waited"])
                state["last"], state["waited"] = now, waited
                if pane.lines_added - shown_before >= messages:
                    root.update_idletasks()  # the lines are drawn, not only inserted
                    state["done_at"] = time.perf_counter()
                    root.quit()
                    return
                if now - started > 120:
                    root.quit()
                    return
                root.after(PROBE_MS, probe)

            app.pump.longest_tick = 0.0  # the burst's ticks only, not the join's
            poster = threading.Thread(target=post_all, name="bench-network")
            started = time.perf_counter()
            state["last"], state["waited"] = started, run_queue.read()
            poster.start()
            root.after(PROBE_MS, probe)
            root.mainloop()
            poster.join(30)
            shown = pane.lines_added - shown_before
            done_at = state["done_at"] or time.perf_counter()
            longest = max(range(len(gaps)), key=gaps.__getitem__) if gaps else None
            own = [gap - wait for gap, wait in zip(gaps, waits, strict=True)]
            run_queue.close()
            gaps.sort()
            return {
                "workload": "gui",
                "messages": messages,
                "shown": shown,
                "seconds_to_shown": round(done_at - started, 4),
                "longest_stall_ms": round(gaps[-1] * 1000, 2) if gaps else None,
                "p99_gap_ms": round(gaps[int(0.99 * (len(gaps) - 1))] * 1000, 2) if gaps else None,
                # What the machine's other work added (Linux; 0 elsewhere): the run-queue wait
                # inside the longest stall, and the longest stall without its run-queue wait.
                "longest_stall_run_queue_ms": round(waits[longest] * 1000, 2) if gaps else None,
                "longest_stall_without_run_queue_ms": round(max(own) * 1000, 2) if gaps else None,
                "probe_ms": PROBE_MS,
                "pump_ticks": app.pump.ticks,
                # The pump's own part of a stall (Tk's redraws and waits for the GIL are the rest).
                "longest_pump_tick_ms": round(app.pump.longest_tick * 1000, 2),
                "scrollback_lines": app.settings.scrollback_lines,
            }
        finally:
            app.controller.end_session()
            host.stop()
            root.destroy()


class RunQueueWait:
    """Seconds the calling thread has waited for a CPU while runnable (Linux schedstat).

    Opened once and read with `pread`, so each probe costs a few microseconds; reads 0
    where the OS does not say.
    """

    def __init__(self) -> None:
        try:
            self._fd: int | None = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            self._fd = None

    def read(self) -> float:
        if self._fd is None:
            return 0.0
        try:
            return int(os.pread(self._fd, 128, 0).split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return 0.0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _pump_until(root, condition, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not join the benchmark host")
        root.update()
        time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description="GUI burst benchmark (one JSON line on stdout)")
    parser.add_argument("--messages", type=int, default=20_000)
    print(json.dumps(_burst(parser.parse_args().messages)))


if __name__ == "__main__":
    main()
