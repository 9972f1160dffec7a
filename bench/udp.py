"""UDP fan-out (workload 1) and UDP under loss (workload 7).

The host is `main.py host --transport udp --rate-limit 0`, a separate process. Two load
generators drive it:

- fan-out (`run_udp_fanout`) uses the lean one, `bench.udp_loadgen`: every member on one
  asyncio loop, each with its own socket and a real `net.udp.channel.Channel` (the same
  datagrams, acks and timers as a client), counting deliveries with `bytes.count` like the
  TCP generator, so the figure measures the host rather than the members;
- `run_udp_fanout_clients` and the loss workload use our own `net.udp.client.UdpClient`
  objects (one I/O thread each, JSON decoding of every delivery) and check every delivery
  by sender and number: under loss, exactly once is what is measured. For workload 7 the
  lossy loopback relay of the UDP tests (`tests/udp/relay.py`) sits between them and the host.

The window is the same as over TCP: a member keeps at most W messages on their way,
credited when the probe member (the last to join) has received them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from bench import loadgen, payload, procs, udp_loadgen
from bench.dialects import DIALECTS
from bench.fanout import _TARGET_SAMPLES, DEFAULT_WINDOW_BUDGET, _latency_ms, timed_fanout
from bench.loadgen import RelayError
from net.api import ClientConfig, ClientState
from net.protocol import events as ev

_JOIN_TIMEOUT = 60.0


class _ThreadWindow:
    """The loadgen window for threads: per-sender credit behind a condition variable."""

    def __init__(self, members: int, budget: int) -> None:
        self.size = max(2, -(-budget // max(1, members - 1)))
        self.confirmed = [0] * members
        self.changed = threading.Condition()

    def credit(self, sender: int) -> None:
        with self.changed:
            self.confirmed[sender] += 1
            self.changed.notify()


class _Member:
    def __init__(self, index: int, window: _ThreadWindow) -> None:
        self.index = index
        self.window = window
        self.confirms: tuple[int | None, int | None] | None = None  # (skip, only)
        self.received = 0
        self.duplicates = 0
        self.seen: set[tuple[int, int]] = set()
        self.samples: list[float] = []
        self.last_at = 0.0
        self.client: Any = None

    def on_event(self, event: object) -> None:
        if not isinstance(event, ev.ChatMessage):
            return
        now = time.perf_counter()
        parsed = payload.read_text(event.text)
        if parsed is None:
            return
        sender, seq, sent_at = parsed
        if sender == self.index:
            return
        key = (sender, seq)
        if key in self.seen:
            self.duplicates += 1
            return
        self.seen.add(key)
        self.received += 1
        self.last_at = now
        if sent_at is not None:
            self.samples.append(now - sent_at)
        if self.confirms is not None:
            skip, only = self.confirms
            if sender != skip and (only is None or sender == only):
                self.window.credit(sender)


def _udp_host() -> procs.ManagedProcess:
    proc = procs.our_host("udp")
    try:
        proc.wait_log("listening on")
    except procs.Unavailable:
        proc.stop()
        raise
    return proc


def _fanout(host_port: int, count: int, messages: int, proc: procs.ManagedProcess, connect_port: int) -> dict:
    from net.udp.client import UdpClient

    window = _ThreadWindow(count, DEFAULT_WINDOW_BUDGET)
    members = [_Member(index, window) for index in range(count)]
    if count >= 2:
        members[-1].confirms = (members[-1].index, None)
        members[-2].confirms = (None, members[-1].index)
    expected_each = (count - 1) * messages
    sample_every = max(1, round(expected_each * count / _TARGET_SAMPLES))
    try:
        for member in members:
            config = ClientConfig(host="127.0.0.1", port=connect_port, nick=f"bench{member.index:04d}")
            member.client = UdpClient(config, on_event=member.on_event)
            member.client.start()
        deadline = time.monotonic() + _JOIN_TIMEOUT
        while not all(m.client.state is ClientState.CONNECTED for m in members):
            if time.monotonic() > deadline:
                states = sorted(str(m.client.state.value) for m in members)
                raise RelayError(f"not every UDP member could join within {_JOIN_TIMEOUT:g} s: {states}")
            time.sleep(0.02)
        before = proc.stats()
        cpu_before = time.process_time()
        started = time.perf_counter()
        _send_all(members, messages, sample_every, window)
        complete = _wait(members, expected_each, timeout=60 + expected_each * count / 20_000)
        finished = max(m.last_at for m in members) or time.perf_counter()
        generator_cpu = time.process_time() - cpu_before
        after = proc.stats()
    finally:
        for member in members:
            if member.client is not None:
                member.client.close()
    samples = [s for m in members for s in m.samples]
    delivered = sum(min(m.received, expected_each) for m in members)
    seconds = finished - started
    return {
        "deliveries": delivered,
        "expected": expected_each * count,
        "window": window.size,
        "complete": complete,
        "duplicates": sum(m.duplicates for m in members),
        "seconds": round(seconds, 4),
        "deliveries_per_s": round(delivered / seconds) if seconds > 0 else None,
        **_latency_ms(samples),
        "host_cpu_s": round(after.cpu - before.cpu, 3),
        "generator_cpu_s": round(generator_cpu, 3),
        "generator": "net.udp.client.UdpClient, one I/O thread per member",
    }


#: Seconds without any window opening after which the sender gives up (the run is then
#: reported incomplete instead of waiting for ever).
_SEND_STALL_SECONDS = 15.0


def _send_all(members: list[_Member], messages: int, sample_every: int, window: _ThreadWindow) -> None:
    """One sending thread (this one) round-robins over the members as their windows allow."""
    sent = [0] * len(members)
    last_progress = time.monotonic()
    while True:
        progressed = False
        unfinished = False
        for member in members:
            me = member.index
            allowed = min(messages - sent[me], window.size - (sent[me] - window.confirmed[me]))
            if sent[me] < messages:
                unfinished = True
            for seq in range(sent[me], sent[me] + max(0, allowed)):
                sampled = (seq + me) % sample_every == 0
                member.client.send_message(payload.message_text(me, seq, sampled, time.perf_counter(), 90))
                progressed = True
            sent[me] += max(0, allowed)
        if not unfinished:
            return
        if progressed:
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > _SEND_STALL_SECONDS:
            return  # nothing is being delivered: `_wait` reports the run incomplete
        else:
            with window.changed:
                window.changed.wait(0.01)


def _wait(members: list[_Member], expected_each: int, timeout: float, idle: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    last_total, last_change = -1, time.monotonic()
    while True:
        if all(m.received >= expected_each for m in members):
            return True
        now = time.monotonic()
        total = sum(m.received for m in members)
        if total != last_total:
            last_total, last_change = total, now
        if now > deadline or now - last_change > idle:
            return False
        time.sleep(0.01)


LEAN_GENERATOR = "bench.udp_loadgen: one asyncio loop, a net.udp Channel per member, deliveries counted"


def run_udp_fanout(members: int, messages: int, size: int = 90) -> dict:
    """Fan-out over UDP driven by the lean generator (the table's UDP figure)."""
    result: dict[str, Any] = {"workload": "fanout", "relay": "udp", "members": members,
                              "messages": messages, "size": size}  # fmt: skip
    proc = _udp_host()
    try:
        result.update(asyncio.run(_lean_fanout(proc, members, messages, size)))
    finally:
        proc.stop()
    return result


async def _lean_fanout(proc: procs.ManagedProcess, count: int, messages: int, size: int) -> dict:
    """As `bench.fanout._fanout` over TCP: the same members, window, counting and sampling."""
    members = [loadgen.Member(index, DIALECTS["native"]) for index in range(count)]
    window = loadgen.make_window(members, DEFAULT_WINDOW_BUDGET)
    hub = udp_loadgen.Hub()
    try:
        await udp_loadgen.join_all(hub, members, proc.port)
        figures = await timed_fanout(proc, members, messages, size, window, min_rate=20_000)
    finally:
        loadgen.close_all(members)
        hub.close()
    return {**figures, **_channel_figures(members), "generator": LEAN_GENERATOR}


def _channel_figures(members: list[loadgen.Member]) -> dict[str, int]:
    """What the members' channels saw: their own resends, and the host's resends that reached
    them twice (duplicates) or beyond their window (both mean datagrams lost on the way)."""
    links = hub_links(members)
    stats = [link.channel.stats() for link in links]
    return {
        "host_datagrams": sum(link.datagrams_in for link in links),
        "host_datagram_reads": sum(link.reads for link in links),
        "member_datagrams": sum(link.datagrams_out for link in links),
        "member_retransmissions": sum(s.retransmissions for s in stats),
        "duplicates_dropped": sum(s.duplicates_dropped for s in stats),
        "out_of_window_dropped": sum(s.out_of_window_dropped for s in stats),
    }


def hub_links(members: list[loadgen.Member]) -> list[udp_loadgen.UdpLink]:
    return [m.inbound for m in members if isinstance(m.inbound, udp_loadgen.UdpLink)]


def run_udp_fanout_clients(members: int, messages: int) -> dict:
    """Fan-out over UDP driven by real `UdpClient` threads (slower: the clients are the limit)."""
    result: dict[str, Any] = {"workload": "fanout", "relay": "udp-clients", "members": members,
                              "messages": messages}  # fmt: skip
    proc = _udp_host()
    try:
        result.update(_fanout(proc.port, members, messages, proc, proc.port))
    finally:
        proc.stop()
    return result


def run_udp_loss(members: int, messages: int, loss: float = 0.2) -> dict:
    """Loss-free and lossy runs through the UDP tests' relay (same delay and jitter in both)."""
    try:
        from tests.udp.relay import LossyRelay
    except ImportError as exc:
        raise procs.Unavailable(f"the lossy relay of the UDP tests is not there yet ({exc})") from None
    result: dict[str, Any] = {"workload": "udp-loss", "members": members, "messages": messages, "loss": loss}
    for label, drop, duplicate in (("clean", 0.0, 0.0), ("lossy", loss, 0.05)):
        proc = _udp_host()
        relay = LossyRelay(("127.0.0.1", proc.port), loss=drop, duplicate=duplicate, delay=0.001, jitter=0.01)
        relay.start()
        try:
            run = _fanout(proc.port, members, messages, proc, relay.port)
        finally:
            relay.stop()
            proc.stop()
        result[f"{label}_deliveries_per_s"] = run["deliveries_per_s"]
        result[f"{label}_deliveries"] = run["deliveries"]
        result[f"{label}_p99_ms"] = run["p99_ms"]
        result[f"{label}_complete"] = run["complete"]
        if label == "lossy":
            result["duplicates"] = run["duplicates"]
            result["dropped_datagrams"] = relay.stats.dropped
            result["expected"] = run["expected"]
    clean, lossy = result.get("clean_deliveries_per_s"), result.get("lossy_deliveries_per_s")
    result["throughput_ratio"] = round(lossy / clean, 3) if clean and lossy else None
    return result
