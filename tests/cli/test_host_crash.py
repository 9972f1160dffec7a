"""Issue 17: a host killed with SIGKILL in the middle of a 10,000-message burst has every message
it acknowledged in its journal after a restart (it acknowledges only after the journal's write)."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from pathlib import Path

import pytest

from history.room_journal import journal_path
from net.api import ClientConfig, ClientState, Delivered, Transport
from net.client.errors import OutboxFull
from net.paths import identity_dir
from net.protocol import events as ev
from net.secure.identity import load_or_create_identity
from net.transports import make_client
from tests.helpers import wait_until
from tests.processes import MainProcess

BURST = 10_000
ROOM = "crash test 崩溃"


def start_host(config: Path, data: Path) -> tuple[MainProcess, int]:
    env = {"LANCHAT_CONFIG_DIR": str(config), "LANCHAT_DATA_DIR": str(data)}
    arguments = ("--port", "0", "--bind", "127.0.0.1", "--rate-limit", "0", "--name", ROOM)
    host = MainProcess("host", *arguments, env=env)
    port = int(host.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    return host, port


def join(port: int, nick: str, events: list) -> object:
    lock = threading.Lock()

    def sink(event: object) -> None:
        with lock:
            events.append(event)

    client = make_client(
        Transport.TCP, ClientConfig(host="127.0.0.1", port=port, nick=nick, reconnect=False), sink
    )
    client.start()
    wait_until(lambda: client.state is ClientState.CONNECTED, timeout=10, message=f"{nick} joined")
    return client


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_kill_9_mid_burst_loses_no_acknowledged_message(tmp_path: Path) -> None:
    config, data = tmp_path / "config", tmp_path / "data"
    host, port = start_host(config, data)
    events: list = []
    client = join(port, "sender", events)
    acked: dict[str, str] = {}  # local id -> delivered id
    try:
        sent = 0
        while sent < BURST and host.proc.poll() is None:
            try:
                client.send_message(f"消息 number {sent}")
                sent += 1
            except OutboxFull:
                wait_until(lambda: len(client.pending) < 1000, timeout=10, message="the outbox drains")
            if sent % 100 == 0:
                acked = {e.local_id: e.msg_id for e in list(events) if isinstance(e, Delivered)}
                if len(acked) >= 3000:
                    os.kill(host.proc.pid, signal.SIGKILL)
                    break
        host.wait(10)
        acked = {e.local_id: e.msg_id for e in list(events) if isinstance(e, Delivered)}
    finally:
        client.close()
        host.kill()
    assert host.proc.returncode == -signal.SIGKILL
    assert 3000 <= len(acked) < BURST, "the kill came after the burst: nothing was tested"

    fingerprint = load_or_create_identity(identity_dir(config)).fingerprint
    path = journal_path(data, fingerprint, ROOM)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as reader:
        kept = {row[0] for row in reader.execute("SELECT id FROM room_messages")}
        assert reader.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    missing = set(acked.values()) - kept
    assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {sorted(missing)[:3]}"

    # The restarted host replays the newest of them to a joiner.
    again, port = start_host(config, data)
    try:
        joiner_events: list = []
        joiner = join(port, "joiner", joiner_events)
        try:
            welcome = next(e for e in joiner_events if isinstance(e, ev.Welcome))
            assert welcome.history and {m.id for m in welcome.history} <= kept
        finally:
            joiner.close()
    finally:
        again.proc.send_signal(signal.SIGTERM)
        assert again.wait() == 0
        again.kill()
