"""The bench's transfer-beside-the-chat workload, small: it measures the chat's p99 with
and without files moving, and the host's, the client's and a relayed transfer's memory."""

from __future__ import annotations

from bench.transfer import transfer_targets
from bench.transfer_chat import run_transfer_chat


def test_the_chat_is_measured_with_and_without_a_transfer_and_memory_beside() -> None:
    run = run_transfer_chat(8 * 1024 * 1024, members=4, duration=1.0)
    assert run["complete"] and run["p99_quiet_ms"] > 0 and run["p99_busy_ms"] > 0
    assert run["transfers_during"] >= 1 and run["transfer_mib_s"] > 0 and run["relayed_mib_s"] > 0
    for key in ("host_rss_growth_mib", "client_rss_growth_mib", "relayed_rss_growth_mib"):
        assert run[key] is not None and run[key] < 64
    targets = {target.name: target for target in transfer_targets([run])}
    chat = [name for name in targets if name.startswith("transfer: chat p99")]
    assert chat and "without a transfer" in targets[chat[0]].value
    assert targets["transfer: host and client memory during transfers"].passed
