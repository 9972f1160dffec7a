"""Issue 17: the history file: private, locked to one window, and never lost to a bad file."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from history import bigrams, store
from history.database import APPLICATION_ID, HistoryDatabase, HistoryUnavailable, Unavailable
from history.writer import HistoryWriter


def _message(n: int, key: str = "room:AAAA", body: str | None = None) -> store.NewMessage:
    return store.NewMessage(key, "Lunch", f"id{n}", 1000.0 + n, "ann", body or f"message {n}")


def _keep(database: HistoryDatabase, *messages: store.NewMessage) -> HistoryWriter:
    writer = HistoryWriter(database)
    writer.start()
    seq = None
    for message in messages:
        seq = writer.append(message)
    assert seq is not None and writer.wait_durable(seq, 10)
    writer.stop()
    return writer


def test_files_are_owner_only_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "data" / "history.sqlite3"
    database = HistoryDatabase.open(path)
    try:
        _keep(database, _message(1))
        with database.connect() as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        if os.name != "nt":
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
            for name in (path, path.with_name(path.name + ".lock")):
                assert stat.S_IMODE(name.stat().st_mode) == 0o600
    finally:
        database.close()


def test_a_second_window_is_told_history_is_in_use(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    first = HistoryDatabase.open(path)
    try:
        with pytest.raises(HistoryUnavailable) as refused:
            HistoryDatabase.open(path)
        assert refused.value.reason is Unavailable.IN_USE
    finally:
        first.close()
    HistoryDatabase.open(path).close()  # free again once the first window is gone


@pytest.mark.parametrize("content", [b"this is not a database at all" * 200, "sqlite-foreign"])
def test_a_corrupt_or_foreign_file_is_set_aside_and_a_new_one_begun(tmp_path: Path, content: object) -> None:
    path = tmp_path / "history.sqlite3"
    if content == "sqlite-foreign":
        with sqlite3.connect(path) as other:
            other.execute("CREATE TABLE notes (x)")
            other.execute("INSERT INTO notes VALUES ('precious')")
        other.close()
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    before = path.read_bytes()
    database = HistoryDatabase.open(path)
    try:
        assert database.set_aside is not None and database.set_aside.read_bytes() == before
        _keep(database, _message(1))
        with database.connect() as connection:
            assert [m.body for m in store.page(connection, "room:AAAA")] == ["message 1"]
    finally:
        database.close()


def test_our_own_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    database = HistoryDatabase.open(path)
    _keep(database, _message(1))
    database.close()
    again = HistoryDatabase.open(path)
    try:
        assert again.set_aside is None
        with again.connect() as connection:
            assert len(store.page(connection, "room:AAAA")) == 1
    finally:
        again.close()


def test_a_full_disk_stops_history_with_a_reason_and_nothing_else(tmp_path: Path) -> None:
    """SQLite's own page limit stands in for a full disk: the same SQLITE_FULL error."""
    database = HistoryDatabase.open(tmp_path / "history.sqlite3")
    plain_connect = database.connect

    def small_connect() -> sqlite3.Connection:
        connection = plain_connect()
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count={pages + 2}")
        return connection

    database.connect = small_connect  # type: ignore[method-assign]
    failures: list[Unavailable] = []
    writer = HistoryWriter(database, on_failure=failures.append, batch=50)
    writer.start()
    try:
        seqs = [writer.append(_message(n, body="x" * 2000)) for n in range(400)]
        last = next(s for s in reversed(seqs) if s is not None)
        writer.wait_durable(last, 10)
        assert failures == [Unavailable.DISK_FULL]
        assert writer.failed is Unavailable.DISK_FULL
        assert writer.append(_message(9999)) is None  # dropped quietly from now on
    finally:
        writer.stop()
        database.close()


def test_without_fts5_search_still_finds_and_the_index_is_rebuilt_later(tmp_path: Path, monkeypatch) -> None:
    import history.database as db

    path = tmp_path / "history.sqlite3"
    monkeypatch.setattr(db, "fts5_trigram_available", lambda: False)
    plain = HistoryDatabase.open(path)
    assert not plain.fts
    _keep(plain, _message(1, body="我们明天一起吃午饭你好吗"), _message(2, body="see you at lunchtime"))
    with plain.connect() as connection:
        assert [h.message.message_id for h in store.search(connection, "你好", fts=False)] == ["id1"]
        assert [h.message.message_id for h in store.search(connection, "LUNCH", fts=False)] == ["id2"]
    plain.close()
    monkeypatch.undo()
    indexed = HistoryDatabase.open(path)
    try:
        assert indexed.fts
        with indexed.connect() as connection:
            assert [h.message.message_id for h in store.search(connection, "吃午饭", fts=True)] == ["id1"]
            # The pair index is rebuilt too (its own hits, before any check against the text).
            pairs = connection.execute(
                "SELECT rowid FROM messages_bigram WHERE messages_bigram MATCH ?", (bigrams.query(["你好"]),)
            ).fetchall()
            assert len(pairs) == 1
            assert [h.message.message_id for h in store.search(connection, "你好", fts=True)] == ["id1"]
    finally:
        indexed.close()
