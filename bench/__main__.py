"""`make bench` / `python -m bench`: run the workloads, print the table, write latest.json.

The exit status is 1 when a target measured in the run fails (FAIL), 0 otherwise; with
`--no-fail` it is 0 whatever the verdicts.

Every relay runs as its own process on 127.0.0.1, one after the other, each against the
same asyncio load generator; our host runs with rate limiting off (`--rate-limit 0`), over
TLS 1.3 as everybody runs it (`native-tls`) and with `--allow-plaintext` for the plain
relays, always with a throw-away identity. Targets are ratios to the peers measured in the
same run (the machine is shared and noisy), so they are printed first.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import psutil

from bench import capacity, fanout, join, procs, report
from bench.relays import RELAYS
from net.paths import CONFIG_DIR_ENV

WORKLOADS = (
    "fanout",
    "steady",
    "join",
    "scale",
    "churn",
    "gui",
    "startup",
    "udp-loss",
    "history",
    "transfer",
    "backbone",
    "handover",
)
#: The runs printed as one line of figures each (the others have tables of their own).
KEY_VALUE_WORKLOADS = frozenset(
    {"scale", "churn", "gui", "startup", "udp-loss", "history", "transfer", "transfer-chat", "handover"}
)
DEFAULT_RELAYS = "native,native-tls,text,udp,redis,redis-tls,tutorial"
#: The relays whose join time is measured (a relay that says nothing on joining has none).
JOIN_RELAYS = ("native", "native-tls", "redis", "redis-tls")
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a check in well under a minute")
    parser.add_argument(
        "--workloads", default=",".join(WORKLOADS), help=f"comma list of {', '.join(WORKLOADS)}"
    )
    parser.add_argument(
        "--relays",
        default=DEFAULT_RELAYS,
        help="fan-out, steady and join relays (default %(default)s; native-tls also adds the "
        "encrypted scale run)",
    )
    parser.add_argument("--sizes", help="fan-out member counts (default 10,50,200; quick 10,50)")
    parser.add_argument(
        "--udp-sizes",
        default="10,50",
        help="UDP fan-out member counts (default %(default)s; the lean UDP generator also runs C=200)",
    )
    parser.add_argument("--messages", type=int, help="fan-out messages per member (default 200; quick 50)")
    parser.add_argument(
        "--window-budget",
        type=int,
        default=fanout.DEFAULT_WINDOW_BUDGET,
        help="deliveries each member may have outstanding in fan-out (default %(default)s)",
    )
    parser.add_argument(
        "--audit", type=int, default=20, help="members whose every line is checked for splicing"
    )
    parser.add_argument("--steady-seconds", type=float, help="steady-latency duration (default 10; quick 2)")
    parser.add_argument("--join-lone", type=int, help="joins one at a time, each alone (default 20; quick 5)")
    parser.add_argument("--join-crowd", type=int, help="members joining at once (default 100; quick 20)")
    parser.add_argument("--scale-members", type=int, help="scale workload members (default 500; quick 100)")
    parser.add_argument("--scale-idle", type=float, help="scale idle seconds (default 10; quick 1)")
    parser.add_argument("--churn-cycles", type=int, help="churn cycles (default 1000; quick 100)")
    parser.add_argument(
        "--history-messages", type=int, help="history database size (default 1000000; quick 20000)"
    )
    parser.add_argument(
        "--transfer-mib", type=int, help="transfer: the big file in MiB (default 1024; quick 128)"
    )
    parser.add_argument(
        "--transfer-files", type=int, help="transfer: files of 4 KiB in one offer (default 10000; quick 2000)"
    )
    parser.add_argument("--gui-messages", type=int, help="GUI burst size (default 20000; quick 2000)")
    parser.add_argument("--handovers", type=int, help="handovers per transport (default 20; quick 5)")
    parser.add_argument(
        "--repeat", type=int, help="fan-out and join runs per relay, best kept (default 3; quick 1)"
    )
    parser.add_argument(
        "--steady-repeat",
        type=int,
        help="steady-latency runs per relay, best p99 kept (default 2; quick 1): each lasts "
        "--steady-seconds whatever the machine, so they are most of `make bench`'s time",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results (default %(default)s)")
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown (for the README)")
    parser.add_argument(
        "--no-fail",
        action="store_true",
        help="exit with status 0 even when a target fails (by default a FAIL makes the exit status 1)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.workloads = [w for w in args.workloads.split(",") if w]
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    args.relays = [r for r in args.relays.split(",") if r]
    args.sizes = [int(s) for s in (args.sizes or ("10,50" if quick else "10,50,200")).split(",")]
    args.repeat = args.repeat or (1 if quick else 3)
    args.steady_repeat = args.steady_repeat or (1 if quick else 2)
    args.udp_sizes = [int(s) for s in args.udp_sizes.split(",") if s]
    args.messages = args.messages or (50 if quick else 200)
    args.steady_seconds = args.steady_seconds or (2.0 if quick else 10.0)
    args.join_lone = args.join_lone or (5 if quick else 20)
    args.join_crowd = args.join_crowd or (20 if quick else 100)
    args.scale_members = args.scale_members or (100 if quick else 500)
    args.scale_idle = args.scale_idle if args.scale_idle is not None else (1.0 if quick else 10.0)
    args.churn_cycles = args.churn_cycles or (100 if quick else 1000)
    args.gui_messages = args.gui_messages or (2000 if quick else 20000)
    args.handovers = args.handovers or (5 if quick else 20)
    args.history_messages = args.history_messages or (20_000 if quick else 1_000_000)
    args.transfer_mib = args.transfer_mib or (128 if quick else 1024)
    args.transfer_files = args.transfer_files or (2_000 if quick else 10_000)
    return args


def _raise_descriptor_limit() -> None:
    """Hundreds of members need hundreds of sockets (the relays inherit the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 65536)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _attempt(label: str, base: dict, work: Callable[[], dict], runs: list[dict]) -> None:
    print(f"  {label} ...", end=" ", flush=True)
    started = time.monotonic()
    load = round(os.getloadavg()[0], 2)
    try:
        result = work()
    except procs.Unavailable as exc:
        result = {**base, "error": str(exc)}
    except Exception as exc:  # a relay that breaks must not stop the other measurements
        traceback.print_exc(file=sys.stderr)
        result = {**base, "error": f"{type(exc).__name__}: {exc}"}
    result["load_1min"] = load  # other work on the machine shows here
    runs.append(result)
    took = time.monotonic() - started
    if "error" in result:
        print(f"skipped ({result['error']})")
    else:
        print(_summary(result) + f"  [{took:.1f} s]")


def _summary(run: dict) -> str:
    if run["workload"] == "fanout":
        return f"{run['deliveries_per_s'] or 0:,.0f} deliveries/s, p99 {run['p99_ms']} ms" + (
            "" if run["complete"] else f", INCOMPLETE {run['deliveries']:,}/{run['expected']:,}"
        )
    if run["workload"] in ("steady", "join"):
        return f"p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, max {run['max_ms']} ms"
    return report.key_values(run)


def _machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


#: What `latest.json` keeps of every attempt besides the best one.
ATTEMPT_KEYS = ("deliveries_per_s", "p50_ms", "p99_ms", "complete", "host_cpu_us_per_delivery")


def best_of(attempts: list[dict], faster: Callable[[dict], float]) -> list[dict]:
    """Per (relay, members): the best complete attempt (the machine is shared: other work only
    ever slows a run down), with every attempt's figure kept alongside."""
    chosen: dict[tuple, dict] = {}
    tried: dict[tuple, list] = {}
    for attempt in attempts:
        key = (attempt["relay"], attempt["members"])
        tried.setdefault(key, []).append(attempt)
    for key, group in tried.items():
        usable = [a for a in group if "error" not in a]
        complete = [a for a in usable if a.get("complete")]
        best = max(
            complete or usable or group, key=lambda a: faster(a) if "error" not in a else float("-inf")
        )
        chosen[key] = {**best, "attempts": len(group)}
        if len(usable) > 1:
            chosen[key]["all_attempts"] = [{k: a.get(k) for k in ATTEMPT_KEYS} for a in usable]
    return list(chosen.values())


def _rotated(items: list, by: int) -> list:
    """`items` starting at index `by` (modulo their number), then wrapping around."""
    if not items:
        return items
    by %= len(items)
    return items[by:] + items[:by]


def run(args: argparse.Namespace) -> dict:
    runs: list[dict] = []
    relays = [RELAYS[name] for name in args.relays if name in RELAYS]
    if "fanout" in args.workloads:
        print(f"Fan-out: C = {args.sizes}, M = {args.messages} messages of ~100 bytes, best of {args.repeat}")
        attempts: list[dict] = []
        for repeat in range(args.repeat):
            for members in args.sizes:
                # The first attempt at a new size runs slower whatever the relay (the generator
                # grows its heap for more members): each repeat starts with another relay.
                for relay in _rotated(relays, repeat):
                    _attempt(
                        f"{relay.name:8} C={members:<4}",
                        {"workload": "fanout", "relay": relay.name, "members": members},
                        lambda relay=relay, members=members: fanout.run_fanout(
                            relay,
                            members,
                            args.messages,
                            audit_members=args.audit,
                            window_budget=args.window_budget,
                        ),
                        attempts,
                    )
                if "udp" in args.relays and members in args.udp_sizes:
                    _attempt(
                        f"{'udp':8} C={members:<4}",
                        {"workload": "fanout", "relay": "udp", "members": members},
                        lambda members=members: _udp().run_udp_fanout(members, args.messages),
                        attempts,
                    )
        runs.extend(best_of(attempts, faster=lambda r: r.get("deliveries_per_s") or 0))
    if "steady" in args.workloads:
        members = 50 if not args.quick else 20
        print(
            f"Steady latency: C = {members}, 20 messages/s each for {args.steady_seconds:g} s, "
            f"best p99 of {args.steady_repeat}"
        )
        attempts = []
        for repeat in range(args.steady_repeat):
            for relay in _rotated(relays, repeat):
                _attempt(
                    f"{relay.name:8} C={members:<4}",
                    {"workload": "steady", "relay": relay.name, "members": members},
                    lambda relay=relay: fanout.run_steady(relay, members, 20.0, args.steady_seconds),
                    attempts,
                )
        runs.extend(best_of(attempts, faster=lambda r: -(r.get("p99_ms") or float("inf"))))
    if "join" in args.workloads:
        joining = [relay for relay in relays if relay.name in JOIN_RELAYS]
        print(
            f"Join time: TCP connect to welcome (subscribed, for Redis), {args.join_lone} members one "
            f"at a time and {args.join_crowd} at once, best p99 of {args.repeat}"
        )
        attempts = []
        for repeat in range(args.repeat):
            for members in (1, args.join_crowd):
                for relay in _rotated(joining, repeat):
                    _attempt(
                        f"{relay.name:10} {'1 alone' if members == 1 else f'{members} at once':10}",
                        {"workload": "join", "relay": relay.name, "members": members},
                        lambda relay=relay, members=members: join.run_join(relay, members, args.join_lone),
                        attempts,
                    )
        runs.extend(best_of(attempts, faster=lambda r: -(r.get("p99_ms") or float("inf"))))
    if "scale" in args.workloads:
        print(f"Scale: {args.scale_members} members idle for {args.scale_idle:g} s, then 10 messages each")
        for tls in (False, True) if "native-tls" in args.relays else (False,):
            name = "native-tls" if tls else "native"
            _attempt(name, {"workload": "scale", "relay": name},
                     lambda tls=tls: capacity.run_scale(args.scale_members, args.scale_idle, 10, tls=tls),
                     runs)  # fmt: skip
    if "churn" in args.workloads:
        print(f"Churn: {args.churn_cycles} connect/join/leave cycles")
        _attempt("native", {"workload": "churn"}, lambda: capacity.run_churn(args.churn_cycles), runs)
    if "udp-loss" in args.workloads:
        print("UDP under loss: C = 10 through the lossy loopback relay, 20 % drop")
        _attempt("udp", {"workload": "udp-loss"}, lambda: _udp().run_udp_loss(10, args.messages), runs)
    if "gui" in args.workloads:
        print(f"GUI burst: {args.gui_messages:,} messages through the bridge into the chat view")
        _attempt("gui", {"workload": "gui"}, lambda: _gui().run_gui_burst(args.gui_messages), runs)
    if "startup" in args.workloads:
        print("Start-up and size of the packaged builds")
        for build in ("onedir", "onefile"):
            _attempt(build, {"workload": "startup", "build": build},
                     lambda build=build: _startup().run_startup(build), runs)  # fmt: skip
    if "history" in args.workloads:
        runs.extend(_journal_fanouts(args))
        conversations = max(1, min(1000, args.history_messages // 1000))
        print(f"History: a database of {args.history_messages:,} messages in {conversations:,} conversations")
        _attempt("history", {"workload": "history"},
                 lambda: _history().run_history(args.history_messages, conversations,
                                                5_000 if args.quick else 50_000), runs)  # fmt: skip
    if "transfer" in args.workloads:
        print(f"Transfer: one file of {args.transfer_mib:,} MiB, {args.transfer_files:,} files of 4 KiB")
        _attempt("transfer", {"workload": "transfer"},
                 lambda: _transfer().run_transfer(args.transfer_mib * 1024 * 1024, args.transfer_files),
                 runs)  # fmt: skip
        chat = 20 if args.quick else 50
        print(f"Transfer beside the chat: steady C = {chat}, with and without {args.transfer_mib:,} MiB")
        _attempt("transfer-chat", {"workload": "transfer-chat"},
                 lambda: _transfer_chat().run_transfer_chat(args.transfer_mib * 1024 * 1024, chat,
                                                            args.steady_seconds), runs)  # fmt: skip
    if "backbone" in args.workloads:
        members = 40 if args.quick else 200
        print(f"Backbone: 2 hosts x {members // 2} members over NATS (R3) against 1 host x {members}")
        try:
            runs.extend(_backbone().run_backbone(members, args.messages))
        except procs.Unavailable as exc:
            skipped = {"workload": "backbone", "relay": "2 hosts + NATS R3", "members": members}
            runs.append({**skipped, "error": str(exc)})
    if "handover" in args.workloads:
        print(f"Handover: last message before to first message after, {args.handovers} graceful handovers")
        for transport in ("tcp", "udp"):
            _attempt(transport, {"workload": "handover", "transport": transport},
                     lambda transport=transport: _handover().run_handover(transport, args.handovers),
                     runs)  # fmt: skip
    return runs


def _journal_fanouts(args: argparse.Namespace) -> list[dict]:
    """Fan-outs for the history targets, in the smallest room (where a member's stream is
    fastest: the member's history writes must keep up with it): the host as everybody runs
    it (native-tls, its journal on) and the same host without its journal, interleaved, so
    the journal's cost shows in one run."""
    members = min(args.sizes)
    print(f"Fan-out with and without the host's journal: C={members}, best of {args.repeat}")
    attempts: list[dict] = []
    for repeat in range(args.repeat):
        for name in _rotated(["native-tls", "native-tls-memory"], repeat):
            label = {"workload": "journal-fanout", "relay": name, "members": members}

            def work(name: str = name, label: dict = label) -> dict:
                return {**fanout.run_fanout(RELAYS[name], members, args.messages), **label}

            _attempt(f"{name:8} C={members:<4}", label, work, attempts)
    return best_of(attempts, faster=lambda r: r.get("deliveries_per_s") or 0)


def _handover():
    from bench import handover

    return handover


def _backbone():
    from bench import backbone

    return backbone


def _transfer():
    from bench import transfer

    return transfer


def _transfer_chat():
    from bench import transfer_chat

    return transfer_chat


def _history():
    from bench import history_bench

    return history_bench


def _udp():
    from bench import udp

    return udp


def _gui():
    from bench import gui_burst

    return gui_burst


def _startup():
    from bench import startsize

    return startsize


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _raise_descriptor_limit()
    os.environ["LANCHAT_LOOPBACK_ONLY"] = "1"
    # Whatever a workload starts reads and writes LanChat's files here, never the user's own.
    with tempfile.TemporaryDirectory(prefix="lanchat-bench-config-") as config:
        previous = os.environ.get(CONFIG_DIR_ENV)
        os.environ[CONFIG_DIR_ENV] = config
        try:
            return _main(args)
        finally:
            if previous is None:
                os.environ.pop(CONFIG_DIR_ENV, None)
            else:
                os.environ[CONFIG_DIR_ENV] = previous


def _main(args: argparse.Namespace) -> int:
    print(
        "LanChat benchmarks on 127.0.0.1. Our host runs with rate limiting OFF "
        "(main.py host --rate-limit 0 --max-per-address 0)."
    )
    started = datetime.datetime.now(datetime.UTC)
    machine_before = _machine()
    runs = run(args)
    targets = report.evaluate(runs)
    results = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.datetime.now(datetime.UTC) - started).total_seconds(), 1),
        "machine": {**_machine(), "load_average_at_start": machine_before["load_average"]},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "rate_limit": "off (--rate-limit 0)",
        "targets": [t.as_dict() for t in targets],
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print("Targets (ratios to the peers measured in this run; our host's rate limiting off)")
    print(report.targets_table(targets))
    print()
    print("Fan-out (every member sends M messages; every other member receives them)")
    print(report.fanout_table(runs))
    print()
    print("Steady latency")
    print(report.steady_table(runs))
    if any(run_["workload"] == "join" for run_ in runs):
        print()
        print("Join time (TCP connect to welcome; Redis: to its SUBSCRIBE confirmed)")
        print(report.join_table(runs))
    for run_ in runs:
        if run_["workload"] in KEY_VALUE_WORKLOADS:
            print(f"\n{run_['workload']}: {report.key_values(run_)}")
    if any(run_["workload"] == "backbone" for run_ in runs):
        print()
        print(_backbone().table(runs))
    if args.markdown:
        args.markdown.write_text(report.markdown(results) + "\n", encoding="utf-8")
    print(f"\nWrote {args.output}")
    failed = [target.name for target in targets if target.passed is False]
    if failed:
        consequence = "exit status 0 (--no-fail)" if args.no_fail else "exit status 1"
        print(f"{len(failed)} target(s) FAIL, {consequence}: {'; '.join(failed)}")
    return report.exit_status(targets, no_fail=args.no_fail)


if __name__ == "__main__":
    sys.exit(main())
