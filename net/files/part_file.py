"""A `.part` file being written: big files bypass the page cache (Linux `O_DIRECT`).

Why: on the receiving end, copying every byte into the kernel's page cache cost more CPU
than hashing it (profiled with `perf`: `copy_folio_from_iter_atomic` took about twice
SHA-256's share of a 1 GiB fetch), and CPU is what a transfer runs out of. `O_DIRECT`
hands the bytes to the disk from our buffer instead (no copy into the cache, no page
allocation, and a 4 GB file does not push everything else out of the cache). It needs
aligned buffers, offsets and lengths, so bytes are staged in page-aligned `mmap` buffers
and written a whole stage at a time, by a thread of the file's own so that the disk's
time overlaps with the hashing of the next bytes; the unaligned head (a resume from any
size) and the tail go through the page cache as before.

Resume still counts on the `.part`'s size: stages are written in order and the tail only
after them, so the size only ever covers bytes that arrived; what is staged and lost in a
crash is fetched again. Best effort: small files, other systems, and file systems that
refuse `O_DIRECT` write through the page cache.
"""

from __future__ import annotations

import errno
import logging
import mmap
import os
import queue
import threading
from pathlib import Path

from net.files.preallocate import reserve
from net.files.sockets import lower_priority

try:
    import fcntl
except ImportError:  # Windows: no O_DIRECT, no disk thread
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

#: Files at least this big bypass the page cache (smaller ones gain little, and each of a
#: folder's many small files would pay for the buffers and a thread).
DIRECT_MIN_BYTES = 16 * 1024 * 1024
#: Bytes of one stage, written to the disk at once (a multiple of any disk's block size).
STAGE_BYTES = 1024 * 1024
#: Stages per file: one being filled while the others wait for the disk (a shared disk's
#: latency varies; what waits is written with one `pwritev`).
STAGES = 8
#: Alignment of a direct write's file offset (the largest logical block size in use).
_ALIGN = 4096
#: Files at least this big have their disk blocks reserved first (`net.files.preallocate`).
RESERVE_MIN_BYTES = 1024 * 1024
_O_DIRECT: int = getattr(os, "O_DIRECT", 0)
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)


class PartFile:
    """Writes `length` bytes into `path` from `offset` (see the module docstring).

    One thread writes (not thread-safe). `write`/`flush` raise OSError like a file would
    (a full disk: what was written before stays); `close` always releases everything."""

    def __init__(self, path: Path, offset: int, length: int, *, direct_min: int = DIRECT_MIN_BYTES) -> None:
        # a new file takes one system call: a folder of 10,000 small files pays it each time
        self._fd = os.open(path, _OPEN_FLAGS | (0 if offset else os.O_TRUNC), 0o666)
        self._disk: _DiskThread | None = None
        try:
            if offset:
                os.ftruncate(self._fd, offset)
                os.lseek(self._fd, offset, os.SEEK_SET)
            if length >= RESERVE_MIN_BYTES:
                reserve(self._fd, offset, length)  # keeps the size: resume still counts on it
            if _O_DIRECT and length >= direct_min:
                self._disk = _DiskThread.open(path)
        except OSError:
            os.close(self._fd)
            raise
        self._position = offset  # file offset of the next byte handed to `write`
        self._stage = self._disk.take() if self._disk is not None else None
        self._staged = 0
        self._head = (-offset) % _ALIGN  # bytes to write through the cache before a stage

    @property
    def direct(self) -> bool:
        """True when whole stages bypass the page cache."""
        return self._disk is not None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        if self._stage is None:
            self._write_cached(view)
            return
        if self._head:
            head, view = view[: self._head], view[self._head :]
            self._write_cached(head)
            self._head -= len(head)
        while view:
            take = min(len(view), STAGE_BYTES - self._staged)
            self._stage[self._staged : self._staged + take] = view[:take]
            self._staged += take
            self._position += take
            view = view[take:]
            if self._staged == STAGE_BYTES:
                self._hand_over(STAGE_BYTES)

    def flush(self) -> None:
        """Everything handed over reaches the file: the aligned part of the last stage
        directly, its rest through the cache once every stage before it is written."""
        if self._disk is None or self._stage is None:
            return
        staged = self._staged
        aligned = staged - staged % _ALIGN
        tail = bytes(self._stage[aligned:staged])
        if aligned:
            self._hand_over(aligned)
        self._disk.drain()
        self._staged = 0
        if tail:
            os.lseek(self._fd, self._position - len(tail), os.SEEK_SET)
            self._position -= len(tail)
            self._write_cached(memoryview(tail))
        self._head = (-self._position) % _ALIGN

    def close(self) -> None:
        """Write what is staged (best effort: lost bytes are fetched again) and close."""
        if self._fd < 0:
            return
        try:
            self.flush()
        except OSError:
            pass
        finally:
            if self._disk is not None:
                self._disk.stop()
            self._disk = self._stage = None
            os.close(self._fd)
            self._fd = -1

    def _hand_over(self, count: int) -> None:
        """Queue the stage's first `count` bytes for the disk thread, take a free stage."""
        assert self._disk is not None and self._stage is not None
        self._disk.put(self._stage, self._position - self._staged, count)
        self._stage = None
        self._stage = self._disk.take()  # raises the disk thread's error, if any
        self._staged = 0

    def _write_cached(self, view: memoryview) -> None:
        """Write `view` at the position through the page cache (this descriptor)."""
        while view:
            written = os.write(self._fd, view)
            self._position += written
            view = view[written:]


class _DiskThread:
    """Writes stages to a file in the order they come, through a descriptor opened with
    `O_DIRECT`, on a thread of its own (owned by the `PartFile`, which stops and joins it)."""

    @classmethod
    def open(cls, path: Path) -> _DiskThread | None:
        """None when the file system refuses `O_DIRECT` (tmpfs, some network file systems)."""
        try:
            fd = os.open(path, os.O_WRONLY | _O_DIRECT)
        except OSError:
            return None
        return cls(fd)

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._free: queue.Queue[mmap.mmap] = queue.Queue()
        for _ in range(STAGES):
            self._free.put(mmap.mmap(-1, STAGE_BYTES))  # page aligned, as O_DIRECT needs
        self._full: queue.Queue[tuple[mmap.mmap, int, int] | None] = queue.Queue()  # <= STAGES
        self._error: OSError | None = None
        self._direct = True  # until a write is refused
        self._thread = threading.Thread(target=self._run, name="part file disk", daemon=True)
        self._thread.start()

    def put(self, stage: mmap.mmap, offset: int, count: int) -> None:
        self._full.put((stage, offset, count))

    def take(self) -> mmap.mmap:
        """A free stage (waits for the disk); raises the error a write met."""
        stage = self._free.get()
        if self._error is not None:
            self._free.put(stage)
            raise self._error
        return stage

    def drain(self) -> None:
        """Wait until every queued stage is written; raises the error a write met."""
        stages = [self._free.get() for _ in range(STAGES - 1)]  # the caller holds one
        for stage in stages:
            self._free.put(stage)
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        self._full.put(None)
        self._thread.join()
        os.close(self._fd)

    def _run(self) -> None:
        lower_priority()
        stopping = False
        while not stopping:
            batch = [self._full.get()]
            while batch[-1] is not None and len(batch) < STAGES and not self._full.empty():
                batch.append(self._full.get())  # what waits goes in one write: fewer round trips
            stopping = batch[-1] is None
            stages = [item for item in batch if item is not None]
            try:
                if self._error is None and stages:
                    self._write(stages)
            except OSError as exc:
                self._error = exc
            finally:
                for stage, _offset, _count in stages:
                    self._free.put(stage)

    def _write(self, stages: list[tuple[mmap.mmap, int, int]]) -> None:
        """Write `stages`; a file system that opened with `O_DIRECT` but refuses its writes
        (`EINVAL`: some need other alignments) gets them through the cache from then on."""
        try:
            _write_runs(self._fd, stages)
        except OSError as exc:
            if exc.errno != errno.EINVAL or fcntl is None or not self._direct:
                raise
            self._direct = False
            fcntl.fcntl(self._fd, fcntl.F_SETFL, fcntl.fcntl(self._fd, fcntl.F_GETFL) & ~_O_DIRECT)
            log.info("O_DIRECT writes refused here (%s): writing through the page cache", exc.strerror)
            _write_runs(self._fd, stages)


def _write_runs(fd: int, stages: list[tuple[mmap.mmap, int, int]]) -> None:
    """Write stages, in order, each run of adjoining ones with one `pwritev`."""
    run: list[memoryview] = []
    start = end = 0
    for stage, offset, count in stages:
        if run and offset != end:
            _write_at(fd, run, start)
            run = []
        if not run:
            start = end = offset
        run.append(memoryview(stage)[:count])
        end += count
    if run:
        _write_at(fd, run, start)


def _write_at(fd: int, views: list[memoryview], offset: int) -> None:
    while views:
        written = os.pwritev(fd, views, offset)
        offset += written
        while views and written >= len(views[0]):
            written -= len(views[0])
            views = views[1:]
        if views and written:
            views = [views[0][written:], *views[1:]]
