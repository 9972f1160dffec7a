"""Workloads 3 and 4 (our host only): many idle members, and connect/join/leave churn."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bench import loadgen, procs
from bench.dialects import DIALECTS, nickname
from bench.fanout import DEFAULT_WINDOW_BUDGET
from net.protocol.limits import PROTOCOL_VERSION

MIB = 1024 * 1024
#: RSS growth after churn still counted as flat (allocator slack, caches filled once).
FLAT_RSS_MIB = 5.0


def _host_figures(stats: procs.Stats, prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}_rss_mib": round(stats.rss / MIB, 1),
        f"{prefix}_threads": stats.threads,
        f"{prefix}_fds": stats.fds,
    }


def run_scale(members: int = 500, idle: float = 10.0, messages: int = 10, *, tls: bool = False) -> dict:
    """`members` join and stay idle for `idle` s (answering pings), then each sends `messages`.
    With `tls`, the host serves TLS only and every member joins over TLS ("native-tls")."""
    result: dict[str, Any] = {"workload": "scale", "relay": "native-tls" if tls else "native",
                              "members": members, "idle_s": idle, "messages": messages}  # fmt: skip
    proc = procs.our_host("tcp", tls=tls)
    with procs.running(proc):
        result.update(asyncio.run(_scale(proc, members, idle, messages, tls)))
    return result


async def _scale(proc: procs.ManagedProcess, count: int, idle: float, messages: int, tls: bool) -> dict:
    empty = proc.stats()
    members = [loadgen.Member(index, DIALECTS["native"], sampling=False) for index in range(count)]
    expected_each = (count - 1) * messages
    try:
        await loadgen.join_all(members, proc.port, loadgen.tls_client() if tls else None)
        await loadgen.settle(idle)
        idle_stats = proc.stats()
        window = loadgen.make_window(members, DEFAULT_WINDOW_BUDGET)
        for member in members:
            member.expect(expected_each)
        started = time.perf_counter()
        senders = [asyncio.ensure_future(m.send(messages, 90, 10**9, window)) for m in members]
        complete = await loadgen.wait_delivered(members, timeout=60 + expected_each * count / 100_000)
        finished = max(m.last_at for m in members) or time.perf_counter()
        busy_stats = proc.stats()
        await asyncio.gather(*senders)
    finally:
        loadgen.close_all(members)
    delivered = sum(min(m.from_others, expected_each) for m in members)
    return {
        **_host_figures(empty, "empty"),
        **_host_figures(idle_stats, "idle"),
        **_host_figures(busy_stats, "after"),
        "deliveries": delivered,
        "expected": expected_each * count,
        "complete": complete,
        "lost_connections": sum(1 for m in members if m.lost),
        "seconds": round(finished - started, 3),
        "errors": sum(m.errors for m in members),
    }


def run_churn(cycles: int = 1000, concurrency: int = 10, warmup: int = 50) -> dict:
    """`cycles` times: connect, hello, wait for welcome, bye, close; the host must end flat."""
    result: dict[str, Any] = {"workload": "churn", "relay": "native", "cycles": cycles,
                              "concurrency": concurrency}  # fmt: skip
    proc = procs.our_host("tcp")
    with procs.running(proc):
        result.update(asyncio.run(_churn(proc, cycles, concurrency, warmup)))
    return result


async def _cycle(port: int, number: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        hello = {
            "type": "hello",
            "version": PROTOCOL_VERSION,
            "nick": nickname(number),
            "client_id": f"churn-{number}",
        }
        writer.write(json.dumps(hello).encode() + b"\n")
        while True:
            line = await asyncio.wait_for(reader.readline(), 10)
            if not line:
                raise loadgen.RelayError(f"churn cycle {number}: closed before the welcome")
            if b'"type":"welcome"' in line:
                break
            if b'"type":"refuse"' in line:
                raise loadgen.RelayError(f"churn cycle {number}: refused: {line[:200]!r}")
        writer.write(b'{"type":"bye"}\n')
        await writer.drain()
    finally:
        writer.close()
        await writer.wait_closed()


async def _cycles(port: int, numbers: range, concurrency: int) -> None:
    counter = iter(numbers)

    async def worker() -> None:
        for number in counter:
            await _cycle(port, number)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _settled(proc: procs.ManagedProcess, threads: int, fds: int, timeout: float = 10.0) -> procs.Stats:
    """The host's figures once its threads and descriptors are back to the given counts."""
    deadline = time.monotonic() + timeout
    while True:
        stats = proc.stats()
        if (stats.threads <= threads and stats.fds <= fds) or time.monotonic() > deadline:
            return stats
        await asyncio.sleep(0.05)


async def _quiet(proc: procs.ManagedProcess, timeout: float = 5.0) -> procs.Stats:
    """The host's figures once its thread and descriptor counts stop changing."""
    deadline = time.monotonic() + timeout
    previous = proc.stats()
    while True:
        await asyncio.sleep(0.5)
        current = proc.stats()
        same = (current.threads, current.fds) == (previous.threads, previous.fds)
        if same or time.monotonic() > deadline:
            return current
        previous = current


async def _churn(proc: procs.ManagedProcess, cycles: int, concurrency: int, warmup: int) -> dict:
    await _cycles(proc.port, range(warmup), concurrency)
    before = await _quiet(proc)
    started = time.perf_counter()
    await _cycles(proc.port, range(warmup, warmup + cycles), concurrency)
    seconds = time.perf_counter() - started
    after = await _settled(proc, before.threads, before.fds)
    return {
        **_host_figures(before, "before"),
        **_host_figures(after, "after"),
        "seconds": round(seconds, 3),
        "cycles_per_s": round(cycles / seconds, 1),
        "rss_growth_mib": round((after.rss - before.rss) / MIB, 2),
        "flat": after.threads <= before.threads
        and after.fds <= before.fds
        and (after.rss - before.rss) / MIB <= FLAT_RSS_MIB,
    }
