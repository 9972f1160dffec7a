"""The relays a network workload can run against, by name, and the dialect each speaks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench import procs
from bench.dialects import DIALECTS, Dialect


@dataclass(frozen=True)
class Relay:
    name: str
    label: str
    dialect: Dialect
    start: Callable[[], procs.ManagedProcess]
    ours: bool


RELAYS: dict[str, Relay] = {
    relay.name: relay
    for relay in (
        Relay(
            "native", "LanChat TCP, JSON protocol", DIALECTS["native"], lambda: procs.our_host("tcp"), True
        ),
        Relay("text", "LanChat TCP, plain-text mode", DIALECTS["text"], lambda: procs.our_host("tcp"), True),
        Relay("redis", "Redis pub/sub", DIALECTS["redis"], procs.redis, False),
        Relay("tutorial", "tutorial relay (recv/sendall)", DIALECTS["plain"], procs.tutorial_relay, False),
    )
}
