"""The encrypted benchmark (issue 14): relays over TLS, their processes, targets and tables.

Mostly unit-level (argv, the relay table, verdicts over canned results); the last tests run
tiny workloads over TLS, as `test_harness.py` does for the plain relays, so that `make test`
keeps the TLS paths of the harness working. Speed is only ever judged by `make bench`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import ssl
import sys
import tempfile
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from bench import __main__ as bench_main
from bench import loadgen, procs, report
from bench.fanout import run_fanout
from bench.join import run_join
from bench.relays import RELAYS
from net.paths import CONFIG_DIR_ENV

CPU_C50 = "fan-out C=50, native TLS: host CPU per delivery ≤ Redis TLS's"
CPU_C50_PLAIN = "fan-out C=50, native TCP: host CPU per delivery ≤ Redis's"
STEADY_TLS = "steady 50 × 20 msg/s, native TLS: p99"
JOIN_TLS = "join, one member alone, native TLS: p99"


# --- processes -----------------------------------------------------------------------------


def test_redis_over_tls_serves_tls_only_with_the_given_key_and_no_client_certificates() -> None:
    key, cert = Path("/scratch/key.pem"), Path("/scratch/cert.pem")
    argv = procs.redis_argv("/usr/bin/redis-server", 6400, key=key, cert=cert)
    options = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert argv[0] == "/usr/bin/redis-server"
    assert options["--port"] == "0"  # the plain port closed
    assert options["--tls-port"] == "6400"
    assert options["--tls-cert-file"] == options["--tls-ca-cert-file"] == str(cert)
    assert options["--tls-key-file"] == str(key)
    assert options["--tls-auth-clients"] == "no"
    assert options["--bind"] == "127.0.0.1"
    # The same kindness as the plain Redis: no persistence, no pub/sub output-buffer cap.
    plain = procs.redis_argv("/usr/bin/redis-server", 6400)
    plain_options = dict(zip(plain[1::2], plain[2::2], strict=True))
    assert plain_options["--port"] == "6400" and not any(a.startswith("--tls") for a in plain)
    for option in ("--bind", "--save", "--appendonly", "--client-output-buffer-limit"):
        assert options[option] == plain_options[option]


class _Recorded:
    """Stands in for `procs.ManagedProcess`: records how it was made, starts nothing."""

    def __init__(self, name, argv, port, env=None, scratch=None) -> None:
        self.name, self.argv, self.port, self.env, self.scratch = name, argv, port, env, scratch


def test_redis_over_tls_gets_a_throw_away_p256_key_and_certificate(monkeypatch) -> None:
    monkeypatch.setattr(procs, "ManagedProcess", _Recorded)
    monkeypatch.setattr(procs, "redis_server_path", lambda: "/usr/bin/redis-server")
    made = procs.redis_tls()
    try:
        options = dict(zip(made.argv[1::2], made.argv[2::2], strict=True))
        key, cert = Path(options["--tls-key-file"]), Path(options["--tls-cert-file"])
        assert made.scratch is not None and key.is_relative_to(made.scratch)
        assert Path(tempfile.gettempdir()) in made.scratch.parents
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
        public = certificate.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1"
        assert options["--tls-port"] == str(made.port) and made.name == "redis-tls"
    finally:
        shutil.rmtree(made.scratch, ignore_errors=True)


@pytest.mark.parametrize("tls", [False, True])
def test_our_host_gets_its_own_throw_away_config_and_serves_tls_only_when_encrypted(
    monkeypatch, tls: bool
) -> None:
    monkeypatch.setattr(procs, "ManagedProcess", _Recorded)
    monkeypatch.setattr(procs, "our_host_problem", lambda transport="tcp": None)
    made = procs.our_host("tcp", tls=tls)
    try:
        config = Path(made.env[CONFIG_DIR_ENV])
        assert config == made.scratch and config.is_dir()
        # Only the identity, made beforehand as an installation has it after its first start.
        assert [path.name for path in config.iterdir()] == ["identity"]
        assert Path(tempfile.gettempdir()) in config.parents
        assert ("--allow-plaintext" in made.argv) is not tls
        assert made.argv[made.argv.index("--bind") + 1] == "127.0.0.1"
        assert made.argv[made.argv.index("--rate-limit") + 1] == "0"
        assert made.name == ("lanchat-tcp-tls" if tls else "lanchat-tcp")
    finally:
        shutil.rmtree(made.scratch, ignore_errors=True)


def test_stopping_a_process_removes_its_scratch_directory(tmp_path) -> None:
    scratch = tmp_path / "scratch"
    (scratch / "identity").mkdir(parents=True)
    proc = procs.ManagedProcess("noop", [sys.executable, "-c", "pass"], 0, scratch=scratch)
    proc.popen.wait(30)
    proc.stop()
    assert not scratch.exists()


_BUSY = """
import time
start = time.process_time()
while time.process_time() - start < 0.3:
    pass
time.sleep(60)
"""


def test_another_process_cpu_time_agrees_with_psutil_in_finer_steps() -> None:
    proc = procs.ManagedProcess("busy", [sys.executable, "-c", _BUSY], 0)
    try:
        deadline = time.monotonic() + 30
        while sum(proc.process.cpu_times()[:2]) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        ticks = sum(proc.process.cpu_times()[:2])  # user + system, in 10 ms steps
        fine = procs.process_cpu_seconds(proc.process)
        assert ticks >= 0.3 and fine == pytest.approx(ticks, abs=0.05)
        assert proc.stats().cpu >= fine
    finally:
        proc.stop()


# --- the relay table and the command line --------------------------------------------------


def test_the_tls_relays_are_in_the_table_and_in_the_default_run() -> None:
    assert RELAYS["native-tls"].tls and RELAYS["redis-tls"].tls
    assert RELAYS["native-tls"].dialect is RELAYS["native"].dialect
    assert RELAYS["redis-tls"].dialect is RELAYS["redis"].dialect
    assert RELAYS["native-tls"].ours and not RELAYS["redis-tls"].ours
    for name in ("native", "text", "redis", "tutorial"):
        assert not RELAYS[name].tls and RELAYS[name].client_tls() is None
    relays = bench_main.parse_args([]).relays
    assert {"native", "native-tls", "redis", "redis-tls"} <= set(relays)
    assert all(name in RELAYS or name == "udp" for name in relays)
    assert "join" in bench_main.parse_args([]).workloads
    assert set(bench_main.JOIN_RELAYS) <= set(RELAYS)


def test_members_connect_with_tls_13_and_check_no_certificate() -> None:
    context = RELAYS["native-tls"].client_tls()
    assert context is not None and context is RELAYS["redis-tls"].client_tls()  # the same for both
    assert context.minimum_version is ssl.TLSVersion.TLSv1_3
    assert context.verify_mode is ssl.CERT_NONE and not context.check_hostname


def test_join_sizes_and_repeats_have_quick_and_full_defaults() -> None:
    full, quick = bench_main.parse_args([]), bench_main.parse_args(["--quick"])
    assert (full.join_lone, full.join_crowd) == (20, 100)
    assert (quick.join_lone, quick.join_crowd) == (5, 20)
    # Steady runs last 10 s each whatever the machine: two per relay keep `make bench` short.
    assert (full.repeat, full.steady_repeat) == (3, 2) and (quick.repeat, quick.steady_repeat) == (1, 1)
    assert bench_main.parse_args(["--steady-repeat", "3"]).steady_repeat == 3


def test_the_benchmark_runs_with_a_throw_away_config_dir_and_restores_the_environment(
    monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV, "/somebody/else")
    seen: list[str] = []

    def run(args):
        seen.append(os.environ[CONFIG_DIR_ENV])
        assert Path(seen[-1]).is_dir()
        return []

    monkeypatch.setattr(bench_main, "run", run)
    assert bench_main.main(["--workloads", "churn", "--output", str(tmp_path / "out.json")]) == 0
    assert seen and seen[0] != "/somebody/else" and not Path(seen[0]).exists()
    assert os.environ[CONFIG_DIR_ENV] == "/somebody/else"


def test_best_of_keeps_every_attempts_cpu_per_delivery() -> None:
    attempts = [
        {**_fanout("native-tls", 50, 400_000, 0.7), "load_1min": 1.0},
        {**_fanout("native-tls", 50, 500_000, 0.6), "load_1min": 1.0},
    ]
    (best,) = bench_main.best_of(attempts, faster=lambda r: r["deliveries_per_s"])
    assert best["deliveries_per_s"] == 500_000
    assert [a["host_cpu_us_per_delivery"] for a in best["all_attempts"]] == [0.7, 0.6]


# --- targets over canned results -----------------------------------------------------------


def _fanout(relay: str, members: int, rate: int, cpu_us: float, complete: bool = True) -> dict:
    return {
        "workload": "fanout",
        "relay": relay,
        "members": members,
        "deliveries_per_s": rate,
        "deliveries": 490_000,
        "expected": 490_000,
        "complete": complete,
        "host_cpu_s": round(cpu_us * 0.49, 3),
        "generator_cpu_s": 0.3,
        "host_cpu_us_per_delivery": cpu_us,
        "p50_ms": 10.0,
        "p99_ms": 20.0,
    }


def _verdicts(runs: list[dict]) -> dict[str, report.Target]:
    return {t.name: t for t in report.evaluate(runs)}


def test_the_c50_tls_target_is_host_cpu_per_delivery_not_deliveries_per_second() -> None:
    # Slower in deliveries/s (the generator ends the run) but cheaper per delivery: PASS.
    cheaper = _verdicts([_fanout("native-tls", 50, 400_000, 0.40), _fanout("redis-tls", 50, 500_000, 0.50)])
    assert cheaper[CPU_C50].verdict == "PASS"
    assert cheaper[CPU_C50].value.startswith("0.80 × (0.400 vs 0.500 µs; 0.40 M/s vs 0.50 M/s)")
    dearer = _verdicts([_fanout("native-tls", 50, 600_000, 0.60), _fanout("redis-tls", 50, 500_000, 0.50)])
    assert dearer[CPU_C50].verdict == "FAIL"
    equal = _verdicts([_fanout("native-tls", 50, 1, 0.5), _fanout("redis-tls", 50, 1, 0.5)])
    assert equal[CPU_C50].verdict == "PASS"
    incomplete = _verdicts(
        [_fanout("native-tls", 50, 1, 0.1, complete=False), _fanout("redis-tls", 50, 1, 0.5)]
    )
    assert incomplete[CPU_C50].verdict == "FAIL" and "ours incomplete" in incomplete[CPU_C50].value
    assert _verdicts([_fanout("native-tls", 50, 1, 0.1)])[CPU_C50].verdict == "n/a"  # no Redis TLS
    # The plain comparison is its own target, against plain Redis; C=200 does not count here.
    plain = _verdicts([_fanout("native", 50, 1, 0.3), _fanout("redis", 50, 1, 0.25)])
    assert plain[CPU_C50_PLAIN].verdict == "FAIL" and plain[CPU_C50].verdict == "n/a"
    wrong_size = _verdicts([_fanout("native-tls", 200, 1, 0.1), _fanout("redis-tls", 200, 1, 0.5)])
    assert wrong_size[CPU_C50].verdict == "n/a"


def test_the_cpu_target_takes_each_relays_least_cpu_over_its_complete_attempts() -> None:
    ours = {
        **_fanout("native-tls", 50, 600_000, 0.70),
        "all_attempts": [
            {"complete": True, "host_cpu_us_per_delivery": 0.70},
            {"complete": True, "host_cpu_us_per_delivery": 0.45},
            {"complete": False, "host_cpu_us_per_delivery": 0.10},  # not a whole run: ignored
        ],
    }
    theirs = {
        **_fanout("redis-tls", 50, 500_000, 0.50),
        "all_attempts": [
            {"complete": True, "host_cpu_us_per_delivery": 0.50},
            {"complete": True, "host_cpu_us_per_delivery": 0.48},
        ],
    }
    target = _verdicts([ours, theirs])[CPU_C50]
    assert target.verdict == "PASS" and "0.450 vs 0.480 µs" in target.value
    # A run written before the figure existed: host CPU over deliveries.
    old = {k: v for k, v in _fanout("native-tls", 50, 1, 0.4).items() if k != "host_cpu_us_per_delivery"}
    assert _verdicts([old, theirs])[CPU_C50].verdict == "PASS"


def _steady(relay: str, p99: float, complete: bool = True) -> dict:
    return {"workload": "steady", "relay": relay, "members": 50, "p50_ms": 0.5, "p99_ms": p99,
            "max_ms": p99 * 2, "complete": complete, "host_cpu_cores": 0.3, "generator_cpu_cores": 0.2,
            "rate": 20.0, "duration": 10.0, "deliveries": 1, "expected": 1}  # fmt: skip


def test_the_steady_tls_target_is_a_p99_of_3_ms() -> None:
    runs = [_steady("native-tls", 2.9), _steady("redis-tls", 1.5), _steady("native", 1.0)]
    target = _verdicts(runs)[STEADY_TLS]
    assert target.verdict == "PASS" and target.value == "2.90 ms (Redis TLS 1.50 ms, plain 1.00 ms)"
    assert _verdicts([_steady("native-tls", 3.01)])[STEADY_TLS].verdict == "FAIL"
    assert _verdicts([_steady("native-tls", 1.0, complete=False)])[STEADY_TLS].verdict == "FAIL"
    assert _verdicts([_steady("native", 1.0)])[STEADY_TLS].verdict == "n/a"


def _join(relay: str, members: int, p50: float, p99: float) -> dict:
    return {"workload": "join", "relay": relay, "members": members, "joins": 20 if members == 1 else members,
            "p50_ms": p50, "p99_ms": p99, "max_ms": p99, "first_ms": p99, "host_cpu_s": 0.05,
            "host_cpu_ms_per_join": 2.5, "generator_cpu_s": 0.04}  # fmt: skip


def test_the_join_target_is_one_member_alone_over_tls_within_50_ms() -> None:
    runs = [_join("native-tls", 1, 4.0, 8.0), _join("native", 1, 1.3, 1.7), _join("redis-tls", 1, 3.7, 6.2)]
    runs.append(_join("native-tls", 100, 450.0, 560.0))  # a crowd is a figure, not this target
    target = _verdicts(runs)[JOIN_TLS]
    assert target.verdict == "PASS"
    assert target.value == "8.00 ms, p50 4.00 ms (plain 1.30/1.70 ms, Redis TLS 3.70/6.20 ms; p50/p99)"
    assert _verdicts([_join("native-tls", 1, 4.0, 50.5)])[JOIN_TLS].verdict == "FAIL"
    assert _verdicts([_join("native-tls", 100, 4.0, 8.0)])[JOIN_TLS].verdict == "n/a"


def _scale(relay: str, rss: float, delivered: int) -> dict:
    return {"workload": "scale", "relay": relay, "members": 500, "idle_rss_mib": rss,
            "idle_threads": 4, "idle_fds": 517, "deliveries": delivered, "expected": 100,
            "complete": delivered == 100}  # fmt: skip


def test_scale_targets_apply_to_the_plain_and_the_encrypted_host_apart() -> None:
    verdicts = _verdicts([_scale("native", 26.0, 100), _scale("native-tls", 60.0, 99)])
    assert verdicts["scale: 500 idle members, host RSS"].value.startswith("26.0 MiB")
    assert verdicts["scale: 500 idle members, native TLS, host RSS"].value.startswith("60.0 MiB")
    assert verdicts["scale: every message delivered"].verdict == "PASS"
    assert verdicts["scale: every message delivered, native TLS"].verdict == "FAIL"
    only_plain = _verdicts([_scale("native", 26.0, 100)])
    assert only_plain["scale: 500 idle members, native TLS, host RSS"].verdict == "n/a"


# --- tables --------------------------------------------------------------------------------


def _row(text: str, relay: str, members: int) -> list[str]:
    return next(line.split() for line in text.splitlines() if line.split()[:2] == [relay, str(members)])


def test_tls_rows_are_compared_with_redis_over_tls_and_show_cpu_per_delivery() -> None:
    runs = [
        _fanout("native", 50, 1_000_000, 0.3),
        _fanout("redis", 50, 500_000, 0.3),
        _fanout("native-tls", 50, 300_000, 0.6),
        _fanout("redis-tls", 50, 600_000, 0.5),
    ]
    text = report.fanout_table(runs)
    assert _row(text, "native", 50)[3] == "2.00"
    assert _row(text, "native-tls", 50)[3] == "0.50"  # against redis-tls, not redis
    assert _row(text, "native-tls", 50)[8] == "0.600"  # host µs per delivery
    assert "a -tls relay against redis-tls" in text
    assert "a -tls relay" not in report.fanout_table(runs[:2])
    results = {"targets": [t.as_dict() for t in report.evaluate(runs)], "runs": runs}
    markdown = report.markdown(results)
    assert "| native-tls | 50 | 300,000 | 0.50 | 10.0 | 20.0 | 0.29 | 0.30 | 0.600 | yes |" in markdown


def test_join_and_steady_tables_show_every_figure() -> None:
    runs = [_join("native-tls", 1, 4.0, 8.0), _join("redis-tls", 100, 560.0, 577.0), _steady("native-tls", 2)]
    joins = report.join_table(runs)
    lone = ["native-tls", "1", "alone", "20", "4.00", "8.00", "8.00", "8.00"]  # ... first ms
    assert _row(joins, "native-tls", 1)[:8] == lone
    assert _row(joins, "redis-tls", 100)[:5] == ["redis-tls", "100", "at", "once", "100"]
    assert "0.20" in _row(report.steady_table(runs), "native-tls", 50)  # the generator's cores
    markdown = report.markdown({"targets": [], "runs": runs})
    assert "| native-tls | 1 alone (20) | 4.00 | 8.00 | 8.00 | 8.00 | 2.50 | 0.04 |" in markdown
    assert json.dumps(runs)  # plain data, as latest.json holds it


# --- tiny workloads over TLS ---------------------------------------------------------------


def test_fanout_over_tls_delivers_everything_and_counts_it() -> None:
    result = run_fanout(RELAYS["native-tls"], members=3, messages=5, audit_members=3)
    assert result["complete"] is True and result["errors"] == 0 and result["extra"] == 0
    assert result["deliveries"] == result["expected"] == 30
    assert result["fragments"] == 0 and result["audited_deliveries"] == 30
    assert result["bytes_per_delivery"] > 90  # the message text and its frame, decrypted


@pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is installed by `make test` (when root)"
)
def test_fanout_and_join_against_redis_over_tls() -> None:
    result = run_fanout(RELAYS["redis-tls"], members=3, messages=5, audit_members=3)
    assert result["complete"] and result["deliveries"] == 30 and result["fragments"] == 0
    joined = run_join(RELAYS["redis-tls"], 3)
    assert joined["joins"] == 3 and 0 < joined["p50_ms"] <= joined["max_ms"]


@pytest.mark.parametrize(("members", "joins"), [(1, 3), (4, 4)])
def test_join_times_over_tls_are_taken_for_every_member(members: int, joins: int) -> None:
    result = run_join(RELAYS["native-tls"], members, lone=3)
    assert result["joins"] == joins
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert result["first_ms"] > 0 and result["host_cpu_s"] >= 0


def test_a_plain_member_is_refused_by_the_tls_only_host() -> None:
    # The encrypted relay is the host as everybody runs it: unencrypted members are turned away.
    unencrypted = dataclasses.replace(RELAYS["native-tls"], tls=False)
    with pytest.raises(loadgen.RelayError, match="refused"):
        run_join(unencrypted, 1, lone=1)
