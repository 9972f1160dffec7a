"""The host's journal on disk: a room's recent messages and its kept private messages.

One SQLite file per room (`journal_path`: the room key's fingerprint and the room's name,
in the user data folder), owner-only, locked for the host's life, in WAL mode with
``synchronous=NORMAL``: a commit is a write to the log, which the operating system keeps
when the process is killed, so the host may acknowledge a message as soon as `write`
returns (`net.host.journal`). The host's thread must never wait for the disk beyond that
write: the log is folded back into the file (a checkpoint, which syncs) by a thread of
this journal's own, and the host's connection only checkpoints by itself when the log
has grown very large (the checkpoint thread failed).

The host writes once per round, so a burst of messages is a few transactions. Room messages
have no unique index on their id (it cost a third of each insert, measured): the rare
message relayed twice (resent after a host restart) is stored twice and read back once.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import IO

from history.database import is_disk_full, lock_beside, private_file, set_aside_file
from net.host.journal import JournalError, JournalState
from net.protocol import events as ev
from net.protocol.codec import decode_frame, encode_event
from net.protocol.errors import DecodeError
from net.room.mailbox import Away, Change, Departed, Kept, Removed, Returned, Stored, nick_key

log = logging.getLogger(__name__)

APPLICATION_ID = 0x4C43_484A  # "LCHJ"
SCHEMA_VERSION = 1
#: Room messages kept on disk (a welcome replays what fits of the newest).
KEEP_MESSAGES = 10_000
#: How often the checkpoint thread looks for a log to fold back.
CHECKPOINT_INTERVAL = 1.0
#: Pages of log after which the host's own connection checkpoints (a safety net only).
FALLBACK_CHECKPOINT_PAGES = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS room_messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    time REAL NOT NULL,
    action INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS away (
    box BLOB PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    nick TEXT NOT NULL,
    since REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS kept (
    seq INTEGER PRIMARY KEY,
    msg_id TEXT NOT NULL UNIQUE,
    box BLOB NOT NULL,
    sender_box BLOB NOT NULL,
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    time REAL NOT NULL,
    recipient TEXT NOT NULL,
    action INTEGER NOT NULL DEFAULT 0,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS succession (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    list TEXT NOT NULL
);
"""


def journal_path(data_dir: Path, fingerprint: bytes | None, room: str) -> Path:
    """Where the journal of the room `room` hosted with the key `fingerprint` lives: the
    same room hosted again finds its history, another room on this PC has its own."""
    digest = hashlib.sha256((fingerprint or b"") + b"\0" + room.encode("utf-8")).hexdigest()[:24]
    return data_dir / "rooms" / f"room-{digest}.sqlite3"


def journal_factory(path: Path) -> Callable[[], SqliteRoomJournal]:
    """What `HostConfig.journal` takes: opens the journal at `path` on the host's thread."""
    return lambda: SqliteRoomJournal.open(path)


class SqliteRoomJournal:
    """A room's journal (`net.host.journal.RoomJournal`); used by the host's thread only."""

    def __init__(self, path: Path, connection: sqlite3.Connection, lock: IO[bytes]) -> None:
        self.path = path
        self._connection = connection
        self._lock = lock
        self._writes = 0
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="journal-checkpoint", daemon=True
        )
        self._checkpointer.start()

    @classmethod
    def open(cls, path: Path) -> SqliteRoomJournal:
        """Open (or create) the journal at `path`; a file that is not one is set aside."""
        try:
            lock = lock_beside(path)
        except OSError as error:
            raise JournalError(f"cannot open {path}: {error}") from error
        if lock is None:
            raise JournalError(f"{path} is in use by another host of this room on this computer")
        try:
            try:
                connection = _prepare(path)
            except sqlite3.DatabaseError as error:
                if is_disk_full(error):
                    raise
                aside = set_aside_file(path)
                log.warning("the room's journal %s was unreadable (%s); moved to %s", path, error, aside)
                connection = _prepare(path)
        except (OSError, sqlite3.Error) as error:
            lock.close()
            raise JournalError(f"cannot open {path}: {error}") from error
        return cls(path, connection, lock)

    # -- RoomJournal ------------------------------------------------------------------------

    def load(self, history_size: int) -> JournalState:
        db = self._connection
        # Twice as many rows as wanted: a message relayed again after a restart (its sender
        # resent it) is in the file twice, under one id, and counts once (its first time).
        rows = db.execute(
            "SELECT id, sender, text, time, action FROM room_messages ORDER BY seq DESC LIMIT ?",
            (2 * max(0, history_size),),
        ).fetchall()
        unique: dict[str, ev.ChatMessage] = {}
        for i, s, t, tm, a in reversed(rows):  # oldest first: the first time a message came counts
            unique.setdefault(i, ev.ChatMessage(i, s, t, tm, None, bool(a)))
        history = list(unique.values())[-history_size:] if history_size else []
        away = [
            Away(n, bytes(b), s) for b, n, s in db.execute("SELECT box, nick, since FROM away ORDER BY since")
        ]
        kept = [
            Kept(bytes(box), ev.ChatMessage(i, s, t, tm, r, bool(a)), bytes(sender_box), exp)
            for i, box, sender_box, s, t, tm, r, a, exp in db.execute(
                "SELECT msg_id, box, sender_box, sender, text, time, recipient, action, expires "
                "FROM kept ORDER BY seq"
            )
        ]
        return JournalState(history, away, kept)

    def write(self, messages: Sequence[ev.ChatMessage], changes: Sequence[Change]) -> None:
        db = self._connection
        try:
            db.execute("BEGIN")
            if messages:
                db.executemany(
                    "INSERT INTO room_messages (id, sender, text, time, action) VALUES (?, ?, ?, ?, ?)",
                    [(m.id, m.sender, m.text, m.time, m.action) for m in messages],
                )
                self._writes += len(messages)
                if self._writes >= KEEP_MESSAGES // 10:
                    self._writes = 0
                    db.execute(
                        "DELETE FROM room_messages WHERE seq <= (SELECT max(seq) FROM room_messages) - ?",
                        (KEEP_MESSAGES,),
                    )
            for change in changes:
                _apply(db, change)
            db.execute("COMMIT")
        except sqlite3.Error as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            why = "the disk is full" if is_disk_full(error) else str(error)
            raise JournalError(f"cannot write the room's journal {self.path}: {why}") from error
        self._changed.set()

    def keep_successors(self, successors: ev.Successors) -> None:
        """The list as its frame (the protocol's JSON): the signature still holds when read."""
        try:
            self._connection.execute(
                "INSERT OR REPLACE INTO succession (id, list) VALUES (1, ?)",
                (encode_event(successors).decode("utf-8").rstrip("\n"),),
            )
        except sqlite3.Error as error:
            raise JournalError(f"cannot write the room's journal {self.path}: {error}") from error
        self._changed.set()

    def last_successors(self) -> ev.Successors | None:
        try:
            row = self._connection.execute("SELECT list FROM succession WHERE id = 1").fetchone()
            event = None if row is None else decode_frame(row[0].encode("utf-8"), from_host=True)
        except (sqlite3.Error, DecodeError) as error:
            log.warning("the successor list kept in %s is unreadable: %s", self.path, error)
            return None
        return event if isinstance(event, ev.Successors) else None

    def close(self) -> None:
        self._stopping.set()
        self._checkpointer.join(5.0)
        try:
            self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as error:
            log.debug("final checkpoint of %s failed: %s", self.path, error)
        self._connection.close()
        self._lock.close()

    # -- the checkpoint thread --------------------------------------------------------------

    def _checkpoint_loop(self) -> None:
        try:
            with closing(_connect(self.path)) as connection:
                while not self._stopping.wait(CHECKPOINT_INTERVAL):
                    if self._changed.is_set():
                        self._changed.clear()
                        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as error:
            log.warning("the room journal's checkpoints stopped: %s", error)


def _apply(db: sqlite3.Connection, change: Change) -> None:
    if isinstance(change, Stored):
        kept, m = change.kept, change.kept.message
        db.execute(
            "INSERT OR REPLACE INTO kept"
            " (msg_id, box, sender_box, sender, text, time, recipient, action, expires)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (m.id, kept.box, kept.sender_box, m.sender, m.text, m.time, m.to or "", m.action, kept.expires),
        )
    elif isinstance(change, Removed):
        db.execute("DELETE FROM kept WHERE msg_id = ?", (change.msg_id,))
    elif isinstance(change, Departed):
        away = change.away
        key = nick_key(away.nick)
        db.execute("DELETE FROM away WHERE box = ? OR key = ?", (away.box, key))
        db.execute(
            "INSERT INTO away (box, key, nick, since) VALUES (?, ?, ?, ?)",
            (away.box, key, away.nick, away.since),
        )
    elif isinstance(change, Returned):
        db.execute("DELETE FROM away WHERE box = ?", (change.box,))


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=2.0, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def _prepare(path: Path) -> sqlite3.Connection:
    """The host's connection to the journal at `path`, its schema in place; raises
    sqlite3.DatabaseError for a file that is not a LanChat room journal."""
    private_file(path)
    with closing(sqlite3.connect(path, timeout=2.0)) as plain:  # looked at before WAL changes it
        application_id = plain.execute("PRAGMA application_id").fetchone()[0]
        version = plain.execute("PRAGMA user_version").fetchone()[0]
        tables = plain.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if application_id != APPLICATION_ID and (tables or version):
        raise sqlite3.DatabaseError(f"foreign database (application id {application_id:#x})")
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(f"made by a newer LanChat (schema {version})")
    connection = _connect(path)
    try:
        connection.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
        connection.execute("BEGIN IMMEDIATE")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)
        connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        connection.execute("COMMIT")
        connection.execute("SELECT count(*) FROM (SELECT 1 FROM room_messages LIMIT 1)").fetchone()
        connection.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.Error:
        connection.close()
        raise
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            sidecar.chmod(0o600)
    return connection
