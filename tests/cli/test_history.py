"""Issue 17: `main.py history search/list/export`, run as a real process, while a "window"
(this test) holds the history open and keeps writing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from history import store
from history.database import HistoryDatabase
from history.writer import HistoryWriter

ROOT = Path(__file__).resolve().parents[2]


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANCHAT_DATA_DIR": str(data), "LANCHAT_LOOPBACK_ONLY": "1"}
    return subprocess.run(
        [sys.executable, "main.py", "history", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
    )


def test_search_list_and_export_while_a_window_writes(tmp_path: Path) -> None:
    database = HistoryDatabase.open(tmp_path / "history.sqlite3")
    writer = HistoryWriter(database)
    writer.start()
    try:
        said = [
            ("room:AAAA", "Lunch", "今天中午大家你好我们去吃面"),
            ("room:AAAA", "Lunch", "Noodles at NOON, anyone?"),
            ("private:AAAA:bo", "bo", "<script>alert(1)</script> see you"),
        ]
        for n, (key, title, body) in enumerate(said):
            seq = writer.append(store.NewMessage(key, title, f"m{n}", 1000.0 + n, "ann", body))
        assert seq is not None and writer.wait_durable(seq, 10)

        chinese = _cli(tmp_path, "search", "你好")
        assert chinese.returncode == 0, chinese.stderr
        assert chinese.stdout.splitlines()[0].endswith("[Lunch]  ann: 今天中午大家你好我们去吃面")
        english = _cli(tmp_path, "search", "noon", "noodles")
        assert english.returncode == 0 and len(english.stdout.splitlines()) == 1
        assert "Noodles at NOON" in english.stdout
        nothing = _cli(tmp_path, "search", "pizza")
        assert nothing.returncode == 1 and nothing.stdout == "" and "no message" in nothing.stderr

        listed = _cli(tmp_path, "list").stdout.splitlines()
        assert [line.split()[-1] for line in listed] == ["private:AAAA:bo", "room:AAAA"]

        out = tmp_path / "lunch.txt"
        exported = _cli(tmp_path, "export", "lunch", "-o", str(out))
        assert exported.returncode == 0, exported.stderr
        lines = out.read_text(encoding="utf-8").splitlines()
        assert lines[0] == "Lunch" and lines[2].endswith("<ann> 今天中午大家你好我们去吃面")
        assert lines[3].endswith("<ann> Noodles at NOON, anyone?")
        if os.name != "nt":
            assert stat.S_IMODE(out.stat().st_mode) == 0o600
        page = _cli(tmp_path, "export", "private:AAAA:bo", "--html").stdout
        assert "&lt;script&gt;alert(1)&lt;/script&gt; see you" in page and "<script>" not in page
        assert _cli(tmp_path, "export", "nobody").returncode == 2
    finally:
        writer.stop()
        database.close()


def test_no_history_yet(tmp_path: Path) -> None:
    result = _cli(tmp_path, "search", "hello")
    assert result.returncode == 1 and "no history" in result.stderr
