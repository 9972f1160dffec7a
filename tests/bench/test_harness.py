"""Smoke tests of the benchmark harness with tiny sizes, so that `make test` keeps it working.

They check the machinery (counting, sampling, splice audit, targets, the JSON report), not
speed: speed targets live in `make bench`, never in timed tests.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys

import pytest

from bench import __main__ as bench_main
from bench import interleaved, loadgen, payload, report, udp_loadgen
from bench.fanout import run_fanout, run_steady
from bench.relays import RELAYS
from bench.udp import run_udp_fanout, run_udp_loss
from net.udp.burst import BurstSender
from net.udp.wire import Datagram, Kind, encode, parse


def test_message_text_is_read_back_and_spliced_lines_are_found() -> None:
    first = payload.message_text(3, 7, True, 12.5, 90)
    second = payload.message_text(4, 1, False, 13.0, 90)
    assert len(first) == 90 and first.startswith("`0003/^/00007/12.500000/") and first.endswith("/0003|")
    stream = f"{first}\n{second}\n".encode()
    samples: list[float] = []
    payload.parse_samples(stream, 0, len(stream), member=0, now=20.0, out=samples)
    assert samples == [pytest.approx(7.5)]
    assert payload.count_fragments(stream) == (2, 0)
    spliced = f"{first[:40]}{second[30:]}\n{second[:30]}{first[40:]}\n".encode()
    assert payload.count_fragments(spliced) == (0, 2)


@pytest.mark.parametrize("relay", ["tutorial", "native", "text"])
def test_fanout_delivers_everything_and_counts_it(relay: str) -> None:
    result = run_fanout(RELAYS[relay], members=3, messages=5, audit_members=3)
    assert result["complete"] is True
    assert result["deliveries"] == result["expected"] == 3 * 2 * 5
    assert result["extra"] == 0 and result["errors"] == 0
    assert result["audited_deliveries"] == 30
    assert result["samples"] > 0 and result["p99_ms"] is not None
    # CPU times are counted in clock ticks (10 ms): a run this small may honestly measure 0.
    assert result["host_cpu_s"] >= 0 and result["generator_cpu_s"] >= 0
    if relay != "tutorial":
        assert result["fragments"] == 0


@pytest.mark.parametrize("relay", ["native", "native-tls"])
def test_latency_is_taken_at_arrival_and_again_at_reading(relay: str) -> None:
    """Every sampled message is timed to the kernel's arrival stamp of the bytes carrying it
    (the relay's doing) and again to the generator reading them (its own delay on top)."""
    result = run_steady(RELAYS[relay], members=3, rate=20, duration=0.5)
    assert result["complete"] and result["errors"] == 0
    assert result["samples"] == 3 * 2 * 10
    assert 0 < result["p50_ms"] <= result["read_p50_ms"]
    assert result["p99_ms"] <= result["read_p99_ms"]
    if sys.platform.startswith("linux"):  # the kernel stamps arrivals: reading comes later
        members = []
        original = loadgen.Member.on_data

        def spy(member, data, now=None, arrived=None):
            members.append((now, arrived))
            return original(member, data, now, arrived)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(loadgen.Member, "on_data", spy)
            run_steady(RELAYS[relay], members=2, rate=20, duration=0.2)
        assert members and all(arrived is not None and arrived < now for now, arrived in members)


@pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is installed by `make test` (when root)"
)
def test_fanout_against_redis() -> None:
    result = run_fanout(RELAYS["redis"], members=3, messages=5, audit_members=3)
    assert result["complete"] and result["deliveries"] == 30 and result["fragments"] == 0


def test_interleaved_rounds_count_every_relays_deliveries() -> None:
    relays = ["native", "native-tls", "text"] + (["redis-tls"] if shutil.which("redis-server") else [])
    results = interleaved.run(relays, members=3, messages=2, rounds=2)
    assert [r["relay"] for r in results] == relays
    for result in results:
        assert result["deliveries"] == 2 * 3 * 2 * 2  # rounds x members x others x messages
        assert result["host_cpu_s"] >= 0 and result["host_cpu_us_per_delivery"] >= 0


def test_targets_compare_ratios_within_one_run() -> None:
    runs = [
        {
            "workload": "fanout",
            "relay": "native",
            "members": 50,
            "deliveries_per_s": 1_500_000,
            "complete": True,
        },
        {"workload": "fanout", "relay": "text", "members": 50, "deliveries_per_s": 900_000, "complete": True},
        {
            "workload": "fanout",
            "relay": "redis",
            "members": 50,
            "deliveries_per_s": 1_000_000,
            "complete": True,
        },
    ]
    verdicts = {t.name: t.verdict for t in report.evaluate(runs)}
    assert verdicts["fan-out C=50, native TCP"] == "PASS"
    assert verdicts["fan-out C=50, plain-text TCP"] == "FAIL"
    assert verdicts["fan-out C=200, native TCP"] == "n/a"


def test_command_line_writes_the_report(tmp_path, capsys) -> None:
    output = tmp_path / "latest.json"
    argv = ["--workloads", "fanout,churn", "--relays", "native,tutorial", "--sizes", "3", "--messages", "4"]
    argv += ["--repeat", "2"]
    markdown = tmp_path / "tables.md"
    assert (
        bench_main.main([*argv, "--churn-cycles", "10", "--output", str(output), "--markdown", str(markdown)])
        == 0
    )
    printed = capsys.readouterr().out
    assert "rate limiting OFF" in printed
    assert printed.index("Targets") < printed.index("Fan-out (every member")
    results = json.loads(output.read_text())
    fanouts = [r for r in results["runs"] if r["workload"] == "fanout"]
    assert {r["relay"] for r in fanouts} == {"native", "tutorial"}
    assert all(r["complete"] and r["attempts"] == 2 and len(r["all_attempts"]) == 2 for r in fanouts)
    churn = next(r for r in results["runs"] if r["workload"] == "churn")
    assert churn["flat"] is True
    assert any(t["name"].startswith("churn") and t["verdict"] == "PASS" for t in results["targets"])
    assert "| native | 3 |" in markdown.read_text()


def test_the_splice_audit_counts_the_same_in_one_pass_as_line_by_line() -> None:
    texts = [payload.message_text(sender, 1, False, 1.0, 90).encode() for sender in (1, 2, 3)]
    framed = b"".join(b'{"text":"%s"}\n' % text for text in texts)
    resp = b"".join(b"*3\r\n$7\r\nmessage\r\n$90\r\n%s\r\n" % text for text in texts)
    assert payload.count_fragments(framed) == payload.count_fragments(resp) == (3, 0)
    # Two whole texts on one line (a relay that lost a newline) are not two deliveries.
    assert payload.count_fragments(texts[0] + texts[1] + b"\n" + texts[2] + b"\n") == (1, 1)
    # A tail of another sender, or a lone head, is a fragment wherever it is.
    assert payload.count_fragments(texts[0][:40] + texts[1][40:] + b"\n" + texts[2] + b"\n") == (1, 1)
    assert payload.count_fragments(b"`\n" + texts[2] + b"\n") == (1, 1)


def test_a_message_text_reads_back_whole_or_not_at_all() -> None:
    sampled = payload.message_text(12, 34, True, 56.25, 90)
    assert payload.read_text(sampled) == (12, 34, 56.25)
    assert payload.read_text(payload.message_text(7, 8, False, 1.0, 90)) == (7, 8, None)
    assert payload.read_text(sampled[:40] + payload.message_text(13, 1, False, 1.0, 90)[40:]) is None
    assert payload.read_text("hello") is None


def test_udp_under_loss_counts_every_delivery_once() -> None:
    result = run_udp_loss(members=3, messages=5)
    assert result["clean_complete"] is True and result["lossy_complete"] is True
    assert result["clean_deliveries"] == result["lossy_deliveries"] == result["expected"] == 3 * 2 * 5
    assert result["duplicates"] == 0


def test_udp_fanout_with_the_lean_generator_delivers_everything() -> None:
    result = run_udp_fanout(members=3, messages=40)
    assert result["complete"] is True
    assert result["deliveries"] == result["expected"] == 3 * 2 * 40
    assert 0 < result["host_datagram_reads"] <= result["host_datagrams"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="UDP receive offload is Linux's")
def test_the_lean_generator_reads_a_burst_of_bundles_in_one_call() -> None:
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(5)
        assert udp_loadgen._receive_coalesced(receiver)
        bundles = [Datagram(Kind.DATA, 7, 0, 64, b"", False, 0, 0, seq, 0, 0, b"a\nbb\nccc"[:n]) for seq, n in
                   ((1, 8), (2, 4), (3, 1))]  # fmt: skip
        BurstSender(sender).send([encode(d) for d in bundles], receiver.getsockname())
        data, ancillary, _, _ = receiver.recvmsg(
            udp_loadgen._COALESCED_BYTES, udp_loadgen._GRO_ANCILLARY_BYTES
        )
        segment = udp_loadgen._segment_size(ancillary)
        assert 0 < segment < len(data)  # one read, several datagrams of `segment` bytes
        parsed = [parse(data[start : start + segment]) for start in range(0, len(data), segment)]
        assert [(d.seq, d.payload.rstrip(b"\n")) for d in parsed] == [(d.seq, d.payload) for d in bundles]
    finally:
        sender.close()
        receiver.close()


def test_each_repeat_starts_with_another_relay() -> None:
    orders = [bench_main._rotated(["native", "text", "redis"], repeat) for repeat in range(4)]
    assert [order[0] for order in orders] == ["native", "text", "redis", "native"]
    assert all(sorted(order) == ["native", "redis", "text"] for order in orders)
    assert bench_main._rotated([], 2) == []
