"""Serving our offered files to IP Messenger users: a TCP listener on the bridge's port.

An IP Messenger client fetches an offer's file by connecting to the port the offer came
from (2425) and sending one packet: GETFILEDATA ``packetNo:fileID:offset`` for a file (we
answer with its bytes from `offset`, then close), GETDIRFILES ``packetNo:fileID`` for a
folder (we answer with the folder's stream, `net.ipmsg.attachments`). A request is served
only when the `OfferBook` holds that packet number and file id and the connection comes
from the address it was offered to; anything else is closed at once, unanswered.

Bounded: a connection from an address nothing is offered to is closed on accept, and so
are those beyond `MAX_CONNECTIONS` served at once; the request (at most `MAX_REQUEST_BYTES`)
must come within `REQUEST_TIMEOUT`, then every socket has `IDLE_TIMEOUT`; a folder is at
most `MAX_ENTRIES` entries and `MAX_DEPTH` deep, links never followed. `FileServer` owns its accept thread and
the serving threads: `stop` closes the listener and asks them to end, `join` waits.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from net.files.limits import MAX_DEPTH, MAX_ENTRIES
from net.ipmsg import codec as c
from net.ipmsg.attachments import build_dir_header, parse_file_request
from net.ipmsg.events import IpmsgTransferDone, IpmsgTransferFailed, IpmsgTransferProgress
from net.ipmsg.offers import Offer, OfferBook, OfferedFile, host_of
from net.ipmsg.streams import (
    CHUNK_BYTES,
    IDLE_TIMEOUT,
    MAX_CONNECTIONS,
    REQUEST_TIMEOUT,
    Pacer,
    Stopped,
    Workers,
    read_request,
    send_all,
)
from net.wakeup import Wakeup

log = logging.getLogger(__name__)

Sink = Callable[[object], None]


class FileServer:
    """The TCP side of the bridge (see the module docstring). Start, stop, join from one owner."""

    def __init__(self, book: OfferBook, sink: Sink, clock: Callable[[], float] = time.monotonic) -> None:
        self.book = book
        self._sink = sink
        self._clock = clock
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._wakeup = Wakeup()
        self.workers = Workers("ipmsg-serve", MAX_CONNECTIONS)
        self.refused = 0  # connections closed unanswered (tests and logs)

    def start(self, host: str, port: int) -> None:
        """Listen on `host`:`port` (TCP); OSError when the port is taken."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(MAX_CONNECTIONS)
        except OSError:
            listener.close()
            raise
        listener.setblocking(False)
        self._listener = listener
        self._thread = threading.Thread(target=self._run, name="ipmsg-files", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.workers.stop()
        self._wakeup.wake()

    def join(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.workers.join(timeout)
        self._wakeup.close()

    def _run(self) -> None:
        listener = self._listener
        assert listener is not None
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ)
        selector.register(self._wakeup.reader, selectors.EVENT_READ)
        try:
            while not self.workers.stopping.is_set():
                for key, _mask in selector.select():
                    if key.fileobj is listener:
                        self._accept(listener)
                    else:
                        self._wakeup.drain()
        finally:
            selector.close()
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        try:
            conn, peer = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.debug("accept failed on the IP Messenger file port: %s", exc)
            return
        if not self.book.offered_to(str(peer[0]), self._clock()):
            self.refused += 1
            log.info("IP Messenger file connection from %s closed: nothing is offered to it", peer[0])
            conn.close()
            return
        conn.setblocking(True)
        conn.settimeout(REQUEST_TIMEOUT)
        if not self.workers.start(lambda: self._serve(conn, str(peer[0]))):
            self.refused += 1
            log.info("IP Messenger file request from %s refused: too many at once", peer[0])
            conn.close()

    # -- one connection ----------------------------------------------------------------------------

    def _serve(self, conn: socket.socket, peer_host: str) -> None:
        self.workers.watch(conn)
        try:
            self._answer(conn, peer_host)
        finally:
            self.workers.unwatch(conn)
            conn.close()

    def _answer(self, conn: socket.socket, peer_host: str) -> None:
        found = self._request(conn, peer_host)
        if found is None:
            self.refused += 1
            return
        offer, offered, mode, offset = found
        attachment = offered.attachment
        sent = 0
        try:
            if mode == c.GETFILEDATA:
                sent = self._send_file(conn, offer, offered, offset)
            else:
                sent = self._send_folder(conn, offer, offered)
        except Stopped:
            return
        except (OSError, ValueError) as exc:
            log.info("serving an IP Messenger file to %s stopped: %s", peer_host, exc)
            reason = getattr(exc, "strerror", None) or str(exc)
            self._sink(IpmsgTransferFailed(offer.address, offer.packet_no, attachment.file_id, reason, True))
            return
        self._sink(
            IpmsgTransferDone(offer.address, offer.packet_no, attachment.file_id, offered.path, sent, True)
        )

    def _request(self, conn: socket.socket, peer_host: str) -> tuple[Offer, OfferedFile, int, int] | None:
        try:
            data = read_request(conn)
            packet = c.parse_packet(data)
            if packet.mode not in (c.GETFILEDATA, c.GETDIRFILES):
                raise c.IpmsgFormatError(f"{packet.mode_name} is not a file request")
            request = parse_file_request(packet.extra)
        except (OSError, c.IpmsgFormatError) as exc:
            log.info("a bad file request from %s: %s", peer_host, exc)
            return None
        conn.settimeout(IDLE_TIMEOUT)
        found = self.book.find(request.packet_no, request.file_id, peer_host, self._clock())
        if found is None:
            log.info("a file request from %s for something not offered to it", peer_host)
            return None
        offer, offered = found
        wants_folder = packet.mode == c.GETDIRFILES
        if wants_folder != offered.attachment.is_dir or request.offset > offered.attachment.size:
            log.info("a file request from %s does not match what was offered", peer_host)
            return None
        if host_of(offer.address) != peer_host:
            return None
        return offer, offered, packet.mode, request.offset

    def _send_file(self, conn: socket.socket, offer: Offer, offered: OfferedFile, offset: int) -> int:
        size = offered.attachment.size
        with open(offered.path, "rb") as file:
            if os.fstat(file.fileno()).st_size != size:
                raise ValueError("the file changed since it was offered")
            file.seek(offset)
            return offset + self._copy(conn, file, size - offset, offer, offered, offset)

    def _copy(self, conn: socket.socket, file: BinaryIO, count: int, offer: Offer, offered: OfferedFile,
              before: int) -> int:  # fmt: skip
        read = file.read
        pacer, moved = Pacer(), 0
        stopping = self.workers.stopping.is_set
        while moved < count:
            data = read(min(CHUNK_BYTES, count - moved))
            if not data:
                raise ValueError("the file got shorter while it was sent")
            send_all(conn, data, stopping)
            moved += len(data)
            if pacer.due():
                done = before + moved
                total = offered.attachment.size
                self._sink(IpmsgTransferProgress(offer.address, offer.packet_no, offered.attachment.file_id,
                                                 done, total, True))  # fmt: skip
        return moved

    def _send_folder(self, conn: socket.socket, offer: Offer, offered: OfferedFile) -> int:
        sent = 0
        stopping = self.workers.stopping.is_set
        for path, name, kind, size, mtime in walk(offered.path):
            header = build_dir_header(name, size, kind, mtime, offer.encoding)
            send_all(conn, header, stopping)
            if kind == c.FILE_REGULAR:
                with open(path, "rb") as file:
                    if os.fstat(file.fileno()).st_size != size:
                        raise ValueError(f"{name} changed while the folder was sent")
                    sent += self._copy(conn, file, size, offer, offered, sent)
        return sent


def walk(top: Path) -> Iterator[tuple[Path, str, int, int, int]]:
    """A folder's stream, in order: (path, name, kind, size, mtime) for the folder itself,
    everything inside it (files, then subfolders, each closed by a RETPARENT), and the final
    RETPARENT. Links and special files are left out; ValueError beyond the bounds."""
    count = 0

    def visit(path: Path, depth: int) -> Iterator[tuple[Path, str, int, int, int]]:
        nonlocal count
        info = os.lstat(path)
        yield path, path.name, c.FILE_DIR, 0, int(info.st_mtime)
        with os.scandir(path) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
        for entry in entries:
            count += 1
            if count > MAX_ENTRIES:
                raise ValueError(f"the folder holds more than {MAX_ENTRIES} entries")
            child = os.lstat(entry.path)
            if stat.S_ISREG(child.st_mode):
                yield Path(entry.path), entry.name, c.FILE_REGULAR, child.st_size, int(child.st_mtime)
            elif stat.S_ISDIR(child.st_mode):
                if depth + 1 >= MAX_DEPTH:
                    raise ValueError(f"the folder is deeper than {MAX_DEPTH}")
                yield from visit(Path(entry.path), depth + 1)
        yield path, ".", c.FILE_RETPARENT, 0, int(info.st_mtime)

    yield from visit(top, 0)
