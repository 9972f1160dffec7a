"""Workload "transfer" (issue 16): file transfers against the practical limit, on loopback.

- one big file (1 GiB; quick 128 MiB) through the real engine (`TransferServer` and
  `Fetch`: manifest, token, TLS stream, `.part`, SHA-256 check, rename), beside the
  baseline measured in the same run: a plain Python TLS socket `sendall` loop of the same
  number of bytes from memory to a reader that discards them (no disk, no hash). Target:
  at least 0.8 x the baseline's throughput;
- both senders run in a process of their own (`bench.transfer_sender`, the second PC:
  no shared GIL between the two ends) and both ends of both at the transfer priority;
  the CPU seconds both processes spent are reported beside each (and what SHA-256
  alone costs here), since on a 2-core machine both ends share the same two cores, and
  the engine has to hash and write every byte the baseline throws away;
- 10,000 files of 4 KiB (quick 2,000) in one offer, beside the same bytes as one file:
  files a second, and the ratio of the two times;
- how fast this disk takes a file in (writing the big file first), for context;
- the receiving and the sending process's resident memory during the big transfer: the
  growth over the start must stay flat (a bounded chunk per transfer, never a file).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.report import Run, Target, find
from bench.transfer_rss import PeakRss
from net.files.fetch import Fetch, Ticket
from net.files.sockets import lower_priority
from net.secure.tls import client_context

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
#: Growth of resident memory during the big transfer still counted as flat.
FLAT_RSS_MIB = 64


def _write_file(path: Path, size: int) -> None:
    block = os.urandom(MIB)
    with open(path, "wb") as handle:
        left = size
        while left:
            handle.write(block[: min(MIB, left)])
            left -= min(MIB, left)


class _SenderPc:
    """`python -m bench.transfer_sender`: the sending end, one command a line."""

    def __init__(self) -> None:
        args = [sys.executable, "-m", "bench.transfer_sender"]
        self.proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        hello = json.loads(self.ask_line())
        self.port, self.fingerprint = int(hello["port"]), bytes.fromhex(hello["fingerprint"])

    def ask_line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the sending process ended")
        return line

    def ask(self, command: str) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.ask_line())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _measured(sender: _SenderPc, receive: Callable[[], None]) -> tuple[float, float]:
    """Seconds `receive` took on a thread at the transfer priority (as FileTransfers runs a
    fetch), and the CPU seconds both processes spent meanwhile."""
    failure: list[BaseException] = []

    def run() -> None:
        lower_priority()
        try:
            receive()
        except BaseException as exc:
            failure.append(exc)

    cpu_before, sender_before = _cpu_seconds(), sum(sender.ask("cpu"))
    started = time.perf_counter()
    thread = threading.Thread(target=run, name="bench receiver")
    thread.start()
    thread.join()
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before + sum(sender.ask("cpu")) - sender_before
    if failure:
        raise failure[0]
    return seconds, cpu


def _engine(sender: _SenderPc, paths: list[Path], inbox: Path) -> tuple[float, float]:
    sender.ask("offer " + " ".join(str(path) for path in paths))
    token = sender.ask("grant")
    ticket = Ticket("127.0.0.1", sender.port, sender.fingerprint, "bench", "bench", token)
    return _measured(sender, lambda: Fetch(ticket, inbox).run() and None)


def _baseline(sender: _SenderPc, size: int) -> tuple[float, float]:
    """A plain TLS `sendall` loop of `size` bytes from memory to a reader that discards them."""
    port = sender.ask(f"baseline {size}")

    def receive() -> None:
        with client_context().wrap_socket(socket.create_connection(("127.0.0.1", port))) as tls:
            buffer = bytearray(MIB)
            got = 0
            while got < size:
                count = tls.recv_into(buffer)
                if not count:
                    raise RuntimeError("the baseline sender stopped early")
                got += count

    return _measured(sender, receive)


def _sha256_seconds_per_gib(sample: int = 256 * MIB) -> float:
    """CPU seconds SHA-256 takes for a GiB here: what a receiver must spend beyond TLS."""
    block = os.urandom(MIB)
    digest = hashlib.sha256()
    started = time.thread_time()
    for _ in range(sample // MIB):
        digest.update(block)
    return (time.thread_time() - started) * (1024 * MIB) / sample


def run_transfer(big_bytes: int, small_files: int, small_size: int = 4096) -> Run:
    sender = _SenderPc()
    try:
        with tempfile.TemporaryDirectory(prefix="lanchat-bench-transfer-") as folder:
            root = Path(folder)
            big = root / "big.bin"
            started = time.perf_counter()
            _write_file(big, big_bytes)
            disk_write = time.perf_counter() - started  # what this disk takes in, for context
            baseline, baseline_cpu = _baseline(sender, big_bytes)
            sender.ask("rss")  # the sender's memory from here
            with PeakRss() as rss:
                engine, engine_cpu = _engine(sender, [big], root / "in-big")
            sender_rss = sender.ask("rss")
            (root / "in-big" / "big.bin").unlink()
            many = root / "many"
            many.mkdir()
            content = os.urandom(small_size)
            for n in range(small_files):
                (many / f"{n:05d}.bin").write_bytes(content)
            one = root / "one.bin"
            _write_file(one, small_files * small_size)
            many_seconds, _ = _engine(sender, [many], root / "in-many")
            one_seconds, _ = _engine(sender, [one], root / "in-one")
    finally:
        sender.close()
    gib = big_bytes / (1024 * MIB)
    return {
        "workload": "transfer",
        "big_bytes": big_bytes,
        "engine_mib_s": round(big_bytes / MIB / engine, 1),
        "baseline_tls_mib_s": round(big_bytes / MIB / baseline, 1),
        "ratio": round(baseline / engine, 2),
        "engine_cpu_s_per_gib": round(engine_cpu / gib, 2),
        "baseline_cpu_s_per_gib": round(baseline_cpu / gib, 2),
        "sha256_cpu_s_per_gib": round(_sha256_seconds_per_gib(), 2),
        "cores": os.cpu_count(),
        "disk_write_mib_s": round(big_bytes / MIB / disk_write, 1),
        "rss_start_mib": round(rss.start, 1),
        "rss_growth_mib": round(rss.peak - rss.start, 1),
        "sender_rss_growth_mib": round(sender_rss[1] - sender_rss[0], 1),
        "small_files": small_files,
        "small_files_per_s": round(small_files / many_seconds),
        "small_as_one_file_s": round(one_seconds, 3),
        "small_files_s": round(many_seconds, 3),
    }


def transfer_targets(runs: list[Run]) -> list[Target]:
    run = find(runs, "transfer")
    if run is None:
        names = ("one big file vs TLS sendall", "small files", "memory during a transfer")
        return [Target(f"transfer: {name}", "", "not measured", None) for name in names] + _chat_targets(runs)
    size = f"{run['big_bytes'] // MIB:,} MiB"
    return [
        Target(
            "transfer: one big file vs TLS sendall",
            "≥ 0.8 × plain TLS sendall",
            f"{run['engine_mib_s']} vs {run['baseline_tls_mib_s']} MiB/s ({size}): {run['ratio']} × "
            f"(CPU {run.get('engine_cpu_s_per_gib')} vs {run.get('baseline_cpu_s_per_gib')} s/GiB; "
            f"SHA-256 alone {run.get('sha256_cpu_s_per_gib')} s/GiB; both ends on {run.get('cores')} cores; "
            f"this disk writes {run['disk_write_mib_s']} MiB/s)",
            run["ratio"] >= 0.8,
        ),
        Target(
            "transfer: small files",
            "files/s (same bytes as one file beside)",
            f"{run['small_files']:,} × 4 KiB: {run['small_files_per_s']:,} files/s, {run['small_files_s']} s "
            f"vs {run['small_as_one_file_s']} s as one file",
            None,  # a figure beside its baseline: the issue sets no number for it
        ),
        Target(
            "transfer: memory during a transfer",
            f"flat (growth < {FLAT_RSS_MIB} MiB)",
            f"receiver +{run['rss_growth_mib']} MiB over {run['rss_start_mib']} MiB, sender "
            f"+{run.get('sender_rss_growth_mib')} MiB ({size})",
            max(run["rss_growth_mib"], run.get("sender_rss_growth_mib") or 0) < FLAT_RSS_MIB,
        ),
        *_chat_targets(runs),
    ]


#: The chat's p99 latency while big files move (issue 16).
CHAT_P99_MS = 5.0


def _chat_targets(runs: list[Run]) -> list[Target]:
    run = find(runs, "transfer-chat")
    if run is None:
        names = ("chat p99 while a big file moves", "host and client memory during transfers")
        return [Target(f"transfer: {name}", "", "not measured", None) for name in names]
    quiet, busy = run["p99_quiet_ms"], run["p99_busy_ms"]
    ratio = f"{busy / quiet:.2f} ×" if quiet and busy else "n/a"
    growths = (run["host_rss_growth_mib"] or 0, run["client_rss_growth_mib"], run["relayed_rss_growth_mib"])
    return [
        Target(
            f"transfer: chat p99 at {run['members']} × 20 msg/s while a big file moves",
            f"≤ {CHAT_P99_MS:g} ms",
            f"{busy} ms vs {quiet} ms without a transfer ({ratio}); {run['transfers_during']} × "
            f"{run['big_bytes'] // MIB:,} MiB moved at {run['transfer_mib_s']} MiB/s meanwhile",
            bool(run["complete"]) and busy is not None and busy <= CHAT_P99_MS,
        ),
        Target(
            "transfer: host and client memory during transfers",
            f"flat (growth < {FLAT_RSS_MIB} MiB)",
            f"host +{growths[0]} MiB over {run['host_rss_start_mib']} MiB "
            f"(+{run['host_rss_growth_quiet_mib']} MiB with no transfer: members joining), client "
            f"(both ends) +{growths[1]} MiB, relayed through a host relay +{growths[2]} MiB "
            f"({run['relayed_mib_s']} MiB/s relayed)",
            max(growths) < FLAT_RSS_MIB,
        ),
    ]
