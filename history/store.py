"""Conversations and messages in SQL: append, a page of older messages, search, delete, retention.

Plain functions on a connection, so the writer thread, a reader, the command line and the
benchmark run the same statements. Writing functions expect to run inside the caller's
transaction (the writer batches many appends into one).

A conversation is known by its key: ``room:CODE`` (the room code, from the host's key, not
its name, which anyone may reuse), ``private:CODE:NICK``, or ``ipmsg:ADDRESS`` (a
conversation with an IP Messenger user, known by its address as the window's tab is: it
belongs to no room); its title is what is shown. A
message is known by the host's message id within its conversation: storing it twice (a
welcome replaying what was already kept) is a no-op.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from history import bigrams

#: The trigram index finds words of three characters or more; words of two non-ASCII
#: letters (``你好``) are found in the pair index (`bigrams.py`); anything shorter (``你``,
#: ``at``) is matched with LIKE among what the indexes found, or by a scan when alone.
TRIGRAM = 3
_GRAMS = f"{bigrams.SQL_FUNCTION}(body)"
PAGE = 200


def room_key(room_code: str) -> str:
    """The key of a room's conversation."""
    return f"room:{room_code}"


IPMSG_PREFIX = "ipmsg:"


def ipmsg_key(address: str) -> str:
    """The key of a conversation with the IP Messenger user at `address` ("ip:port")."""
    return IPMSG_PREFIX + address


def private_key(room_code: str, peer: str) -> str:
    """The key of a private conversation with `peer` in the room `room_code`."""
    return f"private:{room_code}:{peer}"


@dataclass(frozen=True)
class NewMessage:
    """A message to keep, as the host timed and identified it."""

    conversation: str
    title: str
    message_id: str
    time: float
    sender: str
    body: str
    own: bool = False
    action: bool = False
    peer: str | None = None


@dataclass(frozen=True)
class StoredMessage:
    """A kept message; `row` orders it within its conversation and names it for a jump."""

    row: int
    conversation: str
    message_id: str
    time: float
    sender: str
    body: str
    own: bool
    action: bool


@dataclass(frozen=True)
class Conversation:
    key: str
    title: str
    peer: str | None
    last_time: float
    messages: int


@dataclass(frozen=True)
class Hit:
    """A search result: the message and the title of its conversation."""

    title: str
    message: StoredMessage


_COLUMNS = "m.id, c.key, m.message_id, m.time, m.sender, m.body, m.own, m.action"


def _stored(row: Sequence[object]) -> StoredMessage:
    return StoredMessage(
        row=int(row[0]),  # type: ignore[call-overload]
        conversation=str(row[1]),
        message_id=str(row[2]),
        time=float(row[3]),  # type: ignore[arg-type]
        sender=str(row[4]),
        body=str(row[5]),
        own=bool(row[6]),
        action=bool(row[7]),
    )


def append(
    connection: sqlite3.Connection, messages: Iterable[NewMessage], fts: bool, *, index: bool = True
) -> int:
    """Store `messages` (in the caller's transaction); returns how many were new.

    With `index` they are also put in the search indexes now (with whatever earlier
    messages still wait for that); without, `index_pending` does it later: the writer keeps
    a burst first and indexes it while idle (`history.writer`), search meanwhile finds the
    messages not yet indexed by reading them (`search`)."""
    ids: dict[str, int] = {}
    rows = []
    for message in messages:
        conversation = ids.get(message.conversation)
        if conversation is None:
            conversation = ids[message.conversation] = _conversation_id(connection, message)
        rows.append(
            (
                conversation,
                message.message_id,
                message.time,
                message.sender,
                message.body,
                message.own,
                message.action,
            )
        )
    if not rows:
        return 0
    changes = connection.total_changes
    connection.executemany(
        "INSERT OR IGNORE INTO messages (conversation, message_id, time, sender, body, own, action)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    added = connection.total_changes - changes
    if not fts:
        _mark_fts_stale(connection)
    elif index:
        index_pending(connection)
    latest: dict[int, float] = {}
    for row in rows:
        latest[row[0]] = max(latest.get(row[0], 0.0), row[2])
    connection.executemany(
        "UPDATE conversations SET last_time = max(last_time, ?) WHERE id = ?",
        [(t, c) for c, t in latest.items()],
    )
    return added


def _conversation_id(connection: sqlite3.Connection, message: NewMessage) -> int:
    connection.execute(
        "INSERT INTO conversations (key, title, peer) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET title = excluded.title",
        (message.conversation, message.title, message.peer),
    )
    row = connection.execute("SELECT id FROM conversations WHERE key = ?", (message.conversation,)).fetchone()
    return int(row[0])


def indexed_upto(connection: sqlite3.Connection) -> int:
    """The watermark of the search indexes: every message whose row is at most this is in
    both indexes, none above it. (A file without one, from before it existed, had every
    message indexed as it was written.)"""
    row = connection.execute("SELECT value FROM meta WHERE name='indexed_upto'").fetchone()
    if row is not None:
        return int(row[0])
    return int(connection.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0])


def set_indexed_upto(connection: sqlite3.Connection, row: int) -> None:
    connection.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('indexed_upto', ?)", (str(row),))


def index_pending(connection: sqlite3.Connection, limit: int | None = None) -> int:
    """Put the next `limit` messages not yet indexed (all when None) into both search
    indexes, in the caller's transaction, and move the watermark; returns how many."""
    upto = indexed_upto(connection)
    if limit is None:
        end = connection.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
    else:
        row = connection.execute(
            "SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?", (upto, limit - 1)
        ).fetchone()
        end = row[0] if row else connection.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
    if end <= upto:
        return 0
    span = (upto, end)
    connection.execute(
        "INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE id > ? AND id <= ?", span
    )
    indexed = connection.execute(
        f"INSERT INTO messages_bigram (rowid, grams) SELECT id, {_GRAMS} FROM messages"
        " WHERE id > ? AND id <= ?",
        span,
    ).rowcount
    set_indexed_upto(connection, end)
    return indexed


def _mark_fts_stale(connection: sqlite3.Connection) -> None:
    connection.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('fts_stale', '1')")


def page(
    connection: sqlite3.Connection, key: str, before: StoredMessage | None = None, limit: int = PAGE
) -> list[StoredMessage]:
    """Up to `limit` messages of conversation `key` older than `before` (the newest when None),
    oldest first: what opening a conversation shows, and what scrolling up adds."""
    bound = "" if before is None else " AND (m.time, m.id) < (?, ?)"
    args: tuple[object, ...] = (key,) if before is None else (key, before.time, before.row)
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation"
        f" WHERE m.conversation = (SELECT id FROM conversations WHERE key = ?){bound}"
        " ORDER BY m.time DESC, m.id DESC LIMIT ?",
        (*args, limit),
    ).fetchall()
    return [_stored(row) for row in reversed(rows)]


def around(connection: sqlite3.Connection, row: int, limit: int = PAGE) -> list[StoredMessage]:
    """The page of a message's conversation that ends with the message `row` and what follows
    it (up to `limit` in all): where a search result jumps to."""
    found = connection.execute(
        f"SELECT {_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation WHERE m.id = ?",
        (row,),
    ).fetchone()
    if found is None:
        return []
    hit = _stored(found)
    after = connection.execute(
        f"SELECT {_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation"
        " WHERE m.conversation = (SELECT conversation FROM messages WHERE id = ?) AND (m.time, m.id) > (?, ?)"
        " ORDER BY m.time, m.id LIMIT ?",
        (row, hit.time, hit.row, limit // 2),
    ).fetchall()
    return [*page(connection, hit.conversation, hit, limit - 1 - len(after)), hit, *map(_stored, after)]


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(connection: sqlite3.Connection, text: str, fts: bool, limit: int = 50) -> list[Hit]:
    """The newest `limit` messages containing every word of `text` (any case), newest first.

    Words need no spaces between them in the message: ``你好`` is found inside a sentence.
    One index drives, newest first, so the first `limit` hits end the query: the trigram
    index when a word has three characters or more, else the pair index when a word is two
    non-ASCII letters; the other words are checked on its hits (a two-character word is
    also checked against the text, LIKE, so results are exact). A query of nothing but
    one-character or two-letter ASCII words scans the messages, newest first.
    """
    words = list(dict.fromkeys(text.split()))
    if not words:
        return []
    tail: list[Hit] = []
    if fts:  # the newest messages may wait to be indexed: they are read, newest first
        upto = indexed_upto(connection)
        tail = _scan(connection, words, limit, f" AND m.id > {int(upto)}")
        if len(tail) >= limit:
            return tail
        limit -= len(tail)
        # Bounded by the same watermark: the writer may index more meanwhile (these are
        # two queries), and a message must not come twice.
        return tail + _search_indexed(connection, words, fts, limit, f" AND m.id <= {int(upto)}")
    return _search_indexed(connection, words, fts, limit, "")


def _scan(connection: sqlite3.Connection, words: list[str], limit: int, where: str = "") -> list[Hit]:
    """Messages holding every word, found by reading them (newest first)."""
    likes = "".join(" AND m.body LIKE ? ESCAPE '\\'" for _ in words)
    sql = (
        f"SELECT {_COLUMNS}, c.title FROM messages m JOIN conversations c ON c.id = m.conversation"
        f" WHERE 1{where}{likes} ORDER BY m.id DESC LIMIT ?"
    )
    return [
        Hit(title=str(row[8]), message=_stored(row))
        for row in connection.execute(sql, [*map(_like, words), limit])
    ]


def _search_indexed(
    connection: sqlite3.Connection, words: list[str], fts: bool, limit: int, bound: str
) -> list[Hit]:
    long_words = [w for w in words if len(w) >= TRIGRAM] if fts else []
    pair_words = [w for w in words if bigrams.indexable(w)] if fts else []
    short_words = [w for w in words if w not in long_words]
    likes = "".join(" AND m.body LIKE ? ESCAPE '\\'" for _ in short_words) + bound
    columns = f"SELECT {_COLUMNS}, c.title"
    # Joined with the index first (CROSS JOIN keeps that order): joined the other way round
    # (or through a subquery), SQLite collects every hit first (0.3 s for a common word in a
    # million messages, against 1 ms).
    if long_words:
        query = " ".join('"' + w.replace('"', '""') + '"' for w in long_words)
        pairs = ""
        args: list[object] = [query]
        if pair_words:
            # The pair index's hits are collected once (a list of rowids) and looked up for
            # each trigram hit: cheaper than fetching each hit's text for LIKE alone. The `+`
            # keeps it a filter: without it SQLite hands the list to the trigram table as
            # rowids to visit, one MATCH per rowid and the order lost (6.5 s, against 15 ms).
            pairs = " AND +f.rowid IN (SELECT rowid FROM messages_bigram WHERE messages_bigram MATCH ?)"
            args.append(bigrams.query(pair_words))
        sql = (
            f"{columns} FROM messages_fts f CROSS JOIN messages m ON m.id = f.rowid"
            " JOIN conversations c ON c.id = m.conversation"
            f" WHERE messages_fts MATCH ?{pairs}{likes} ORDER BY f.rowid DESC LIMIT ?"
        )
        args += [*map(_like, short_words), limit]
    elif pair_words:
        sql = (
            f"{columns} FROM messages_bigram b CROSS JOIN messages m ON m.id = b.rowid"
            " JOIN conversations c ON c.id = m.conversation"
            f" WHERE messages_bigram MATCH ?{likes} ORDER BY b.rowid DESC LIMIT ?"
        )
        args = [bigrams.query(pair_words), *map(_like, short_words), limit]
    else:
        sql = (
            f"{columns} FROM messages m JOIN conversations c ON c.id = m.conversation"
            f" WHERE 1{likes} ORDER BY m.id DESC LIMIT ?"
        )
        args = [*map(_like, short_words), limit]
    return [Hit(title=str(row[8]), message=_stored(row)) for row in connection.execute(sql, args)]


def conversations(connection: sqlite3.Connection) -> list[Conversation]:
    """Every kept conversation, the most recent first."""
    rows = connection.execute(
        "SELECT c.key, c.title, c.peer, c.last_time,"
        " (SELECT count(*) FROM messages WHERE conversation = c.id)"
        " FROM conversations c ORDER BY c.last_time DESC"
    ).fetchall()
    return [Conversation(str(r[0]), str(r[1]), r[2], float(r[3]), int(r[4])) for r in rows]


def delete_conversation(connection: sqlite3.Connection, key: str, fts: bool) -> int:
    """Forget conversation `key` and its messages (in the caller's transaction); returns how many."""
    row = connection.execute("SELECT id FROM conversations WHERE key = ?", (key,)).fetchone()
    if row is None:
        return 0
    removed = _delete_messages(connection, "conversation = ?", (row[0],), fts)
    connection.execute("DELETE FROM conversations WHERE id = ?", (row[0],))
    return removed


def forget_older_than(connection: sqlite3.Connection, cutoff: float, fts: bool) -> int:
    """Delete every message timed before `cutoff` (the retention setting); returns how many."""
    removed = 0
    for (conversation,) in connection.execute("SELECT id FROM conversations").fetchall():
        removed += _delete_messages(connection, "conversation = ? AND time < ?", (conversation, cutoff), fts)
    return removed


def _delete_messages(connection: sqlite3.Connection, where: str, args: tuple[object, ...], fts: bool) -> int:
    if fts:  # out of the indexes what is in them (at most the watermark): the rest never was
        indexed = f"{where} AND id <= {int(indexed_upto(connection))}"
        connection.execute(
            "INSERT INTO messages_fts (messages_fts, rowid, body)"
            f" SELECT 'delete', id, body FROM messages WHERE {indexed}",
            args,
        )
        connection.execute(
            "INSERT INTO messages_bigram (messages_bigram, rowid, grams)"
            f" SELECT 'delete', id, {_GRAMS} FROM messages WHERE {indexed}",
            args,
        )
    else:
        _mark_fts_stale(connection)
    removed = connection.execute(f"DELETE FROM messages WHERE {where}", args).rowcount
    if fts:
        # Row ids are reused above the highest one left: the watermark must not stay above
        # it, or the next messages would count as indexed without being so.
        top = int(connection.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0])
        if indexed_upto(connection) > top:
            set_indexed_upto(connection, top)
    return removed
