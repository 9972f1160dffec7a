"""Workload: the time to join, from the TCP connect to the relay's welcome.

A join is timed from just before the connection is opened to the moment the member reads
that it is in: our host's `welcome` (after the TLS handshake and the hello, over TLS), or,
for Redis, the confirmation of its SUBSCRIBE (on the one connection it receives on; the
second connection a Redis member needs to publish is left out, which favours Redis).

- One member: `lone` members join one after another, each alone in the room (the one before
  has left), so each figure is one join with nothing else going on; the first one is kept
  apart too (the relay's first connection warms it up).
- A crowd: `members` open their connections at once (no limit on how many are opening) and
  each one's time is taken; the last ones wait for the relay to finish the others'
  handshakes, which is what this measures.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

from bench import loadgen, procs
from bench.dialects import Dialect
from bench.fanout import _latency_ms
from bench.relays import Relay

_JOIN_TIMEOUT = 30.0
_CLOSE_TIMEOUT = 5.0


class _Joiner(asyncio.Protocol):
    """One connection that only waits for the relay to say it is in."""

    def __init__(self, dialect: Dialect, index: int) -> None:
        loop = asyncio.get_running_loop()
        self.dialect = dialect
        self.index = index
        self.joined: asyncio.Future[float] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self._received = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if self.joined.done():
            return
        self._received += data
        received = bytes(self._received)
        refusal = self.dialect.refusal(received)
        if refusal:
            self.joined.set_exception(loadgen.RelayError(f"member {self.index} refused: {refusal}"))
        elif self.dialect.is_joined(received):
            self.joined.set_result(now)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.joined.done():
            error = loadgen.RelayError(f"member {self.index} lost its connection ({exc or 'closed'})")
            self.joined.set_exception(error)
        if not self.closed.done():
            self.closed.set_result(None)


async def join_once(
    port: int, dialect: Dialect, index: int, tls: ssl.SSLContext | None
) -> tuple[float, _Joiner]:
    """Connect, greet, wait for the relay's word that the member is in: (seconds, joiner)."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    transport, joiner = await loop.create_connection(
        lambda: _Joiner(dialect, index), "127.0.0.1", port, ssl=tls
    )
    greeting = dialect.greeting(index)
    if greeting:
        transport.write(greeting)
    joined_at = await asyncio.wait_for(joiner.joined, _JOIN_TIMEOUT)
    return joined_at - started, joiner


async def _leave(joiner: _Joiner) -> None:
    if joiner.transport is not None:
        joiner.transport.abort()  # no TLS shutdown: asyncio waits up to 30 s for a close_notify
    await asyncio.wait_for(asyncio.shield(joiner.closed), _CLOSE_TIMEOUT)


def run_join(relay: Relay, members: int, lone: int = 20) -> dict:
    """Join times for `relay`: `lone` joins one at a time (`members` == 1), or `members` at once."""
    result: dict[str, Any] = {"workload": "join", "relay": relay.name, "members": members}
    proc = relay.start()
    with procs.running(proc):
        result.update(asyncio.run(_join(proc, relay, members, lone)))
    return result


async def _join(proc: procs.ManagedProcess, relay: Relay, members: int, lone: int) -> dict:
    tls = relay.client_tls()
    before = proc.stats()
    cpu_before = time.process_time()
    times: list[float] = []
    if members == 1:
        for index in range(lone):
            seconds, joiner = await join_once(proc.port, relay.dialect, index, tls)
            times.append(seconds)
            await _leave(joiner)
        first = times[0]
    else:
        joined = await asyncio.gather(
            *(join_once(proc.port, relay.dialect, index, tls) for index in range(members))
        )
        times = [seconds for seconds, _ in joined]
        first = min(times)
        await asyncio.gather(*(_leave(joiner) for _, joiner in joined))
    generator_cpu = time.process_time() - cpu_before
    host_cpu = proc.stats().cpu - before.cpu
    latency = {key: value for key, value in _latency_ms(times).items() if key != "samples"}
    return {
        "joins": len(times),
        **latency,
        "first_ms": round(first * 1000, 3),
        "host_cpu_s": round(host_cpu, 4),
        "host_cpu_ms_per_join": round(1000 * host_cpu / len(times), 3),
        "generator_cpu_s": round(generator_cpu, 4),
    }
