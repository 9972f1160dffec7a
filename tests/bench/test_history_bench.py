"""Issue 17: `python -m bench --workloads history` runs alone, small, and reports its targets."""

from __future__ import annotations

import json

from bench import __main__ as bench_main
from bench.history_bench import fastest_member_stream, history_targets


def test_history_workload_alone(tmp_path, capsys) -> None:
    output = tmp_path / "latest.json"
    argv = ["--workloads", "history", "--quick", "--history-messages", "3000", "--output", str(output)]
    argv.append("--no-fail")  # a fan-out of a fraction of a second is no verdict on a busy machine
    assert bench_main.main(argv) == 0
    printed = capsys.readouterr().out
    assert "History: a database of 3,000 messages in 3 conversations" in printed
    results = json.loads(output.read_text())
    run = next(r for r in results["runs"] if r["workload"] == "history")
    assert run["messages"] == 3000 and run["writes_per_s"] > 0 and run["bytes_per_message"] > 0
    assert run["searches"]["你好"]["results"] > 0  # two characters: the LIKE path
    assert run["searches"]["printer"]["results"] == 50  # the trigram index
    verdicts = {t["name"].split(" (")[0]: t["verdict"] for t in results["targets"]}
    assert verdicts["history: open a conversation"] == "PASS"
    assert verdicts["history: search, first 50 results"] == "PASS"
    # The fan-outs it compares with run in the same run (with and without the host's journal).
    assert verdicts["history: sustained writes"] in ("PASS", "FAIL")
    assert verdicts["history: host fan-out with its journal"] in ("PASS", "FAIL")
    relays = {r["relay"] for r in results["runs"] if r["workload"] == "journal-fanout"}
    assert relays == {"native-tls", "native-tls-memory"}
    assert run["indexed_per_s"] > 0


def test_writes_are_compared_with_the_fastest_member_stream() -> None:
    runs = [
        {"workload": "fanout", "relay": "native", "members": 10, "deliveries_per_s": 200_000},
        {"workload": "fanout", "relay": "native", "members": 50, "deliveries_per_s": 400_000},
        {"workload": "history", "messages": 10, "conversations": 1, "fts": True, "open_max_ms": 1,
         "open_p50_ms": 1, "search_max_ms": 1, "searches": {}, "writes_per_s": 15_000, "indexed_per_s": 9_000,
         "bytes_per_message": 1},
    ]  # fmt: skip
    assert fastest_member_stream(runs) == (20_000, "native C=10")
    writes = next(t for t in history_targets(runs) if t.name == "history: sustained writes")
    assert writes.passed is False and "15,000/s vs 20,000/s (native C=10)" in writes.value
