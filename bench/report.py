"""Targets (ratios to the peers measured in the same run) and the printed tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

Run = dict[str, Any]


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    value: str
    passed: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]

    def as_dict(self) -> dict:
        return {**asdict(self), "verdict": self.verdict}


def exit_status(targets: Iterable[Target], *, no_fail: bool = False) -> int:
    """The benchmark's exit status: 1 when a target measured in this run failed, else 0.

    A target not measured ("n/a": a workload not selected, or a peer unavailable) is no
    failure. `no_fail` keeps the exit status 0 whatever the verdicts (the targets table still
    says FAIL).
    """
    if no_fail:
        return 0
    return 1 if any(target.passed is False for target in targets) else 0


def find(runs: Iterable[Run], workload: str, **keys: Any) -> Run | None:
    for run in runs:
        if (
            run.get("workload") == workload
            and "error" not in run
            and all(run.get(k) == v for k, v in keys.items())
        ):
            return run
    return None


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _ratio_target(
    runs: list[Run], name: str, ours: tuple[str, int], peer: tuple[str, int], minimum: float, peer_label: str
) -> Target:
    mine = find(runs, "fanout", relay=ours[0], members=ours[1])
    theirs = find(runs, "fanout", relay=peer[0], members=peer[1])
    goal = f"≥ {minimum:g} × {peer_label}"
    if not mine or not theirs or not theirs.get("deliveries_per_s"):
        return Target(name, goal, "not measured", None)
    ratio = (mine.get("deliveries_per_s") or 0) / theirs["deliveries_per_s"]
    value = f"{ratio:.2f} × ({_rate(mine)} vs {_rate(theirs)})"
    if not mine.get("complete"):
        value += ", ours incomplete"
    return Target(name, goal, value, ratio >= minimum and bool(mine.get("complete")))


def _rate(run: Run) -> str:
    rate = run.get("deliveries_per_s")
    return "—" if rate is None else f"{rate / 1e6:.2f} M/s"


def _check(
    name: str, goal: str, run: Run | None, value: Callable[[Run], str], ok: Callable[[Run], bool]
) -> Target:
    if run is None:
        return Target(name, goal, "not measured", None)
    return Target(name, goal, value(run), bool(ok(run)))


def _cpu_per_delivery(run: Run) -> float | None:
    """The host's CPU microseconds per delivery: the least of the run's complete attempts (the
    machine is shared: other work only ever adds to it), else the run's own figure."""
    figures = [
        a["host_cpu_us_per_delivery"]
        for a in run.get("all_attempts", [])
        if a.get("complete") and a.get("host_cpu_us_per_delivery")
    ]
    if figures:
        return min(figures)
    if run.get("host_cpu_us_per_delivery"):
        return float(run["host_cpu_us_per_delivery"])
    if run.get("host_cpu_s") is not None and run.get("deliveries"):
        return 1e6 * run["host_cpu_s"] / run["deliveries"]
    return None


def _cpu_target(runs: list[Run], name: str, ours: str, peer: str, members: int, peer_label: str) -> Target:
    """Our host's CPU time per delivery against a peer's at the same size: the target where
    the load generator, not the relay, ends the run (C = 50: README, "What limits")."""
    mine = find(runs, "fanout", relay=ours, members=members)
    theirs = find(runs, "fanout", relay=peer, members=members)
    goal = f"≤ 1 × {peer_label}"
    mine_cpu = _cpu_per_delivery(mine) if mine else None
    theirs_cpu = _cpu_per_delivery(theirs) if theirs else None
    if not mine or not theirs or not mine_cpu or not theirs_cpu:
        return Target(name, goal, "not measured", None)
    ratio = mine_cpu / theirs_cpu
    value = f"{ratio:.2f} × ({mine_cpu:.3f} vs {theirs_cpu:.3f} µs; {_rate(mine)} vs {_rate(theirs)})"
    if not mine.get("complete"):
        value += ", ours incomplete"
    return Target(name, goal, value, ratio <= 1.0 and bool(mine.get("complete")))


def _steady_target(runs: list[Run], relay: str, label: str, peers: tuple[tuple[str, str], ...]) -> Target:
    """Steady 50 x 20 msg/s p99 of `relay` (≤ 3 ms), with the peers' p99 as context."""
    context = ", ".join(f"{name} {_steady_p99(runs, peer)}" for name, peer in peers)
    return _check(
        f"steady 50 × 20 msg/s, {label}: p99",
        "≤ 3 ms",
        find(runs, "steady", relay=relay, members=50),
        lambda r: f"{_fmt(r.get('p99_ms'))} ms ({context})",
        lambda r: r.get("p99_ms") is not None and r["p99_ms"] <= 3 and r.get("complete"),
    )


def evaluate(runs: list[Run]) -> list[Target]:
    """Every target of issues 7 and 14 that this run measured (the others say "not measured")."""
    targets = [
        _ratio_target(runs, "fan-out C=50, native TCP", ("native", 50), ("redis", 50), 1.0, "Redis"),
        _ratio_target(runs, "fan-out C=50, plain-text TCP", ("text", 50), ("redis", 50), 1.0, "Redis"),
        _cpu_target(
            runs, "fan-out C=50, native TCP: host CPU per delivery ≤ Redis's", "native", "redis", 50, "Redis"
        ),
        _cpu_target(
            runs,
            "fan-out C=50, native TLS: host CPU per delivery ≤ Redis TLS's",
            "native-tls",
            "redis-tls",
            50,
            "Redis TLS",
        ),
        _ratio_target(runs, "fan-out C=200, native TCP", ("native", 200), ("redis", 200), 1.5, "Redis"),
        _check(
            "fan-out C=200, native TCP: p99 at max rate",
            "< 50 ms",
            find(runs, "fanout", relay="native", members=200),
            lambda r: f"{_fmt(r.get('p99_ms'), 1)} ms",
            lambda r: r.get("p99_ms") is not None and r["p99_ms"] < 50,
        ),
        _steady_target(runs, "native", "native TCP", (("Redis", "redis"), ("tutorial", "tutorial"))),
        _steady_target(runs, "native-tls", "native TLS", (("Redis TLS", "redis-tls"), ("plain", "native"))),
        _check(
            "join, one member alone, native TLS: p99",
            "≤ 50 ms",
            find(runs, "join", relay="native-tls", members=1),
            lambda r: (
                f"{_fmt(r.get('p99_ms'))} ms, p50 {_fmt(r.get('p50_ms'))} ms "
                f"(plain {_join_ms(runs, 'native')}, Redis TLS {_join_ms(runs, 'redis-tls')}; p50/p99)"
            ),
            lambda r: r.get("p99_ms") is not None and r["p99_ms"] <= 50,
        ),
    ]
    for members in (50, 200):
        for mode in ("native", "text"):
            targets.append(
                _ratio_target(
                    runs,
                    f"vs tutorial relay C={members}, {mode}",
                    (mode, members),
                    ("tutorial", members),
                    1.0,
                    "tutorial relay",
                )
            )
    targets.append(_fragments_target(runs))
    for relay, label in (("native", ""), ("native-tls", ", native TLS")):
        scale = find(runs, "scale", relay=relay)
        targets.append(
            _check(
                f"scale: {scale['members'] if scale else 500} idle members{label}, host RSS",
                "< 300 MB",
                scale,
                lambda r: f"{r['idle_rss_mib']} MiB, {r['idle_threads']} threads, {r['idle_fds']} fds",
                lambda r: r["idle_rss_mib"] * 1.048576 < 300,
            )
        )
        targets.append(
            _check(
                f"scale: every message delivered{label}",
                "all",
                scale,
                lambda r: f"{r['deliveries']:,} of {r['expected']:,}",
                lambda r: r["complete"] and r["deliveries"] == r["expected"],
            )
        )
    targets.append(
        _check(
            "churn: threads, fds, RSS flat",
            f"flat (RSS ≤ +{5} MiB)",
            find(runs, "churn"),
            lambda r: (
                f"threads {r['before_threads']}→{r['after_threads']}, fds {r['before_fds']}→"
                f"{r['after_fds']}, RSS {r['rss_growth_mib']:+} MiB"
            ),
            lambda r: r["flat"],
        )
    )
    targets.extend(_udp_targets(runs))
    targets.extend(_gui_targets(runs))
    targets.extend(_startup_targets(runs))
    from bench.history_bench import history_targets  # its own module: this one is long enough

    targets.extend(history_targets(runs))
    from bench.transfer import transfer_targets

    targets.extend(transfer_targets(runs))
    return targets


def _steady_p99(runs: list[Run], relay: str) -> str:
    run = find(runs, "steady", relay=relay, members=50)
    return f"{_fmt(run.get('p99_ms'))} ms" if run else "—"


def _join_ms(runs: list[Run], relay: str, members: int = 1) -> str:
    run = find(runs, "join", relay=relay, members=members)
    return f"{_fmt(run.get('p50_ms'))}/{_fmt(run.get('p99_ms'))} ms" if run else "—"


def _fragments_target(runs: list[Run]) -> Target:
    ours = [
        r
        for r in runs
        if r.get("workload") == "fanout" and r.get("relay") in ("native", "native-tls", "text", "udp")
    ]
    ours = [r for r in ours if "error" not in r]
    tutorial = [
        r for r in runs if r.get("workload") == "fanout" and r.get("relay") == "tutorial" and "error" not in r
    ]
    if not ours:
        return Target("spliced fragments, ours", "0", "not measured", None)
    fragments = sum(r.get("fragments", 0) for r in ours)
    audited = sum(r.get("audited_deliveries", 0) for r in ours)
    theirs = sum(r.get("fragments", 0) for r in tutorial)
    theirs_audited = sum(r.get("audited_deliveries", 0) for r in tutorial)
    share = f"{100 * theirs / theirs_audited:.3f} %" if theirs_audited else "—"
    value = f"{fragments} of {audited:,} audited (tutorial relay: {theirs:,} of {theirs_audited:,}, {share})"
    return Target("spliced fragments, ours", "0", value, fragments == 0)


def _udp_targets(runs: list[Run]) -> list[Target]:
    udp = find(runs, "fanout", relay="udp", members=50)
    tcp = find(runs, "fanout", relay="native", members=50)
    if udp and tcp and tcp.get("deliveries_per_s"):
        ratio = (udp.get("deliveries_per_s") or 0) / tcp["deliveries_per_s"]
        first = Target(
            "UDP fan-out C=50, no loss",
            "≥ 0.25 × TCP",
            f"{ratio:.2f} × ({_rate(udp)} vs {_rate(tcp)})",
            ratio >= 0.25 and bool(udp.get("complete")),
        )
    else:
        first = Target("UDP fan-out C=50, no loss", "≥ 0.25 × TCP", "not measured", None)
    lossy = find(runs, "udp-loss")
    second = _check(
        "UDP at 20 % loss: exactly once",
        "every message once",
        lossy,
        lambda r: (
            f"{r['lossy_deliveries']:,} of {r['expected']:,}, {r['duplicates']} duplicates, "
            f"{_fmt(r.get('throughput_ratio'))} × loss-free"
        ),
        lambda r: r["lossy_deliveries"] == r["expected"] and r["duplicates"] == 0,
    )
    return [first, second]


def _gui_targets(runs: list[Run]) -> list[Target]:
    gui = find(runs, "gui")
    return [
        _check(
            f"GUI burst of {gui['messages']:,}" if gui else "GUI burst",
            "< 1 s",
            gui,
            lambda r: f"{r['seconds_to_shown']:.3f} s",
            lambda r: r["seconds_to_shown"] < 1.0 and r["shown"] == r["messages"],
        ),
        _check(
            "GUI burst: longest main-loop stall",
            "≤ 20 ms",
            gui,
            lambda r: f"{r['longest_stall_ms']:.1f} ms",
            lambda r: r["longest_stall_ms"] <= 20,
        ),
    ]


def _startup_targets(runs: list[Run]) -> list[Target]:
    onedir = find(runs, "startup", build="onedir")
    onefile = find(runs, "startup", build="onefile")
    return [
        _check("start-up to window, one-dir", "< 1 s", onedir, lambda r: f"{r['seconds']:.2f} s",
               lambda r: r["seconds"] < 1.0),
        _check("start-up to window, one-file", "< 2 s", onefile, lambda r: f"{r['seconds']:.2f} s",
               lambda r: r["seconds"] < 2.0),
        _check("one-file size", "≤ 30 MB", onefile, lambda r: f"{r['size_mb']:.1f} MB",
               lambda r: r["size_mb"] <= 30),
    ]  # fmt: skip


# --- tables -------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out)


def targets_table(targets: list[Target]) -> str:
    return table(
        ["target", "goal", "measured", "verdict"], [[t.name, t.goal, t.value, t.verdict] for t in targets]
    )


def redis_peer(relay: str) -> str:
    """The Redis a relay is compared with: Redis over TLS for a relay reached over TLS."""
    return "redis-tls" if relay.endswith("-tls") else "redis"


def _redis_ratio(runs: list[Run], run: Run) -> str:
    redis = find(runs, "fanout", relay=redis_peer(run["relay"]), members=run["members"])
    if redis and redis.get("deliveries_per_s") and run.get("deliveries_per_s"):
        return f"{run['deliveries_per_s'] / redis['deliveries_per_s']:.2f}"
    return "—"


def _us(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def fanout_table(runs: list[Run]) -> str:
    rows = []
    for run in runs:
        if run.get("workload") != "fanout":
            continue
        if "error" in run:
            rows.append([run["relay"], str(run["members"]), "skipped: " + run["error"]] + [""] * 9)
            continue
        rows.append(
            [
                run["relay"],
                str(run["members"]),
                f"{run['deliveries_per_s']:,}" if run.get("deliveries_per_s") else "—",
                _redis_ratio(runs, run),
                _fmt(run.get("p50_ms")),
                _fmt(run.get("p99_ms")),
                _fmt(run.get("host_cpu_s")),
                _fmt(run.get("generator_cpu_s")),
                _us(run.get("host_cpu_us_per_delivery")),
                "yes" if run.get("complete") else f"NO ({run['deliveries']:,}/{run['expected']:,})",
                f"{run.get('fragments', 0)}/{run.get('audited_deliveries', 0):,}",
                str(run.get("errors", 0)),
            ]
        )
    headers = ["relay", "C", "deliveries/s", "×Redis", "p50 ms", "p99 ms", "host CPU s", "gen CPU s",
               "host µs/delivery", "complete", "fragments/audited", "errors"]  # fmt: skip
    notes = ""
    if any(run.get("relay", "").endswith("-tls") for run in runs if run.get("workload") == "fanout"):
        notes += "\n×Redis: a -tls relay against redis-tls (Redis over TLS), the others against redis"
    # Runs not driven by the TCP load generator say what drove them (the UDP runs).
    generators = {run["relay"]: run["generator"] for run in runs if run.get("workload") == "fanout"
                  and run.get("generator")}  # fmt: skip
    notes += "".join(f"\n{relay}: load generator {generator}" for relay, generator in generators.items())
    return table(headers, rows) + notes


def join_table(runs: list[Run]) -> str:
    rows = []
    for run in runs:
        if run.get("workload") != "join":
            continue
        if "error" in run:
            rows.append([run["relay"], str(run["members"]), "skipped: " + run["error"]] + [""] * 7)
            continue
        rows.append(
            [
                run["relay"],
                "1 alone" if run["members"] == 1 else f"{run['members']} at once",
                str(run["joins"]),
                _fmt(run.get("p50_ms")),
                _fmt(run.get("p99_ms")),
                _fmt(run.get("max_ms")),
                _fmt(run.get("first_ms")),
                _fmt(run.get("host_cpu_ms_per_join")),
                _fmt(run.get("generator_cpu_s")),
            ]
        )
    headers = ["relay", "joining", "joins", "p50 ms", "p99 ms", "max ms", "first ms", "host CPU ms/join",
               "gen CPU s"]  # fmt: skip
    return table(headers, rows)


def steady_table(runs: list[Run]) -> str:
    rows = []
    for run in runs:
        if run.get("workload") != "steady":
            continue
        if "error" in run:
            rows.append([run["relay"], str(run["members"]), "skipped: " + run["error"]] + [""] * 7)
            continue
        rows.append(
            [
                run["relay"],
                str(run["members"]),
                f"{run['rate']:g}/s × {run['duration']:g} s",
                _fmt(run.get("p50_ms")),
                _fmt(run.get("p99_ms")),
                _fmt(run.get("read_p99_ms")),
                _fmt(run.get("max_ms")),
                _fmt(run.get("host_cpu_cores")),
                _fmt(run.get("generator_cpu_cores")),
                "yes" if run.get("complete") else f"NO ({run['deliveries']:,}/{run['expected']:,})",
            ]
        )
    headers = ["relay", "C", "rate", "p50 ms", "p99 ms", "read p99", "max ms", "host cores", "gen cores",
               "complete"]  # fmt: skip
    return table(headers, rows)


def key_values(run: Run, skip: tuple[str, ...] = ("workload",)) -> str:
    return ", ".join(f"{k}={v}" for k, v in run.items() if k not in skip)


def markdown(results: dict) -> str:
    """The README's tables: targets first, then every fan-out, steady and join run."""
    runs = results["runs"]
    out = ["| target | goal | measured | verdict |", "|---|---|---|---|"]
    out += [f"| {t['name']} | {t['goal']} | {t['value']} | {t['verdict']} |" for t in results["targets"]]
    out += [
        "",
        "| relay | C | deliveries/s | × Redis | p50 ms | p99 ms | host CPU s | gen CPU s | host µs/delivery "
        "| complete | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        if run.get("workload") != "fanout" or "error" in run:
            continue
        done = "yes" if run["complete"] else f"no ({run['deliveries']:,} of {run['expected']:,})"
        out.append(
            f"| {run['relay']} | {run['members']} | {run['deliveries_per_s'] or 0:,} | "
            f"{_redis_ratio(runs, run)} | {_fmt(run.get('p50_ms'), 1)} | {_fmt(run.get('p99_ms'), 1)} | "
            f"{_fmt(run.get('host_cpu_s'))} | {_fmt(run.get('generator_cpu_s'))} | "
            f"{_us(run.get('host_cpu_us_per_delivery'))} | {done} | {run.get('load_1min', '—')} |"
        )
    out += [
        "",
        "| steady, 50 × 20 msg/s | p50 ms | p99 ms | p99 at read ms | max ms | host cores | gen cores "
        "| load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        if run.get("workload") == "steady" and "error" not in run:
            out.append(
                f"| {run['relay']} | {_fmt(run.get('p50_ms'))} | {_fmt(run.get('p99_ms'))} | "
                f"{_fmt(run.get('read_p99_ms'))} | {_fmt(run.get('max_ms'))} | "
                f"{_fmt(run.get('host_cpu_cores'))} | {_fmt(run.get('generator_cpu_cores'))} | "
                f"{run.get('load_1min', '—')} |"
            )
    joins = [run for run in runs if run.get("workload") == "join" and "error" not in run]
    if joins:
        out += [
            "",
            "| join | joining | p50 ms | p99 ms | max ms | first ms | host CPU ms/join | gen CPU s | load |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for run in joins:
            joining = "1 alone" if run["members"] == 1 else f"{run['members']} at once"
            out.append(
                f"| {run['relay']} | {joining} ({run['joins']}) | {_fmt(run.get('p50_ms'))} | "
                f"{_fmt(run.get('p99_ms'))} | {_fmt(run.get('max_ms'))} | {_fmt(run.get('first_ms'))} | "
                f"{_fmt(run.get('host_cpu_ms_per_join'))} | {_fmt(run.get('generator_cpu_s'))} | "
                f"{run.get('load_1min', '—')} |"
            )
    return "\n".join(out)
