"""The relays a network workload can run against, by name, and the dialect each speaks."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass

from bench import loadgen, procs
from bench.dialects import DIALECTS, Dialect


@dataclass(frozen=True)
class Relay:
    name: str
    label: str
    dialect: Dialect
    start: Callable[[], procs.ManagedProcess]
    ours: bool
    #: Members reach it over TLS 1.3 (and nothing else: it serves no plain text).
    tls: bool = False

    def client_tls(self) -> ssl.SSLContext | None:
        """The context the load generator's members connect with (None: plain TCP)."""
        return loadgen.tls_client() if self.tls else None


RELAYS: dict[str, Relay] = {
    relay.name: relay
    for relay in (
        Relay(
            "native", "LanChat TCP, JSON protocol", DIALECTS["native"], lambda: procs.our_host("tcp"), True
        ),
        Relay(
            "native-tls",
            "LanChat TCP, JSON protocol over TLS 1.3 (the default)",
            DIALECTS["native"],
            lambda: procs.our_host("tcp", tls=True),
            True,
            tls=True,
        ),
        Relay(
            "native-tls-memory",
            "LanChat TCP over TLS 1.3 without its journal (--no-history): what the journal costs",
            DIALECTS["native"],
            lambda: procs.our_host("tcp", tls=True, journal=False),
            True,
            tls=True,
        ),
        Relay("text", "LanChat TCP, plain-text mode", DIALECTS["text"], lambda: procs.our_host("tcp"), True),
        Relay("redis", "Redis pub/sub", DIALECTS["redis"], procs.redis, False),
        Relay(
            "redis-tls",
            "Redis pub/sub over TLS 1.3",
            DIALECTS["redis"],
            procs.redis_tls,
            False,
            tls=True,
        ),
        Relay("tutorial", "tutorial relay (recv/sendall)", DIALECTS["plain"], procs.tutorial_relay, False),
    )
}
