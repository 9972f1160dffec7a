"""Opening the history database: the file, its lock, its schema, and what goes wrong.

Why each choice:
- WAL with ``synchronous=NORMAL``: a commit is a write to the log, not an fsync, so the writer
  keeps up with any burst, and a committed transaction survives the process being killed at
  any point (the log is in the operating system's hands); only a power cut may lose the last
  commits, never the database.
- Owner-only permissions (0600 files, 0700 folder): private messages are the user's.
- A lock file held for the whole run: SQLite itself would let two LanChat windows of one
  user write the same file; it would not corrupt it, but two windows storing the same room
  is confusing, so the second one says "history is in use" and runs without history.
- A file that is not ours (corrupt, or another program's) is renamed aside, never deleted,
  and a new one is started: the user is told where the old one went.
- FTS5 with the ``trigram`` tokenizer matches Chinese without spaces; it is checked when the
  database opens, and where this SQLite lacks it, search falls back to ``LIKE`` (slower,
  same results). Words of two characters (most Chinese words) have a second FTS5 table of
  character pairs (``history/bigrams.py``), kept beside it by the same writes.
- Schema versions: 1 had only the trigram index; opening a version-1 file builds the pair
  index from its messages once (in the opening transaction, as a stale index is rebuilt).
"""

from __future__ import annotations

import enum
import errno
import logging
import os
import sqlite3
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from history import bigrams

log = logging.getLogger(__name__)

#: Written in the file's header: tells our database from any other SQLite file.
APPLICATION_ID = 0x4C43_4831  # "LCH1"
SCHEMA_VERSION = 2
#: How long a reader waits for the writer's lock before giving up (SQLite's busy timeout).
BUSY_TIMEOUT_MS = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    peer TEXT,
    last_time REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    conversation INTEGER NOT NULL REFERENCES conversations(id),
    message_id TEXT NOT NULL,
    time REAL NOT NULL,
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    own INTEGER NOT NULL DEFAULT 0,
    action INTEGER NOT NULL DEFAULT 0,
    UNIQUE (conversation, message_id)
);
CREATE INDEX IF NOT EXISTS messages_by_time ON messages (conversation, time, id);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
FTS_SCHEMA = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
    "body, content='messages', content_rowid='id', tokenize='trigram')"
)
#: The pairs of characters (`bigrams.tokens`): contentless (the tokens are computed from
#: `messages.body` when needed), and only which messages hold a token (detail=none): a query
#: word is a single token, so positions would only take room.
BIGRAM_SCHEMA = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_bigram USING fts5("
    "grams, content='', columnsize=0, detail=none, tokenize='ascii')"
)


class Unavailable(enum.Enum):
    """Why there is no history this run (the chat goes on without it)."""

    IN_USE = "in_use"  # another LanChat window of this user has it open
    DISK_FULL = "disk_full"
    UNWRITABLE = "unwritable"  # permissions, a read-only disk, any other OS error


class HistoryUnavailable(Exception):
    """The database cannot be used: `reason` says why, `detail` is for the log."""

    def __init__(self, reason: Unavailable, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


def fts5_trigram_available() -> bool:
    """Whether this SQLite has FTS5 with the trigram tokenizer (3.34 and later, if compiled in)."""
    try:
        with sqlite3.connect(":memory:") as probe:
            probe.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
        return True
    except sqlite3.Error:
        return False


def is_disk_full(error: BaseException) -> bool:
    """Whether `error` is the disk (or the database's size limit) being full."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return code == sqlite3.SQLITE_FULL or "disk is full" in str(error)
    return False


def lock_file(handle: IO[bytes]) -> bool:
    """Take the lock on `handle` without waiting: False when another process holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def lock_beside(path: Path) -> IO[bytes] | None:
    """The lock on the database file `path` (a ``.lock`` file beside it, in an owner-only
    folder made if missing), held until the returned file is closed; None when another
    process holds it. Raises OSError when the folder or lock file cannot be made."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock_path = path.with_name(path.name + ".lock")
    private_file(lock_path)
    lock = open(lock_path, "r+b")  # noqa: SIM115 - held for the file's life by the caller
    if not lock_file(lock):
        lock.close()
        return None
    return lock


def private_file(path: Path) -> None:
    """Create `path` if missing, readable and writable by its owner only."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    if os.name != "nt":
        os.chmod(path, 0o600)


@dataclass
class HistoryDatabase:
    """An opened, locked, checked history file; `connect()` gives each thread its own link.

    `set_aside` is where a corrupt or foreign file was moved to this run (for the user's
    message), `fts` whether full-text search is available.
    """

    path: Path
    fts: bool
    set_aside: Path | None
    _lock: IO[bytes] | None

    @classmethod
    def open(cls, path: Path) -> HistoryDatabase:
        """Open (or create) the database at `path`. Raises HistoryUnavailable."""
        try:
            lock = lock_beside(path)
        except OSError as error:
            reason = Unavailable.DISK_FULL if is_disk_full(error) else Unavailable.UNWRITABLE
            raise HistoryUnavailable(reason, str(error)) from error
        if lock is None:
            raise HistoryUnavailable(Unavailable.IN_USE, str(path))
        try:
            fts = fts5_trigram_available()
            set_aside = None
            try:
                _prepare(path, fts)
            except sqlite3.DatabaseError as error:
                if isinstance(error, sqlite3.OperationalError) and is_disk_full(error):
                    raise
                set_aside = set_aside_file(path)
                log.warning(
                    "history: %s was not a LanChat database (%s); moved to %s", path, error, set_aside
                )
                _prepare(path, fts)
            return cls(path=path, fts=fts, set_aside=set_aside, _lock=lock)
        except (OSError, sqlite3.Error) as error:
            lock.close()
            reason = Unavailable.DISK_FULL if is_disk_full(error) else Unavailable.UNWRITABLE
            raise HistoryUnavailable(reason, str(error)) from error

    def connect(self) -> sqlite3.Connection:
        """A new connection for one thread (SQLite connections are not shared between threads)."""
        return connect(self.path)

    def close(self) -> None:
        """Give the lock back (every connection should be closed first)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the settings every user of the file needs (see the module docstring)."""
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=True
    )
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.create_function(bigrams.SQL_FUNCTION, 1, bigrams.tokens, deterministic=True)
    return connection


def _prepare(path: Path, fts: bool) -> None:
    """Check that `path` is ours (or new), and bring its schema up to date.

    Raises sqlite3.DatabaseError when the file is corrupt or another program's.
    """
    private_file(path)
    # Looked at first with a plain connection: switching a foreign file to WAL would change it.
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)) as plain:
        application_id = plain.execute("PRAGMA application_id").fetchone()[0]
        version = plain.execute("PRAGMA user_version").fetchone()[0]
        tables = plain.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if application_id != APPLICATION_ID and (tables or version):
        raise sqlite3.DatabaseError(f"foreign database (application id {application_id:#x})")
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(f"made by a newer LanChat (schema {version})")
    with closing(connect(path)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)
        if fts:
            _prepare_fts(connection)
        connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        connection.execute("COMMIT")
        # A quick look at the first pages: a file damaged in its header fails here, not later.
        connection.execute("SELECT count(*) FROM (SELECT 1 FROM messages LIMIT 1)").fetchone()
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists() and os.name != "nt":
            os.chmod(sidecar, 0o600)


def _prepare_fts(connection: sqlite3.Connection) -> None:
    """Create the full-text indexes, and rebuild them when rows were written without them.

    A run whose SQLite lacked FTS5 stores messages without indexing them and marks the
    indexes stale (`store.py`); the next run that has FTS5 rebuilds them once. A file of
    schema 1 has no pair index yet: it is built here, once.
    """
    existed = _exists(connection, "messages_fts")
    connection.execute(FTS_SCHEMA)
    pairs_existed = _exists(connection, "messages_bigram")
    connection.execute(BIGRAM_SCHEMA)
    stale = connection.execute("SELECT value FROM meta WHERE name='fts_stale'").fetchone()
    if stale or not existed:
        connection.execute("INSERT INTO messages_fts(messages_fts) VALUES('rebuild')")
    if stale or not pairs_existed:
        rebuild_bigrams(connection)
    connection.execute("DELETE FROM meta WHERE name='fts_stale'")
    rebuilt = stale or not existed or not pairs_existed
    if rebuilt or not connection.execute("SELECT 1 FROM meta WHERE name='indexed_upto'").fetchone():
        # Everything is indexed now (rebuilt, or a file from before the watermark, whose
        # messages were indexed as they were written): the watermark is the newest row.
        top = connection.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
        connection.execute(
            "INSERT OR REPLACE INTO meta (name, value) VALUES ('indexed_upto', ?)", (str(top),)
        )


def rebuild_bigrams(connection: sqlite3.Connection) -> None:
    """Fill the pair index from every message (a contentless table has no 'rebuild')."""
    connection.execute("INSERT INTO messages_bigram(messages_bigram) VALUES('delete-all')")
    connection.execute(
        f"INSERT INTO messages_bigram (rowid, grams) SELECT id, {bigrams.SQL_FUNCTION}(body) FROM messages"
    )


def _exists(connection: sqlite3.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE name=?", (name,)).fetchone() is not None


def set_aside_file(path: Path) -> Path:
    """Move a file that is not ours out of the way (with its WAL and shared memory), unharmed."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.unreadable-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.unreadable-{stamp}-{n}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            os.replace(sidecar, target.with_name(target.name + suffix))
    return target


def open_reader(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A read-only connection to the database at `path`, and whether its full-text index can
    be used: for the command line, which may read while a window writes (WAL readers never
    block the writer), so it takes no lock.

    Raises HistoryUnavailable (UNWRITABLE) when there is no readable LanChat database there.
    """
    if not path.exists():
        raise HistoryUnavailable(Unavailable.UNWRITABLE, f"no history at {path}")
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            if connection.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                raise sqlite3.DatabaseError("not a LanChat history database")
            # Both indexes, or neither: a file of schema 1 not yet opened by a window since
            # the upgrade has no pair index (search then scans, with the same results).
            indexed = all(_exists(connection, name) for name in ("messages_fts", "messages_bigram"))
            stale = connection.execute("SELECT 1 FROM meta WHERE name='fts_stale'").fetchone()
        except sqlite3.Error:
            connection.close()
            raise
    except sqlite3.Error as error:
        raise HistoryUnavailable(Unavailable.UNWRITABLE, str(error)) from error
    return connection, indexed and not stale and fts5_trigram_available()
