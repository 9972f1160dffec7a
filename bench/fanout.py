"""Workloads 1 and 2: fan-out at the highest rate, and steady latency at a fixed rate.

Each run starts a fresh relay process, joins C members, lets them send, waits until every
member has every other member's messages, and stops the relay. Results are plain dicts
(they go straight into latest.json).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from bench import loadgen, payload, procs
from bench.relays import Relay

#: Latency samples wanted per run: enough for a stable p99 (200 beyond it), few enough that
#: parsing them is not what limits the generator (50,000 was a quarter of its CPU at C = 50).
_TARGET_SAMPLES = 20_000


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _latency_ms(samples: list[float], read_samples: list[float] | None = None) -> dict[str, float | None]:
    """Percentiles of `samples`; with `read_samples` (TCP members: `samples` are to the relay's
    bytes arriving, see `bench.stream`) also those of the same messages to their reading."""

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 3)

    figures = {
        "p50_ms": ms(percentile(samples, 0.50)),
        "p99_ms": ms(percentile(samples, 0.99)),
        "max_ms": ms(max(samples) if samples else None),
        "samples": len(samples),
    }
    if read_samples is not None:
        figures["read_p50_ms"] = ms(percentile(read_samples, 0.50))
        figures["read_p99_ms"] = ms(percentile(read_samples, 0.99))
    return figures


def _audit(members: list[loadgen.Member]) -> dict[str, int]:
    audited = whole = fragments = 0
    for member in members:
        if member.audit is not None:
            audited += 1
            counted = payload.count_fragments(b"".join(member.audit))
            whole += counted[0]
            fragments += counted[1]
            member.audit = None
    return {"audited_members": audited, "audited_deliveries": whole + fragments, "fragments": fragments}


#: Deliveries each member may have outstanding (see loadgen's docstring).
DEFAULT_WINDOW_BUDGET = 512


def run_fanout(
    relay: Relay,
    members: int,
    messages: int,
    size: int = 90,
    audit_members: int = 20,
    window_budget: int = DEFAULT_WINDOW_BUDGET,
) -> dict:
    """Every member sends `messages` back to back; every other member must receive them."""
    result: dict[str, Any] = {"workload": "fanout", "relay": relay.name, "members": members,
                              "messages": messages, "size": size}  # fmt: skip
    proc = relay.start()
    with procs.running(proc):
        result.update(
            asyncio.run(_fanout(proc, relay, members, messages, size, audit_members, window_budget))
        )
    return result


async def _fanout(
    proc: procs.ManagedProcess,
    relay: Relay,
    count: int,
    messages: int,
    size: int,
    audit_members: int,
    window_budget: int,
) -> dict:
    members = [
        loadgen.Member(index, relay.dialect, audit=[] if index < audit_members else None)
        for index in range(count)
    ]
    window = loadgen.make_window(members, window_budget)
    try:
        await loadgen.join_all(members, proc.port, relay.client_tls())
        figures = await timed_fanout(proc, members, messages, size, window, min_rate=100_000)
    finally:
        loadgen.close_all(members)
    return {**figures, **_audit(members)}


async def timed_fanout(
    proc: procs.ManagedProcess,
    members: list[loadgen.Member],
    messages: int,
    size: int,
    window: loadgen.Window,
    *,
    min_rate: float,
) -> dict[str, Any]:
    """The timed phase of a fan-out, the same whatever the transport: every member (joined)
    sends `messages` within its window and expects every other member's; waits at most 30 s
    plus the deliveries at `min_rate` per second; returns the figures."""
    count = len(members)
    expected_each = (count - 1) * messages
    total_expected = expected_each * count
    sample_every = max(1, round(total_expected / _TARGET_SAMPLES))
    before = proc.stats()
    cpu_before = time.process_time()
    for member in members:
        member.expect(expected_each, own=messages)
    bytes_before = sum(m.received_bytes for m in members)
    started = time.perf_counter()
    send = [m.send(messages, size, sample_every, window, members=count) for m in members]
    senders = [asyncio.ensure_future(sending) for sending in send]
    complete = await loadgen.wait_delivered(members, timeout=30 + total_expected / min_rate)
    finished = max(m.last_at for m in members) or time.perf_counter()
    generator_cpu = time.process_time() - cpu_before
    after = proc.stats()
    received_bytes = sum(m.received_bytes for m in members) - bytes_before
    await asyncio.gather(*senders)
    figures = fanout_figures(
        members,
        expected_each,
        window.size,
        complete,
        finished - started,
        after.cpu - before.cpu,
        generator_cpu,
    )
    if figures["deliveries"]:
        # What a receiver reads per message from another member (a relay that echoes a
        # member's own messages back sends those too), before TLS if any.
        figures["bytes_per_delivery"] = round(received_bytes / figures["deliveries"], 1)
    return figures


def fanout_figures(
    members: list,
    expected_each: int,
    window_size: int,
    complete: bool,
    seconds: float,
    host_cpu: float,
    generator_cpu: float,
) -> dict[str, Any]:
    """The figures of a fan-out run, whichever generator drove it (TCP dialects or UDP)."""
    delivered = sum(min(m.from_others, expected_each) for m in members)
    samples = [s for m in members for s in m.samples]
    read_samples = [s for m in members for s in m.read_samples]
    return {
        "deliveries": delivered,
        "expected": expected_each * len(members),
        "window": window_size,
        "complete": complete,
        "extra": sum(max(0, m.from_others - expected_each) for m in members),
        "seconds": round(seconds, 4),
        "deliveries_per_s": round(delivered / seconds) if seconds > 0 else None,
        **_latency_ms(samples, read_samples),
        "host_cpu_s": round(host_cpu, 3),
        "generator_cpu_s": round(generator_cpu, 3),
        "host_cpu_us_per_delivery": round(1e6 * host_cpu / delivered, 4) if delivered else None,
        "errors": sum(m.errors for m in members),
    }


def run_steady(relay: Relay, members: int, rate: float, duration: float, size: int = 90) -> dict:
    """Every member sends `rate` messages a second for `duration` seconds; all are sampled."""
    result: dict[str, Any] = {"workload": "steady", "relay": relay.name, "members": members, "rate": rate,
                              "duration": duration}  # fmt: skip
    proc = relay.start()
    with procs.running(proc):
        result.update(asyncio.run(_steady(proc, relay, members, rate, duration, size)))
    return result


async def _steady(
    proc: procs.ManagedProcess, relay: Relay, count: int, rate: float, duration: float, size: int
):
    members = [loadgen.Member(index, relay.dialect) for index in range(count)]
    per_member = max(1, round(rate * duration))
    expected_each = (count - 1) * per_member
    try:
        await loadgen.join_all(members, proc.port, relay.client_tls())
        before = proc.stats()
        cpu_before = time.process_time()
        for member in members:
            member.expect(expected_each, own=per_member)
        started = time.perf_counter()
        await asyncio.gather(*(m.send(per_member, size, 1, interval=1 / rate) for m in members))
        complete = await loadgen.wait_delivered(members, timeout=30)
        elapsed = time.perf_counter() - started
        generator_cpu = time.process_time() - cpu_before
        after = proc.stats()
    finally:
        loadgen.close_all(members)
    samples = [s for m in members for s in m.samples]
    read_samples = [s for m in members for s in m.read_samples]
    return {
        "deliveries": sum(min(m.from_others, expected_each) for m in members),
        "expected": expected_each * count,
        "complete": complete,
        **_latency_ms(samples, read_samples),
        "mean_ms": round(statistics.fmean(samples) * 1000, 3) if samples else None,
        "host_cpu_cores": round((after.cpu - before.cpu) / elapsed, 3),
        "generator_cpu_cores": round(generator_cpu / elapsed, 3),
        "errors": sum(m.errors for m in members),
    }
