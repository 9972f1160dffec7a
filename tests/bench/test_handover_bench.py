"""The bench's handover workload, small: rooms that move once each, the listener's gap from
the last message before to the first after, on both transports (issue 18)."""

from __future__ import annotations

import pytest

from bench.__main__ import WORKLOADS, parse_args
from bench.handover import run_handover


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_handovers_are_timed_from_the_last_message_before_to_the_first_after(transport: str) -> None:
    run = run_handover(transport, 2)
    assert run["workload"] == "handover" and run["transport"] == transport and run["handovers"] == 2
    assert 0 < run["min_ms"] <= run["p50_ms"] <= run["p99_ms"] <= run["max_ms"] < 5_000


def test_the_workload_is_registered() -> None:
    assert "handover" in WORKLOADS
    assert parse_args(["--workloads", "handover"]).handovers == 20
    assert parse_args(["--workloads", "handover", "--quick"]).handovers == 5
