"""The one thread that writes the history: callers enqueue and never wait for the disk.

The window's thread (and the host's, later) must never block on SQLite, so writes go
through a bounded queue to this thread, which takes everything waiting (up to `batch`) and
writes it in one transaction: a burst of thousands of messages costs a few commits, not
thousands. Every submission gets a sequence number, and `durable` is the last one whose
transaction is committed, so a caller can show a message only once it is kept, or
acknowledge it then (the host's rule).

Indexing a message for search costs four times what keeping it does (two full-text
indexes), so a batch is kept first and indexed when the queue is empty, a chunk at a time
(`store.index_pending`): a burst faster than indexing is kept as fast as it comes, the
index catches up when it ends, and search reads the few newest messages it has not
reached yet (`store.search`), so results are the same.

When the disk is full or the file cannot be written, the writer says so once through
`on_failure` and drops what follows: the chat goes on without history.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from history import store
from history.database import HistoryDatabase, Unavailable, is_disk_full

log = logging.getLogger(__name__)

#: Submissions waiting at most (a burst bigger than this while the disk stalls is dropped,
#: counted and logged: memory stays bounded).
CAPACITY = 50_000
BATCH = 2_000
#: Messages indexed for search in one transaction while the writer is idle (a burst is
#: kept first and indexed after: search reads what is not indexed yet, `store.search`).
INDEX_CHUNK = 5_000
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class _Delete:
    key: str


@dataclass(frozen=True)
class _Forget:
    cutoff: float


_Job = store.NewMessage | _Delete | _Forget


class HistoryWriter:
    """Owns the writing thread and its connection: `start()`, `submit...`, `stop()`."""

    def __init__(
        self,
        database: HistoryDatabase,
        *,
        on_failure: Callable[[Unavailable], None] | None = None,
        on_durable: Callable[[int], None] | None = None,
        capacity: int = CAPACITY,
        batch: int = BATCH,
    ) -> None:
        self._database = database
        self._on_failure = on_failure
        self._on_durable = on_durable
        self._pending: deque[tuple[int, _Job]] = deque()
        self._capacity = capacity
        self._batch = batch
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # the writer waits for work on it
        self._committed = threading.Condition(self._lock)  # `wait_durable` waits on it
        self._stopping = False
        self._next_seq = 0
        self._durable = 0
        self._caught_up = False  # nothing queued, and everything kept is indexed
        self.failed: Unavailable | None = None
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def durable(self) -> int:
        """The sequence number of the last submission that is committed to the file."""
        return self._durable

    def append(self, message: store.NewMessage) -> int | None:
        """Keep `message`; returns its sequence number, or None when it was dropped."""
        return self._submit([message])

    def append_many(self, messages: list[store.NewMessage]) -> int | None:
        """Keep `messages` (one lock for all: a burst arrives in batches); returns the last
        one's sequence number, or None when they were dropped."""
        return self._submit(messages)

    def delete_conversation(self, key: str) -> int | None:
        return self._submit([_Delete(key)])

    def forget_older_than(self, cutoff: float) -> int | None:
        return self._submit([_Forget(cutoff)])

    def _submit(self, jobs: Sequence[_Job]) -> int | None:
        if self.failed is not None or not jobs:
            return None
        with self._lock:
            if self._stopping or len(self._pending) + len(jobs) > self._capacity:
                self.dropped += len(jobs)
                if self.dropped == len(jobs):
                    log.warning("history: the writer is behind; messages are not being kept")
                return None
            was_idle = not self._pending
            self._caught_up = False
            for job in jobs:
                self._next_seq += 1
                self._pending.append((self._next_seq, job))
            if was_idle:
                self._arrived.notify()
            return self._next_seq

    def wait_durable(self, seq: int, timeout: float) -> bool:
        """Wait until submission `seq` is committed (tests, the command line; never the Tk thread)."""
        with self._committed:
            return self._committed.wait_for(lambda: self._durable >= seq or self.failed is not None, timeout)

    def wait_indexed(self, timeout: float) -> bool:
        """Wait until everything submitted is kept and indexed for search (tests, benchmarks)."""
        with self._committed:
            return self._committed.wait_for(lambda: self._caught_up or self.failed is not None, timeout)

    def stop(self) -> None:
        """Write what is queued, then end the thread and close its connection."""
        with self._lock:
            self._stopping = True
            self._arrived.notify()
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT)

    def _take(self, wait: bool = True) -> list[tuple[int, _Job]] | None:
        """The next jobs to write (up to `batch`), waiting for some unless not `wait` (then
        maybe none); None once stopped and empty."""
        with self._lock:
            if wait:
                self._arrived.wait_for(lambda: self._pending or self._stopping)
            if not self._pending:
                return None if self._stopping else []
            count = min(len(self._pending), self._batch)
            return [self._pending.popleft() for _ in range(count)]

    def _run(self) -> None:
        try:
            connection = self._database.connect()
        except sqlite3.Error as error:
            self._fail(error)
            return
        behind = self._database.fts  # messages kept by an earlier run may wait to be indexed
        try:
            while (jobs := self._take(wait=not behind)) is not None:
                if jobs:
                    if self.failed is None:
                        self._write(connection, jobs)
                    behind = self._database.fts and self.failed is None
                elif behind:
                    behind = self._index_some(connection)
                if not behind:
                    with self._committed:
                        self._caught_up = not self._pending
                        self._committed.notify_all()
        finally:
            connection.close()

    def _index_some(self, connection: sqlite3.Connection) -> bool:
        """Index the next chunk of kept messages for search; whether more wait."""
        try:
            connection.execute("BEGIN IMMEDIATE")
            done = store.index_pending(connection, INDEX_CHUNK)
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            self._fail(error)
            return False
        return done == INDEX_CHUNK

    def _write(self, connection: sqlite3.Connection, jobs: list[tuple[int, _Job]]) -> None:
        fts = self._database.fts
        try:
            connection.execute("BEGIN IMMEDIATE")
            pending: list[store.NewMessage] = []
            for _, job in jobs:
                if isinstance(job, store.NewMessage):
                    pending.append(job)
                    continue
                store.append(connection, pending, fts, index=False)
                pending = []
                if isinstance(job, _Delete):
                    store.delete_conversation(connection, job.key, fts)
                else:
                    store.forget_older_than(connection, job.cutoff, fts)
            store.append(connection, pending, fts, index=False)  # indexed when idle (`_index_some`)
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            self._fail(error)
            return
        with self._committed:
            self._durable = jobs[-1][0]
            self._committed.notify_all()
        if self._on_durable is not None:
            self._on_durable(self._durable)

    def _fail(self, error: BaseException) -> None:
        reason = Unavailable.DISK_FULL if is_disk_full(error) else Unavailable.UNWRITABLE
        log.warning("history: writing stopped (%s): %s", reason.value, error)
        with self._committed:
            self.failed = reason
            self._committed.notify_all()
        if self._on_failure is not None:
            self._on_failure(reason)
