"""Receiving files and folders IP Messenger users offered: GETFILEDATA / GETDIRFILES over TCP.

A fetch connects to the offering peer's address (IP Messenger serves files on the port it
sends its packets from, 2425), sends one request packet and reads the answer:
- a file: its bytes from the offset asked for. It is written into ``NAME.part`` inside the
  chosen folder and renamed when whole; fetching the same file of the same offer again
  (Try again) resumes its `.part` (the offset is its size). A name already taken, or whose
  `.part` is another's, becomes ``NAME (1)``, and so on.
- a folder: the stream of headers and bytes (`net.ipmsg.attachments`), written under a new
  folder of the offered name, each file as `.part` then renamed.

Safety as for LanChat's own transfers (`net.files.names`): every name is one checked
component and lands inside the chosen folder (links on disk are not followed out of it);
a file's size is what was announced (a sender that sends more, or a folder bigger than
announced, is refused) and must fit on the disk; at most `MAX_CONNECTIONS` fetches run at
once; every socket has `IDLE_TIMEOUT`. In loopback-only mode only 127.0.0.1 is reached.
`Fetcher` owns its threads: `stop` asks them to end, `join` waits.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from net.addresses import parse_address
from net.discovery.destinations import is_loopback_destination, loopback_only
from net.files.limits import MAX_DEPTH, MAX_ENTRIES, PART_SUFFIX
from net.files.names import UnsafeName, alternative, part_path, target_path
from net.ipmsg import codec as c
from net.ipmsg.attachments import (
    Attachment,
    FileRequest,
    build_file_request,
    header_length,
    parse_dir_header,
)
from net.ipmsg.events import IpmsgTransferDone, IpmsgTransferFailed, IpmsgTransferProgress
from net.ipmsg.streams import CHUNK_BYTES, IDLE_TIMEOUT, MAX_CONNECTIONS, Pacer, Stopped, Workers, shut

log = logging.getLogger(__name__)

Sink = Callable[[object], None]
#: Builds a request packet (mode, extra) with our header: the bridge's identity.
RequestMaker = Callable[[int, bytes], bytes]
#: After the announced bytes, how long to look for bytes a sender should not have sent.
EXTRA_BYTES_WAIT = 0.05
MAX_NAME_ATTEMPTS = 1000
#: `.part` files remembered for resuming (the oldest are forgotten: fetched again from 0).
MAX_REMEMBERED_PARTS = 1000


@dataclass(frozen=True, slots=True)
class FetchJob:
    address: str  # the offering peer, "ip:port"
    packet_no: int  # the offer's SENDMSG
    attachment: Attachment
    folder: Path  # where the user chose to save it
    encoding: str = "utf-8"  # the peer's: names in a folder's stream
    utf8: bool = False  # the offer came with UTF8OPT

    @property
    def key(self) -> tuple[str, int, int]:
        return self.address, self.packet_no, self.attachment.file_id

    @property
    def offer(self) -> tuple[str, int]:
        return self.address, self.packet_no


class Fetcher:
    """Runs fetches on bounded threads (see the module docstring): one thread per offer,
    its files one after the other (an offer may hold 100), at most MAX_CONNECTIONS offers
    at once."""

    def __init__(self, make_request: RequestMaker, sink: Sink) -> None:
        self._make_request = make_request
        self._sink = sink
        self.workers = Workers("ipmsg-fetch", MAX_CONNECTIONS)
        self._lock = threading.Lock()
        self._cancels: dict[tuple[str, int], threading.Event] = {}  # by offer
        self._sockets: dict[tuple[str, int], socket.socket] = {}
        self._parts: dict[tuple[str, int, int], Path] = {}  # the .part each file is received into

    def fetch(self, jobs: list[FetchJob]) -> bool:
        """Start receiving the files `jobs` (of one offer), in order; False when that offer is
        being received already or too many offers are at once."""
        if not jobs:
            return True
        offer, cancel = jobs[0].offer, threading.Event()
        if any(job.offer != offer for job in jobs):
            raise ValueError("files of different offers")
        with self._lock:
            if offer in self._cancels:
                return False
            self._cancels[offer] = cancel
        if not self.workers.start(lambda: self._run_all(jobs, cancel)):
            with self._lock:
                self._cancels.pop(offer, None)
            return False
        return True

    def cancel(self, address: str, packet_no: int) -> None:
        """Stop receiving the offer `packet_no` (its `.part` files stay, for Try again)."""
        with self._lock:
            cancel = self._cancels.get((address, packet_no))
            sock = self._sockets.get((address, packet_no))
        if cancel is not None:
            cancel.set()
        if sock is not None:
            shut(sock)

    def stop(self) -> None:
        self.workers.stop()

    def join(self, timeout: float = 5.0) -> None:
        self.workers.join(timeout)

    # -- one fetch -----------------------------------------------------------------------------

    def _run_all(self, jobs: list[FetchJob], cancel: threading.Event) -> None:
        try:
            for job in jobs:
                if cancel.is_set() or self.workers.stopping.is_set():
                    self._sink(IpmsgTransferFailed(*job.key, "cancelled"))
                    continue
                self._run(job, cancel)
        finally:
            with self._lock:
                self._cancels.pop(jobs[0].offer, None)

    def _run(self, job: FetchJob, cancel: threading.Event) -> None:
        def stopping() -> bool:
            return cancel.is_set() or self.workers.stopping.is_set()

        key = job.key
        try:
            host, port = parse_address(job.address, c.DEFAULT_PORT)
            if loopback_only() and not is_loopback_destination(host):
                raise ConnectionError("loopback-only mode: only 127.0.0.1 is reached")
            with socket.create_connection((host, port), timeout=IDLE_TIMEOUT) as conn:
                self.workers.watch(conn)
                with self._lock:
                    self._sockets[job.offer] = conn
                if stopping():
                    raise Stopped
                reader = Reader(conn, stopping)
                if job.attachment.is_dir:
                    path = self._folder(conn, reader, job)
                else:
                    path = self._file(conn, reader, job)
        except Stopped:
            self._sink(IpmsgTransferFailed(*key, "cancelled"))
        except (OSError, ValueError, UnsafeName, c.IpmsgFormatError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            log.info("receiving an IP Messenger file from %s stopped: %s", job.address, reason)
            self._sink(IpmsgTransferFailed(*key, reason))
        else:
            self._sink(IpmsgTransferDone(*key, path, job.attachment.size))
        finally:
            with self._lock:
                sock = self._sockets.pop(job.offer, None)
            if sock is not None:
                self.workers.unwatch(sock)

    def _request(self, conn: socket.socket, job: FetchJob, mode: int, offset: int) -> None:
        request = FileRequest(job.packet_no, job.attachment.file_id, offset)
        conn.sendall(self._make_request(mode, build_file_request(request, mode == c.GETDIRFILES)))

    def _file(self, conn: socket.socket, reader: Reader, job: FetchJob) -> Path:
        size = job.attachment.size
        with self._lock:
            part = self._parts.get(job.key)  # our own earlier attempt at this very file
        if part is None or not part.is_file() or part.is_symlink():
            part = part_path(free_name(job.folder, (job.attachment.name,)))
            offset = 0
        else:
            offset = min(part.stat().st_size, size)
        with self._lock:
            self._parts[job.key] = part
            while len(self._parts) > MAX_REMEMBERED_PARTS:
                self._parts.pop(next(iter(self._parts)))
        final = part.with_name(part.name[: -len(PART_SUFFIX)])
        check_space(job.folder, size - offset)
        self._request(conn, job, c.GETFILEDATA, offset)
        with open(part, "r+b" if offset else "wb") as out:
            out.truncate(offset)
            out.seek(offset)
            progress = self._progress(job, offset)
            reader.copy_to(out, size - offset, progress)
        reader.expect_end()
        os.replace(part, final)
        with self._lock:
            self._parts.pop(job.key, None)
        return final

    def _folder(self, conn: socket.socket, reader: Reader, job: FetchJob) -> Path:
        top = free_name(job.folder, (job.attachment.name,))
        announced = job.attachment.size
        self._request(conn, job, c.GETDIRFILES, 0)
        command = c.UTF8OPT if job.utf8 else 0
        components: list[str] = []  # below `top`
        opened, entries, received = False, 0, 0
        progress = self._progress(job, 0)
        while True:
            entry = parse_dir_header(reader.header(), command, job.encoding)
            entries += 1
            if entries > MAX_ENTRIES:
                raise ValueError(f"the folder holds more than {MAX_ENTRIES} entries")
            if entry.kind == c.FILE_RETPARENT:
                if not opened:
                    raise c.IpmsgFormatError("a folder stream closes a folder it did not open")
                if not components:
                    break  # the offered folder itself is closed: the end
                components.pop()
                continue
            if not opened:
                if entry.kind != c.FILE_DIR:
                    raise c.IpmsgFormatError("a folder stream does not start with its folder")
                top.mkdir()
                opened = True
                continue
            if entry.kind == c.FILE_DIR:
                if len(components) + 2 > MAX_DEPTH:
                    raise ValueError(f"the folder is deeper than {MAX_DEPTH}")
                components.append(entry.name)
                target_path(top, tuple(components)).mkdir(exist_ok=True)
                continue
            if entry.kind != c.FILE_REGULAR:
                raise c.IpmsgFormatError(f"a folder entry of kind {entry.kind:#x} is not taken")
            before = received
            received += entry.size
            if announced and received > announced:
                raise ValueError("the folder is bigger than its offer announced")
            check_space(top, entry.size)
            final = target_path(top, (*components, entry.name))
            part = part_path(final)
            with open(part, "wb") as out:
                reader.copy_to(out, entry.size, functools.partial(_shifted, progress, before))
            os.replace(part, final)
        reader.expect_end()
        return top

    def _progress(self, job: FetchJob, before: int) -> Callable[[int], None]:
        pacer = Pacer()
        address, packet_no, file_id = job.key

        def report(done: int) -> None:
            if pacer.due():
                self._sink(
                    IpmsgTransferProgress(address, packet_no, file_id, before + done, job.attachment.size)
                )

        return report


class Reader:
    """A TCP stream read through a bounded buffer: headers, then exact byte counts."""

    def __init__(self, conn: socket.socket, stopping: Callable[[], bool]) -> None:
        self.conn = conn
        self.stopping = stopping
        self.buffer = bytearray()

    def _more(self) -> None:
        if self.stopping():
            raise Stopped
        data = self.conn.recv(CHUNK_BYTES)
        if not data and self.stopping():
            raise Stopped
        if not data:
            raise ConnectionError("the sender closed the connection early")
        self.buffer += data

    def header(self) -> bytes:
        while (size := header_length(bytes(self.buffer[:32]))) is None:
            self._more()
        while len(self.buffer) < size:
            self._more()
        header = bytes(self.buffer[:size])
        del self.buffer[:size]
        return header

    def copy_to(self, out: BinaryIO, count: int, progress: Callable[[int], None]) -> None:
        done = 0
        while done < count:
            if not self.buffer:
                self._more()
            piece = self.buffer[: count - done]
            out.write(piece)
            del self.buffer[: len(piece)]
            done += len(piece)
            progress(done)

    def expect_end(self) -> None:
        """Nothing may follow what was announced: a sender whose size lied is refused."""
        if self.buffer:
            raise ValueError("the sender sent more than it announced")
        self.conn.settimeout(EXTRA_BYTES_WAIT)
        try:
            extra = self.conn.recv(1)
        except (TimeoutError, BlockingIOError):
            return
        except OSError:
            return  # reset after the last byte: nothing more came
        if extra:
            raise ValueError("the sender sent more than it announced")


def _shifted(progress: Callable[[int], None], before: int, done: int) -> None:
    progress(before + done)


def free_name(folder: Path, components: tuple[str, ...]) -> Path:
    """Where a new file or folder of that name goes inside `folder`: its name, or ``NAME (n)``
    when it or its `.part` is taken (a `.part` is resumed only by the fetch that made it:
    IP Messenger has no hash to tell another file's bytes from this one's)."""
    final = target_path(folder, components)
    for attempt in range(MAX_NAME_ATTEMPTS):
        candidate = alternative(final, attempt)
        if not os.path.lexists(candidate) and not os.path.lexists(part_path(candidate)):
            return target_path(folder, (*components[:-1], candidate.name))
    raise ValueError("too many files of that name in the folder")


def check_space(folder: Path, needed: int) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if needed > free:
        raise ValueError("not enough free disk space")
