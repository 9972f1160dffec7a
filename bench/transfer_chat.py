"""Workload "transfer" (issue 16), part two: the chat while big files move.

- the chat's p99 latency at C members x 20 msg/s (the "steady" workload, our TLS host)
  while a worker process moves a big file again and again (`bench.transfer_worker`),
  beside the same steady run without a transfer, measured in the same run;
- the host's resident memory during that run (the host relays the chat, never file bytes
  on the direct route; its growth from the start includes the members joining, so the
  quiet run's growth is printed beside it) and the worker's (both ends of the transfer):
  growth must be flat;
- the same worker with every transfer through a `HostRelay` (the route a firewall forces):
  its growth covers the relay's buffers too.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from bench import fanout, procs
from bench.relays import RELAYS
from bench.report import Run

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024


class _Worker:
    """`python -m bench.transfer_worker`, ready to go."""

    def __init__(self, size: int, relayed: bool) -> None:
        args = [sys.executable, "-m", "bench.transfer_worker", str(size), *(["--relay"] if relayed else [])]
        self.proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdin is not None
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            raise RuntimeError("the transfer worker did not start")

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def finish(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        line = self.proc.stdout.readline()
        self.proc.wait(timeout=600)
        return dict(json.loads(line))


def _steady_with_host_rss(members: int, duration: float) -> dict[str, Any]:
    """`fanout.run_steady` on our TLS host, with the host's RSS sampled while it runs."""
    relay = RELAYS["native-tls"]
    started = relay.start

    peak: list[float] = []
    stop = threading.Event()

    def start() -> procs.ManagedProcess:
        proc = started()

        def sample() -> None:
            while not stop.wait(0.05):
                try:
                    peak.append(proc.stats().rss / MIB)
                except Exception:
                    return

        threading.Thread(target=sample, daemon=True).start()
        return proc

    patched = dataclasses.replace(relay, start=start)
    try:
        result = fanout.run_steady(patched, members, 20.0, duration)
    finally:
        stop.set()
    if peak:
        result["host_rss_start_mib"] = round(peak[0], 1)
        result["host_rss_growth_mib"] = round(max(peak) - peak[0], 1)
    return result


def run_transfer_chat(big_bytes: int, members: int, duration: float) -> Run:
    quiet = _steady_with_host_rss(members, duration)
    worker = _Worker(big_bytes, relayed=False)
    worker.go()
    busy = _steady_with_host_rss(members, duration)
    moved = worker.finish()
    relayed = _Worker(big_bytes, relayed=True)
    relayed.go()
    relayed_moved = relayed.finish()
    return {
        "workload": "transfer-chat",
        "members": members,
        "big_bytes": big_bytes,
        "p99_quiet_ms": quiet.get("p99_ms"),
        "p99_busy_ms": busy.get("p99_ms"),
        "complete": bool(quiet.get("complete")) and bool(busy.get("complete")),
        "transfers_during": moved["transfers"],
        "transfer_mib_s": round(moved["bytes"] / MIB / max(moved["seconds"], 1e-6), 1),
        "host_rss_start_mib": busy.get("host_rss_start_mib"),
        "host_rss_growth_quiet_mib": quiet.get("host_rss_growth_mib"),
        "host_rss_growth_mib": busy.get("host_rss_growth_mib"),
        "client_rss_start_mib": round(moved["rss_start_mib"], 1),
        "client_rss_growth_mib": round(moved["rss_peak_mib"] - moved["rss_start_mib"], 1),
        "relayed_mib_s": round(relayed_moved["bytes"] / MIB / max(relayed_moved["seconds"], 1e-6), 1),
        "relayed_rss_growth_mib": round(relayed_moved["rss_peak_mib"] - relayed_moved["rss_start_mib"], 1),
    }
