"""Two-character words (most Chinese words) are found through the pair index, not a scan,
and a file made by the schema-1 code gets that index when it is opened."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from history import bigrams, store
from history.database import SCHEMA_VERSION, HistoryDatabase, open_reader
from history.writer import HistoryWriter

ROOM = store.room_key("7F3A-91C2")
#: Made by the code of schema 1 (before the pair index): six messages kept through the
#: writer, a seventh kept and then forgotten by retention; see test_upgrade_from_schema_1.
SCHEMA_1_FILE = Path(__file__).parent / "data" / "schema1.sqlite3"


def _keep(writer: HistoryWriter, bodies: list[str], first: int = 0) -> None:
    messages = [
        store.NewMessage(ROOM, "Team", f"id{first + n}", 1000.0 + first + n, "ann", body)
        for n, body in enumerate(bodies)
    ]
    seq = writer.append_many(messages)
    assert seq is not None and writer.wait_durable(seq, 10)


def _ids(connection: sqlite3.Connection, text: str, fts: bool) -> list[str]:
    return [h.message.message_id for h in store.search(connection, text, fts)]


def _pair_hits(connection: sqlite3.Connection, word: str) -> int:
    """How many messages the pair index itself holds `word` for (no check against the text)."""
    return int(
        connection.execute(
            "SELECT count(*) FROM messages_bigram WHERE messages_bigram MATCH ?", (bigrams.query([word]),)
        ).fetchone()[0]
    )


def _steps(connection: sqlite3.Connection, text: str, fts: bool) -> int:
    """How many SQLite virtual-machine instructions the search ran: a scan of every message
    costs some per message, an index lookup does not grow with the file."""
    count = 0

    def tick() -> int:
        nonlocal count
        count += 1
        return 0

    connection.set_progress_handler(tick, 1)
    try:
        store.search(connection, text, fts)
    finally:
        connection.set_progress_handler(None, 1)
    return count


def test_tokens_are_the_distinct_pairs_of_non_ascii_runs() -> None:
    assert bigrams.tokens("会议室 meeting 会议") == "4f1ag8bae 8baeg5ba4"
    assert bigrams.tokens("ab 你 c好") == ""  # ASCII pairs and lone characters: not indexed
    assert bigrams.indexable("你好") and not bigrams.indexable("ok") and not bigrams.indexable("你,")
    assert not bigrams.indexable("你") and not bigrams.indexable("你好吗")


def test_two_character_words_inside_sentences(kept) -> None:
    database, writer = kept
    _keep(
        writer,
        [
            "明天下午三点开会议你好吗",  # id0: both words, no spaces
            "大家你好",  # id1
            "the 会议 is at 3",  # id2: mixed English and Chinese
            "会议室在二楼",  # id3
            "你们好",  # id4: 你 and 好, never 你好
            "goodbye all",  # id5
            "你好会议",  # id6: the two words together
        ],
    )
    with database.connect() as connection:
        for fts in (database.fts, False):  # the same results with the indexes and by a scan
            assert _ids(connection, "你好", fts) == ["id6", "id1", "id0"]
            assert _ids(connection, "会议", fts) == ["id6", "id3", "id2", "id0"]
            assert _ids(connection, "你好 会议", fts) == ["id6", "id0"]
            assert _ids(connection, "会议 你好 会议", fts) == ["id6", "id0"]
            assert _ids(connection, "会议 the", fts) == ["id2"]  # a trigram word and a pair
            assert _ids(connection, "会议 at", fts) == ["id2"]  # a pair and a two-letter ASCII word
            assert _ids(connection, "会议室 二楼", fts) == ["id3"]
            assert _ids(connection, "你", fts) == ["id6", "id4", "id1", "id0"]  # one character: a scan
            assert _ids(connection, "会议 们", fts) == []
            assert _ids(connection, "你好 goodbye", fts) == []


def test_a_two_character_word_is_looked_up_not_scanned(kept) -> None:
    database, writer = kept
    _keep(writer, ["第一次会议", "第二次会议你好"])
    _keep(writer, [f"今天天气很好我们去吃饭第{n}次" for n in range(3000)], first=2)
    assert writer.wait_indexed(10)  # (a burst is indexed once the writer is idle)
    with database.connect() as connection:
        assert database.fts
        scan = _steps(connection, "你", database.fts)  # one character, few hits: every message is read
        assert _ids(connection, "会议", database.fts) == ["id1", "id0"]
        assert _steps(connection, "会议", database.fts) < scan / 20
        assert _steps(connection, "会议 你好", database.fts) < scan / 20
        assert _steps(connection, "第一次 会议", database.fts) < scan / 20


def test_deleted_and_forgotten_messages_leave_the_pair_index(kept) -> None:
    database, writer = kept
    _keep(writer, ["会议一", "会议二", "会议三"])
    seq = writer.forget_older_than(1001.5)
    assert seq is not None and writer.wait_durable(seq, 10)
    with database.connect() as connection:
        assert _ids(connection, "会议", database.fts) == ["id2"]
        assert _pair_hits(connection, "会议") == 1
    seq = writer.delete_conversation(ROOM)
    assert seq is not None and writer.wait_durable(seq, 10)
    with database.connect() as connection:
        assert _ids(connection, "会议", database.fts) == []
        assert _pair_hits(connection, "会议") == 0


def test_upgrade_from_schema_1(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copyfile(SCHEMA_1_FILE, path)
    with sqlite3.connect(path) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 1
    old.close()
    # Before any window opened it, the command line reads it without the indexes: same results.
    reader, fts = open_reader(path)
    try:
        assert not fts
        assert _ids(reader, "你好 会议", fts) == ["id0"]
    finally:
        reader.close()
    database = HistoryDatabase.open(path)
    try:
        assert database.set_aside is None and database.fts
        with database.connect() as connection:
            assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
            assert _ids(connection, "你好", True) == ["id1", "id0"]  # the forgotten message is not back
            assert _ids(connection, "会议", True) == ["id3", "id2", "id0"]
            assert _ids(connection, "你好 会议", True) == ["id0"]
            assert _ids(connection, "会议室", True) == ["id3"]  # the trigram index is kept as it was
            assert _pair_hits(connection, "你好") == 2  # not the forgotten one (删除的会议你好)
        writer = HistoryWriter(database)
        writer.start()
        try:
            _keep(writer, ["升级以后的会议"], first=10)
        finally:
            writer.stop()
        with database.connect() as connection:
            assert _ids(connection, "会议", True) == ["id10", "id3", "id2", "id0"]
    finally:
        database.close()
    reader, fts = open_reader(path)
    try:
        assert fts and _ids(reader, "会议", fts)[0] == "id10"
    finally:
        reader.close()


def test_the_index_drives_newest_first_and_the_pairs_only_filter(kept) -> None:
    """Words of both kinds: the trigram index is read newest first until 50 hits, and the pair
    index's hits are only a list to look in. (Once SQLite turned that list into rowids for the
    trigram index to visit, one MATCH each, losing the order: 6.5 s at a million messages.)"""
    database, writer = kept
    _keep(writer, ["invoice 会议", "会议 invoice"])
    with database.connect() as connection:
        statements: list[str] = []
        connection.set_trace_callback(statements.append)
        try:
            assert _ids(connection, "invoice 会议", database.fts) == ["id1", "id0"]
        finally:
            connection.set_trace_callback(None)
        (search,) = [s for s in statements if "MATCH" in s]
        plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {search}")]
    assert plan[0].startswith("SCAN f VIRTUAL TABLE") and ":M" in plan[0] and "=M" not in plan[0]
    assert not any("TEMP B-TREE" in step for step in plan), plan


def test_the_writers_pairs_and_the_querys_agree_on_every_character() -> None:
    """`tokens` finds runs with a regular expression, `indexable` asks `str.isalnum`: the two
    must take the same characters, or a word could be looked up under a pair never written."""
    import sys

    for code in range(sys.maxunicode + 1):
        character = chr(code)
        assert bigrams.indexable(character * 2) == bool(bigrams.tokens(character * 2)), hex(code)


def test_messages_kept_by_a_run_without_fts5_reach_the_pair_index_later(tmp_path: Path, monkeypatch) -> None:
    import history.database as db

    path = tmp_path / "history.sqlite3"
    HistoryDatabase.open(path).close()  # both indexes exist from here on
    monkeypatch.setattr(db, "fts5_trigram_available", lambda: False)
    plain = HistoryDatabase.open(path)
    writer = HistoryWriter(plain)
    writer.start()
    try:
        _keep(writer, ["没有索引的时候开的会议"])
    finally:
        writer.stop()
        plain.close()
    monkeypatch.undo()
    indexed = HistoryDatabase.open(path)
    try:
        with indexed.connect() as connection:
            assert _pair_hits(connection, "会议") == 1
            assert _ids(connection, "会议", indexed.fts) == ["id0"]
    finally:
        indexed.close()
