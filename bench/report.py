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


def evaluate(runs: list[Run]) -> list[Target]:
    """Every target of issue 7 that this run measured (the others say "not measured")."""
    targets = [
        _ratio_target(runs, "fan-out C=50, native TCP", ("native", 50), ("redis", 50), 1.0, "Redis"),
        _ratio_target(runs, "fan-out C=50, plain-text TCP", ("text", 50), ("redis", 50), 1.0, "Redis"),
        _ratio_target(runs, "fan-out C=200, native TCP", ("native", 200), ("redis", 200), 1.5, "Redis"),
        _check(
            "fan-out C=200, native TCP: p99 at max rate",
            "< 50 ms",
            find(runs, "fanout", relay="native", members=200),
            lambda r: f"{_fmt(r.get('p99_ms'), 1)} ms",
            lambda r: r.get("p99_ms") is not None and r["p99_ms"] < 50,
        ),
        _check(
            "steady 50 × 20 msg/s, native TCP: p99",
            "≤ 3 ms",
            find(runs, "steady", relay="native", members=50),
            lambda r: (
                f"{_fmt(r.get('p99_ms'))} ms (Redis {_steady_p99(runs, 'redis')}, "
                f"tutorial {_steady_p99(runs, 'tutorial')})"
            ),
            lambda r: r.get("p99_ms") is not None and r["p99_ms"] <= 3 and r.get("complete"),
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
    scale = find(runs, "scale")
    targets.append(
        _check(
            f"scale: {scale['members'] if scale else 500} idle members, host RSS",
            "< 300 MB",
            scale,
            lambda r: f"{r['idle_rss_mib']} MiB, {r['idle_threads']} threads, {r['idle_fds']} fds",
            lambda r: r["idle_rss_mib"] * 1.048576 < 300,
        )
    )
    targets.append(
        _check(
            "scale: every message delivered",
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
    return targets


def _steady_p99(runs: list[Run], relay: str) -> str:
    run = find(runs, "steady", relay=relay, members=50)
    return f"{_fmt(run.get('p99_ms'))} ms" if run else "—"


def _fragments_target(runs: list[Run]) -> Target:
    ours = [r for r in runs if r.get("workload") == "fanout" and r.get("relay") in ("native", "text", "udp")]
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


def fanout_table(runs: list[Run]) -> str:
    rows = []
    for run in runs:
        if run.get("workload") != "fanout":
            continue
        if "error" in run:
            rows.append([run["relay"], str(run["members"]), "skipped: " + run["error"]] + [""] * 8)
            continue
        redis = find(runs, "fanout", relay="redis", members=run["members"])
        ratio = (
            f"{run['deliveries_per_s'] / redis['deliveries_per_s']:.2f}"
            if redis and redis.get("deliveries_per_s") and run.get("deliveries_per_s")
            else "—"
        )
        rows.append(
            [
                run["relay"],
                str(run["members"]),
                f"{run['deliveries_per_s']:,}" if run.get("deliveries_per_s") else "—",
                ratio,
                _fmt(run.get("p50_ms")),
                _fmt(run.get("p99_ms")),
                _fmt(run.get("host_cpu_s")),
                _fmt(run.get("generator_cpu_s")),
                "yes" if run.get("complete") else f"NO ({run['deliveries']:,}/{run['expected']:,})",
                f"{run.get('fragments', 0)}/{run.get('audited_deliveries', 0):,}",
                str(run.get("errors", 0)),
            ]
        )
    headers = ["relay", "C", "deliveries/s", "×Redis", "p50 ms", "p99 ms", "host CPU s", "gen CPU s",
               "complete", "fragments/audited", "errors"]  # fmt: skip
    # Runs not driven by the TCP load generator say what drove them (the UDP runs).
    generators = {run["relay"]: run["generator"] for run in runs if run.get("workload") == "fanout"
                  and run.get("generator")}  # fmt: skip
    notes = "".join(f"\n{relay}: load generator {generator}" for relay, generator in generators.items())
    return table(headers, rows) + notes


def steady_table(runs: list[Run]) -> str:
    rows = []
    for run in runs:
        if run.get("workload") != "steady":
            continue
        if "error" in run:
            rows.append([run["relay"], str(run["members"]), "skipped: " + run["error"]] + [""] * 5)
            continue
        rows.append(
            [
                run["relay"],
                str(run["members"]),
                f"{run['rate']:g}/s × {run['duration']:g} s",
                _fmt(run.get("p50_ms")),
                _fmt(run.get("p99_ms")),
                _fmt(run.get("max_ms")),
                _fmt(run.get("host_cpu_cores")),
                "yes" if run.get("complete") else f"NO ({run['deliveries']:,}/{run['expected']:,})",
            ]
        )
    return table(["relay", "C", "rate", "p50 ms", "p99 ms", "max ms", "host cores", "complete"], rows)


def key_values(run: Run, skip: tuple[str, ...] = ("workload",)) -> str:
    return ", ".join(f"{k}={v}" for k, v in run.items() if k not in skip)


def markdown(results: dict) -> str:
    """The README's tables: targets first, then every fan-out and steady run."""
    runs = results["runs"]
    out = ["| target | goal | measured | verdict |", "|---|---|---|---|"]
    out += [f"| {t['name']} | {t['goal']} | {t['value']} | {t['verdict']} |" for t in results["targets"]]
    out += [
        "",
        "| relay | C | deliveries/s | × Redis | p50 ms | p99 ms | host CPU s | gen CPU s | complete | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        if run.get("workload") != "fanout" or "error" in run:
            continue
        redis = find(runs, "fanout", relay="redis", members=run["members"])
        ratio = (
            f"{run['deliveries_per_s'] / redis['deliveries_per_s']:.2f}"
            if redis and redis.get("deliveries_per_s") and run.get("deliveries_per_s")
            else "—"
        )
        done = "yes" if run["complete"] else f"no ({run['deliveries']:,} of {run['expected']:,})"
        out.append(
            f"| {run['relay']} | {run['members']} | {run['deliveries_per_s'] or 0:,} | {ratio} | "
            f"{_fmt(run.get('p50_ms'), 1)} | {_fmt(run.get('p99_ms'), 1)} | {_fmt(run.get('host_cpu_s'))} | "
            f"{_fmt(run.get('generator_cpu_s'))} | {done} | {run.get('load_1min', '—')} |"
        )
    out += [
        "",
        "| steady, 50 × 20 msg/s | p50 ms | p99 ms | max ms | host cores | load |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        if run.get("workload") == "steady" and "error" not in run:
            out.append(
                f"| {run['relay']} | {_fmt(run.get('p50_ms'))} | {_fmt(run.get('p99_ms'))} | "
                f"{_fmt(run.get('max_ms'))} | {_fmt(run.get('host_cpu_cores'))} | "
                f"{run.get('load_1min', '—')} |"
            )
    return "\n".join(out)
