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


def test_one_big_file_is_measured_beside_the_tls_baseline_with_the_sender_in_its_own_process() -> None:
    from bench.transfer import run_transfer

    run = run_transfer(8 * 1024 * 1024, small_files=20)
    assert run["engine_mib_s"] > 0 and run["baseline_tls_mib_s"] > 0 and run["ratio"] > 0
    assert run["engine_cpu_s_per_gib"] > 0 and run["baseline_cpu_s_per_gib"] > 0  # both processes counted
    assert run["rss_growth_mib"] < 64 and run["sender_rss_growth_mib"] < 64
    assert run["small_files_per_s"] > 0
    targets = {target.name: target for target in transfer_targets([run])}
    assert "CPU" in targets["transfer: one big file vs TLS sendall"].value
    assert "sender" in targets["transfer: memory during a transfer"].value
