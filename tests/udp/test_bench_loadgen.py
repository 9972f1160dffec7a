"""Smoke test of the lean UDP load generator (`bench.udp_loadgen`) against the real UDP host.

It checks the machinery, not speed: every member joins over a real channel, every message
reaches every other member exactly once (counted, no extras), latency is sampled and both
processes' CPU time is measured.
"""

from __future__ import annotations

from bench.udp import LEAN_GENERATOR, run_udp_fanout


def test_lean_udp_fanout_delivers_everything_once() -> None:
    result = run_udp_fanout(members=4, messages=30)
    assert result["complete"] is True
    assert result["deliveries"] == result["expected"] == 4 * 3 * 30
    assert result["extra"] == 0 and result["errors"] == 0
    assert result["samples"] > 0 and result["p99_ms"] is not None
    assert result["host_cpu_s"] >= 0 and result["generator_cpu_s"] > 0
    assert result["generator"] == LEAN_GENERATOR
