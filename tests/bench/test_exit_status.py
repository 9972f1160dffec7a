"""`make bench`'s exit status: 1 when a measured target fails, 0 with `--no-fail` or when none does.

Unit-level: the workloads are replaced by canned results, so no relay, load generator or
Redis runs here (the harness itself is smoke-tested in `test_harness.py`).
"""

from __future__ import annotations

import json

import pytest

from bench import __main__ as bench_main
from bench import report
from bench.report import Target


def churn(flat: bool) -> dict:
    """A churn run as `capacity.run_churn` reports it; its target passes when it stayed flat."""
    return {
        "workload": "churn",
        "cycles": 10,
        "flat": flat,
        "before_threads": 3,
        "after_threads": 3 if flat else 9,
        "before_fds": 12,
        "after_fds": 12,
        "rss_growth_mib": 0.5,
    }


def fanout(relay: str, members: int, rate: int) -> dict:
    return {
        "workload": "fanout",
        "relay": relay,
        "members": members,
        "deliveries_per_s": rate,
        "complete": True,
    }


def verdicts(runs: list[dict]) -> dict[str, str]:
    return {t.name: t.verdict for t in report.evaluate(runs)}


PASS = Target("a", "goal", "value", True)
FAIL = Target("b", "goal", "value", False)
NOT_MEASURED = Target("c", "goal", "not measured", None)


@pytest.mark.parametrize(
    ("targets", "status"),
    [
        ([], 0),
        ([PASS], 0),
        ([NOT_MEASURED], 0),  # a workload not run, or a peer unavailable, is no failure
        ([PASS, NOT_MEASURED], 0),
        ([FAIL], 1),
        ([PASS, FAIL, NOT_MEASURED], 1),
    ],
)
def test_exit_status_is_1_exactly_when_a_target_fails(targets: list[Target], status: int) -> None:
    assert report.exit_status(targets) == status
    assert report.exit_status(targets, no_fail=True) == 0


@pytest.fixture
def canned(monkeypatch):
    """Makes `bench_main.run` return the given runs instead of measuring anything."""
    calls: list[object] = []

    def use(runs: list[dict]) -> list[object]:
        def run(args):
            calls.append(args)
            return runs

        monkeypatch.setattr(bench_main, "run", run)
        return calls

    return use


@pytest.mark.parametrize(
    ("runs", "extra", "status"),
    [
        ([churn(flat=True)], [], 0),
        ([churn(flat=False)], [], 1),
        ([churn(flat=False)], ["--no-fail"], 0),
        ([fanout("native", 50, 900_000), fanout("redis", 50, 1_000_000), churn(flat=True)], [], 1),
        ([fanout("native", 50, 900_000), fanout("redis", 50, 1_000_000)], ["--no-fail"], 0),
        ([fanout("native", 50, 1_100_000), fanout("redis", 50, 1_000_000)], [], 0),
        ([{"workload": "churn", "error": "redis-server is missing"}], [], 0),
    ],
)
def test_main_returns_the_exit_status_and_still_reports_everything(
    canned, tmp_path, capsys, runs: list[dict], extra: list[str], status: int
) -> None:
    calls = canned(runs)
    output = tmp_path / "latest.json"
    assert bench_main.main(["--workloads", "fanout,churn", "--output", str(output), *extra]) == status
    assert len(calls) == 1  # the canned results, nothing measured
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    results = json.loads(output.read_text())  # written whatever the verdicts
    failed = [t["name"] for t in results["targets"] if t["verdict"] == "FAIL"]
    assert bool(failed) == (status == 1 or "--no-fail" in extra)
    if failed:
        consequence = "exit status 0 (--no-fail)" if "--no-fail" in extra else "exit status 1"
        assert last_line == f"{len(failed)} target(s) FAIL, {consequence}: {'; '.join(failed)}"
    else:
        assert last_line == f"Wrote {output}"


def test_the_canned_runs_give_the_verdicts_the_cases_rely_on() -> None:
    assert verdicts([churn(flat=True)])["churn: threads, fds, RSS flat"] == "PASS"
    assert verdicts([churn(flat=False)])["churn: threads, fds, RSS flat"] == "FAIL"
    slow = verdicts([fanout("native", 50, 900_000), fanout("redis", 50, 1_000_000)])
    assert [name for name, verdict in slow.items() if verdict == "FAIL"] == ["fan-out C=50, native TCP"]
    fast = verdicts([fanout("native", 50, 1_100_000), fanout("redis", 50, 1_000_000)])
    assert fast["fan-out C=50, native TCP"] == "PASS" and "FAIL" not in fast.values()


def test_no_fail_is_an_option_and_off_by_default() -> None:
    assert bench_main.parse_args([]).no_fail is False
    assert bench_main.parse_args(["--no-fail"]).no_fail is True
