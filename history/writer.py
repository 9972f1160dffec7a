"""The one thread that writes the history: callers enqueue and never wait for the disk.

The window's thread (and the host's, later) must never block on SQLite, so writes go
through a bounded queue to this thread, which takes everything waiting (up to `batch`) and
writes it in one transaction: a burst of thousands of messages costs a few commits, not
thousands. Every submission gets a sequence number, and `durable` is the last one whose
transaction is committed, so a caller can show a message only once it is kept, or
acknowledge it then (the host's rule).

When the disk is full or the file cannot be written, the writer says so once through
`on_failure` and drops what follows: the chat goes on without history.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass

from history import store
from history.database import HistoryDatabase, Unavailable, is_disk_full

log = logging.getLogger(__name__)

#: Submissions waiting at most (a burst bigger than this while the disk stalls is dropped,
#: counted and logged: memory stays bounded).
CAPACITY = 50_000
BATCH = 2_000
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class _Delete:
    key: str


@dataclass(frozen=True)
class _Forget:
    cutoff: float


_Job = store.NewMessage | _Delete | _Forget
_STOP = object()


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
        self._queue: queue.Queue[tuple[int, _Job] | object] = queue.Queue(maxsize=capacity)
        self._batch = batch
        self._lock = threading.Lock()
        self._next_seq = 0
        self._durable = 0
        self._committed = threading.Condition(self._lock)
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
        return self._submit(message)

    def delete_conversation(self, key: str) -> int | None:
        return self._submit(_Delete(key))

    def forget_older_than(self, cutoff: float) -> int | None:
        return self._submit(_Forget(cutoff))

    def _submit(self, job: _Job) -> int | None:
        if self.failed is not None:
            return None
        with self._lock:
            self._next_seq += 1
            seq = self._next_seq
            try:
                self._queue.put_nowait((seq, job))
            except queue.Full:
                self._next_seq -= 1
                self.dropped += 1
                if self.dropped == 1:
                    log.warning("history: the writer is behind; messages are not being kept")
                return None
        return seq

    def wait_durable(self, seq: int, timeout: float) -> bool:
        """Wait until submission `seq` is committed (tests, the command line; never the Tk thread)."""
        with self._committed:
            return self._committed.wait_for(lambda: self._durable >= seq or self.failed is not None, timeout)

    def stop(self) -> None:
        """Write what is queued, then end the thread and close its connection."""
        if not self._thread.is_alive():
            return
        self._queue.put(_STOP)  # blocks at worst until the writer makes room
        self._thread.join(STOP_TIMEOUT)

    def _run(self) -> None:
        try:
            connection = self._database.connect()
        except sqlite3.Error as error:
            self._fail(error)
            return
        try:
            stopping = False
            while not stopping:
                jobs: list[tuple[int, _Job]] = []
                item = self._queue.get()
                while True:
                    if item is _STOP:
                        stopping = True
                        break
                    jobs.append(item)  # type: ignore[arg-type]
                    if len(jobs) >= self._batch:
                        break
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                if jobs and self.failed is None:
                    self._write(connection, jobs)
        finally:
            connection.close()

    def _write(self, connection: sqlite3.Connection, jobs: list[tuple[int, _Job]]) -> None:
        fts = self._database.fts
        try:
            connection.execute("BEGIN IMMEDIATE")
            pending: list[store.NewMessage] = []
            for _, job in jobs:
                if isinstance(job, store.NewMessage):
                    pending.append(job)
                    continue
                store.append(connection, pending, fts)
                pending = []
                if isinstance(job, _Delete):
                    store.delete_conversation(connection, job.key, fts)
                else:
                    store.forget_older_than(connection, job.cutoff, fts)
            store.append(connection, pending, fts)
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
