"""Issue 17: what is kept, paged, found, deleted and exported."""

from __future__ import annotations

import html.parser

from history import export, store
from history.writer import HistoryWriter

ROOM = store.room_key("7F3A-91C2-4B8D-E01F-2A6C")
PRIVATE = store.private_key("7F3A-91C2-4B8D-E01F-2A6C", "bo")


def _say(writer: HistoryWriter, n: int, body: str, key: str = ROOM, **extra: object) -> int:
    seq = writer.append(store.NewMessage(key, "Lunch", f"id{n}", 1000.0 + n, "ann", body, **extra))  # type: ignore[arg-type]
    assert seq is not None
    return seq


def test_a_replayed_message_is_kept_once(kept) -> None:
    database, writer = kept
    _say(writer, 1, "hello")
    seq = _say(writer, 1, "hello")  # the welcome's history replays it
    assert writer.wait_durable(seq, 10)
    with database.connect() as connection:
        assert [m.body for m in store.page(connection, ROOM)] == ["hello"]
        assert store.search(connection, "hello", database.fts)[0].message.message_id == "id1"


def test_pages_go_back_to_the_first_message(kept) -> None:
    database, writer = kept
    for n in range(450):
        seq = _say(writer, n, f"line {n}")
    assert writer.wait_durable(seq, 10)
    with database.connect() as connection:
        shown = store.page(connection, ROOM)
        assert [m.message_id for m in shown] == [f"id{n}" for n in range(250, 450)]
        while True:
            older = store.page(connection, ROOM, before=shown[0])
            if not older:
                break
            shown = older + shown
        assert [m.message_id for m in shown] == [f"id{n}" for n in range(450)]
        hits = store.search(connection, "line 17", database.fts)  # 417, 317, ..., 17
        hit = next(h.message for h in hits if h.message.message_id == "id17")
        jump = store.around(connection, hit.row, limit=21)
        assert [m.message_id for m in jump] == [f"id{n}" for n in range(7, 28)]


def test_chinese_and_english_search(kept) -> None:
    database, writer = kept
    _say(writer, 1, "今天我们说你好世界然后去吃饭")
    _say(writer, 2, "Lunch at the Cafeteria?", key=PRIVATE, peer="bo")
    _say(writer, 3, "nothing to see")
    seq = _say(writer, 4, "50% off_today")
    assert writer.wait_durable(seq, 10)
    with database.connect() as connection:

        def ids(text: str) -> list[str]:
            return [h.message.message_id for h in store.search(connection, text, database.fts)]

        assert ids("你好") == ["id1"]  # two characters, inside a sentence without spaces
        assert ids("说你好世") == ["id1"]
        assert ids("cafeteria lunch") == ["id2"]
        assert ids("at") == ["id2"]
        assert ids("%") == ["id4"] and ids("f_t") == ["id4"]  # LIKE's wildcards are plain text
        assert ids("cafeteria 你好") == []
        assert store.search(connection, "cafeteria", database.fts)[0].title == "Lunch"


def test_delete_and_retention(kept) -> None:
    database, writer = kept
    for n in range(10):
        _say(writer, n, f"room {n}")
        _say(writer, 100 + n, f"private {n}", key=PRIVATE, peer="bo")
    writer.delete_conversation(PRIVATE)
    seq = writer.forget_older_than(1005.0)
    assert seq is not None and writer.wait_durable(seq, 10)
    with database.connect() as connection:
        assert [c.key for c in store.conversations(connection)] == [ROOM]
        assert [m.body for m in store.page(connection, ROOM)] == [f"room {n}" for n in range(5, 10)]
        assert store.search(connection, "private", database.fts) == []
        assert store.search(connection, "room 3", database.fts) == []


def test_export_round_trip(kept) -> None:
    database, writer = kept
    _say(writer, 1, "<b>not bold</b> & 你好")
    _say(writer, 2, "waves", action=True)
    seq = _say(writer, 3, "two\nlines", own=True)
    assert writer.wait_durable(seq, 10)
    with database.connect() as connection:
        messages = store.page(connection, ROOM)
    text = export.to_text("Lunch", messages)
    lines = text.splitlines()
    assert lines[0] == "Lunch"
    assert lines[2].endswith("] <ann> <b>not bold</b> & 你好")
    assert lines[3].endswith("] * ann waves")
    assert lines[4].endswith("] <ann> two") and lines[5] == "    lines"

    page = export.to_html("Lunch <room>", messages)

    class Texts(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.texts: list[str] = []
            self.tags: set[str] = set()

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.tags.add(tag)

        def handle_data(self, data: str) -> None:
            self.texts.append(data)

    parsed = Texts()
    parsed.feed(page)
    assert "<b>not bold</b> & 你好" in parsed.texts and "Lunch <room>" in parsed.texts
    assert "two\nlines" in parsed.texts
    assert parsed.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "div", "span"}
    assert "src=" not in page and "href=" not in page  # self-contained: loads nothing


def test_messages_kept_before_they_are_indexed_are_found_once_and_deleted_cleanly(tmp_path) -> None:
    """The writer keeps a burst first and indexes it when idle (`store.index_pending`):
    search must find what waits for the index, the same results, each message once."""
    from history.database import HistoryDatabase

    database = HistoryDatabase.open(tmp_path / "history.sqlite3")
    connection = database.connect()
    try:
        bodies = ["开会 in room 3", "lunch 开会", "nothing", "开会 again"]
        messages = [
            store.NewMessage(ROOM, "Team", f"id{n}", 1000.0 + n, "ann", b) for n, b in enumerate(bodies)
        ]
        connection.execute("BEGIN")
        store.append(connection, messages[:2], database.fts)  # indexed at once
        store.append(connection, messages[2:], database.fts, index=False)  # waits for the index
        connection.execute("COMMIT")
        assert store.indexed_upto(connection) == 2

        def ids(text: str) -> list[str]:
            return [h.message.message_id for h in store.search(connection, text, database.fts)]

        assert ids("开会") == ["id3", "id1", "id0"]
        assert ids("开会 again") == ["id3"] and ids("lunch") == ["id1"]
        assert [h.message.message_id for h in store.search(connection, "开会", database.fts, limit=1)] == [
            "id3"
        ]

        connection.execute("BEGIN")
        store.delete_conversation(connection, ROOM, database.fts)  # rows in and out of the index
        connection.execute("COMMIT")
        assert ids("开会") == []
        for table in ("messages_fts", "messages_bigram"):
            connection.execute(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)")

        connection.execute("BEGIN")
        store.append(connection, messages, database.fts, index=False)
        assert store.index_pending(connection, 3) == 3 and store.index_pending(connection) == 1
        connection.execute("COMMIT")
        assert ids("开会") == ["id3", "id1", "id0"]
    finally:
        connection.close()
        database.close()


def test_a_burst_is_kept_at_once_and_indexed_when_the_writer_is_idle(kept) -> None:
    database, writer = kept
    messages = [
        store.NewMessage(ROOM, "Team", f"b{n}", 2000.0 + n, "ann", f"burst 消息 {n}") for n in range(5000)
    ]
    seq = writer.append_many(messages)
    assert seq is not None and writer.wait_durable(seq, 10)
    assert writer.wait_indexed(20)
    with database.connect() as connection:
        top = connection.execute("SELECT max(id) FROM messages").fetchone()[0]
        assert store.indexed_upto(connection) == top
        assert len(store.search(connection, "消息 4999", database.fts)) == 1
