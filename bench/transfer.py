"""Workload "transfer" (issue 16): file transfers against the practical limit, on loopback.

- one big file (1 GiB; quick 128 MiB) through the real engine (`TransferServer` and
  `Fetch`: manifest, token, TLS stream, `.part`, SHA-256 check, rename), beside the
  baseline measured in the same run: a plain Python TLS socket `sendall` loop of the same
  number of bytes from memory to a reader that discards them (no disk, no hash). Target:
  at least 0.8 x the baseline's throughput;
- 10,000 files of 4 KiB (quick 2,000) in one offer, beside the same bytes as one file:
  files a second, and the ratio of the two times;
- how fast this disk takes a file in (writing the big file first): the baseline writes
  nothing, a transfer writes every byte, so a slow disk caps the ratio;
- the process's resident memory during the big transfer (both ends run in this process):
  the growth over the start must stay flat (a bounded chunk per transfer, never a file).
"""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path

from bench.report import Run, Target, find
from net.files.fetch import Fetch, Ticket
from net.files.manifest import build_manifest
from net.files.server import TransferServer
from net.paths import identity_dir
from net.secure.identity import load_or_create_identity
from net.secure.tls import client_context, server_context

MIB = 1024 * 1024
#: Growth of resident memory during the big transfer still counted as flat.
FLAT_RSS_MIB = 64


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class _PeakRss:
    """Samples this process's resident memory every 20 ms while a transfer runs."""

    def __init__(self) -> None:
        self.start = _rss_mib()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mib())

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _write_file(path: Path, size: int) -> None:
    block = os.urandom(MIB)
    with open(path, "wb") as handle:
        left = size
        while left:
            handle.write(block[: min(MIB, left)])
            left -= min(MIB, left)


def _engine_seconds(server: TransferServer, paths: list[Path], inbox: Path) -> float:
    server.add_offer("bench", build_manifest(paths).entries)
    ticket = Ticket(
        "127.0.0.1", server.port, server.fingerprint, "bench", "bench", server.grant("bench", "bench")
    )
    started = time.perf_counter()
    Fetch(ticket, inbox).run()
    seconds = time.perf_counter() - started
    server.remove_offer("bench")
    return seconds


def _baseline_seconds(tls_server: ssl.SSLContext, size: int) -> float:
    """A plain TLS `sendall` loop of `size` bytes from memory to a reader that discards them."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    block = os.urandom(MIB)

    def send() -> None:
        sock, _ = listener.accept()
        with tls_server.wrap_socket(sock, server_side=True) as tls:
            left = size
            while left:
                tls.sendall(block[: min(MIB, left)])
                left -= min(MIB, left)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    with client_context().wrap_socket(socket.create_connection(("127.0.0.1", port))) as tls:
        buffer = bytearray(MIB)
        started = time.perf_counter()
        got = 0
        while got < size:
            count = tls.recv_into(buffer)
            if not count:
                break
            got += count
        seconds = time.perf_counter() - started
    sender.join()
    listener.close()
    return seconds


def run_transfer(big_bytes: int, small_files: int, small_size: int = 4096) -> Run:
    identity = load_or_create_identity(identity_dir())
    server = TransferServer(identity, bind="127.0.0.1")
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="lanchat-bench-transfer-") as folder:
            root = Path(folder)
            big = root / "big.bin"
            started = time.perf_counter()
            _write_file(big, big_bytes)
            disk_write = time.perf_counter() - started  # what this disk takes in, for context
            baseline = _baseline_seconds(server_context(identity), big_bytes)
            with _PeakRss() as rss:
                engine = _engine_seconds(server, [big], root / "in-big")
            (root / "in-big" / "big.bin").unlink()
            many = root / "many"
            many.mkdir()
            content = os.urandom(small_size)
            for n in range(small_files):
                (many / f"{n:05d}.bin").write_bytes(content)
            one = root / "one.bin"
            _write_file(one, small_files * small_size)
            many_seconds = _engine_seconds(server, [many], root / "in-many")
            one_seconds = _engine_seconds(server, [one], root / "in-one")
    finally:
        server.stop()
    return {
        "workload": "transfer",
        "big_bytes": big_bytes,
        "engine_mib_s": round(big_bytes / MIB / engine, 1),
        "baseline_tls_mib_s": round(big_bytes / MIB / baseline, 1),
        "ratio": round(baseline / engine, 2),
        "disk_write_mib_s": round(big_bytes / MIB / disk_write, 1),
        "rss_start_mib": round(rss.start, 1),
        "rss_growth_mib": round(rss.peak - rss.start, 1),
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
            f"(this disk writes {run['disk_write_mib_s']} MiB/s)",
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
            f"+{run['rss_growth_mib']} MiB over {run['rss_start_mib']} MiB ({size}, both ends here)",
            run["rss_growth_mib"] < FLAT_RSS_MIB,
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
