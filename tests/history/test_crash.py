"""Issue 17: killing LanChat (SIGKILL) in the middle of a 10,000-message burst loses nothing
it showed, and leaves a sound database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from history import store
from history.database import HistoryDatabase

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_kill_9_mid_burst_keeps_every_shown_message(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.history.burst_keeper", str(path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    shown = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:  # ends when the child does (an error: the assert below says)
            if line.startswith("shown "):
                shown = int(line.split()[1])
                if shown >= 3000:
                    os.kill(child.pid, signal.SIGKILL)
                    break
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        for stream in (child.stdin, child.stdout):
            assert stream is not None
            stream.close()
    assert child.returncode == -signal.SIGKILL and shown >= 3000

    database = HistoryDatabase.open(path)  # not set aside: still ours and sound
    try:
        assert database.set_aside is None
        with database.connect() as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            kept = {row[0] for row in connection.execute("SELECT message_id FROM messages")}
            assert {f"m{n}" for n in range(1, shown + 1)} <= kept
            assert len(kept) < 10_000, "the kill came after the burst: nothing was tested"
            if database.fts:
                connection.execute("INSERT INTO messages_fts(messages_fts) VALUES('integrity-check')")
                connection.execute("INSERT INTO messages_bigram(messages_bigram) VALUES('integrity-check')")
            found = store.search(connection, "burst 你好", database.fts, limit=5000)
            assert len(found) == min(5000, len(kept))
    finally:
        database.close()
