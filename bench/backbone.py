"""The 'backbone' workload: fan-out over the NATS JetStream backbone against one host.

In the same run: 1 LanChat host with 200 members, then 2 LanChat hosts with 100 members
each serving one room over a real 3-node NATS cluster on loopback (bench.nats_cluster),
every member sending to all the others (bench.fanout's timed phase, the same load
generator). Both host processes' CPU is counted for the backbone run; the NATS servers'
is not (they are the cluster an administrator runs anyway), but they share the 2 cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

from bench import fanout, loadgen, procs
from bench.nats_cluster import NATS_SERVER, NatsCluster
from bench.relays import RELAYS
from net.paths import identity_dir
from net.secure.identity import load_or_create_identity

#: The two hosts learn of each other (presence, every second) before the timed phase.
_PRESENCE_WAIT = 2.5


class _Both:
    """Two host processes as one for `fanout.timed_fanout` (it reads their CPU)."""

    def __init__(self, hosts: list[procs.ManagedProcess]) -> None:
        self.hosts = hosts

    def stats(self) -> procs.Stats:
        stats = [host.stats() for host in self.hosts]
        return procs.Stats(
            cpu=sum(s.cpu for s in stats),
            rss=sum(s.rss for s in stats),
            threads=sum(s.threads for s in stats),
            fds=sum(s.fds for s in stats),
        )


def _backbone_host(urls: tuple[str, ...], name: str) -> procs.ManagedProcess:
    """`main.py host` as `procs.our_host` starts it (plain text for the load generator, no
    journal), on the backbone at `urls` under the host name `name`."""
    port = procs.free_port()
    config = procs.scratch_dir("config")
    load_or_create_identity(identity_dir(config))
    argv = procs.our_host_argv(port, "tcp", journal=False)
    argv += ["--name", "bench backbone", "--backbone", ",".join(urls), "--backbone-name", name]
    argv += ["--advertise", "127.0.0.1"]
    env = {procs.CONFIG_DIR_ENV: str(config), procs.DATA_DIR_ENV: str(config / "data")}
    return procs.ManagedProcess(f"lanchat-backbone-{name}", argv, port, env=env, scratch=config)


@contextlib.contextmanager
def _cluster() -> Iterator[NatsCluster]:
    if NATS_SERVER is None:
        raise procs.Unavailable("nats-server is missing (the Debian package nats-server)")
    cluster = NatsCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


def run_backbone(members: int = 200, messages: int = 20) -> list[dict[str, Any]]:
    """One host with `members` members, then two backbone hosts with half each."""
    single = fanout.run_fanout(RELAYS["native"], members, messages)
    single.update(workload="backbone", relay="1 host", members=members)
    result: dict[str, Any] = {"workload": "backbone", "relay": "2 hosts + NATS R3", "members": members,
                              "messages": messages}  # fmt: skip
    with _cluster() as cluster:
        hosts = [_backbone_host(cluster.urls, "bench-a"), _backbone_host(cluster.urls, "bench-b")]
        with procs.running(hosts[0]), procs.running(hosts[1]):
            result.update(asyncio.run(_two_hosts(hosts, members, messages)))
    return [single, result]


async def _two_hosts(hosts: list[procs.ManagedProcess], count: int, messages: int) -> dict[str, Any]:
    dialect = RELAYS["native"].dialect
    members = [loadgen.Member(index, dialect) for index in range(count)]
    half = count // 2
    window = loadgen.make_window(members, fanout.DEFAULT_WINDOW_BUDGET)
    try:
        await loadgen.join_all(members[:half], hosts[0].port)
        await loadgen.join_all(members[half:], hosts[1].port)
        await asyncio.sleep(_PRESENCE_WAIT)
        started = time.perf_counter()
        both: Any = _Both(hosts)
        figures = await fanout.timed_fanout(both, members, messages, 90, window, min_rate=20_000)
        figures["wall_s"] = round(time.perf_counter() - started, 3)
    finally:
        loadgen.close_all(members)
    return figures


def table(runs: list[dict[str, Any]]) -> str:
    rows = ["backbone fan-out: 1 host x C members against 2 hosts x C/2 over NATS JetStream (R3, 3 nodes)",
            f"{'setup':22} {'C':>4} {'deliveries/s':>13} {'p50 ms':>8} {'p99 ms':>8} {'complete':>9}"
            f" {'host CPU s':>10}"]  # fmt: skip
    for run in runs:
        if run.get("workload") != "backbone":
            continue
        if "error" in run:
            rows.append(f"{run['relay']:22} skipped: {run['error']}")
            continue
        rate = run.get("deliveries_per_s")
        rows.append(
            f"{run['relay']:22} {run['members']:>4} {rate or 0:>13,} {run.get('p50_ms') or 0:>8} "
            f"{run.get('p99_ms') or 0:>8} {'yes' if run.get('complete') else 'NO':>9}"
            f" {run.get('host_cpu_s', 0):>10}"
        )
    return "\n".join(rows)
