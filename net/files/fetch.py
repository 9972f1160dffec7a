"""The receiving shell: fetch one granted offer over TLS into a folder, resumably.

`Fetch` connects to the sender's transfer port, checks that the certificate is the one the
offer named (the offer came over the encrypted chat, so this is the sender and nobody
else), presents the one-time token, reads and checks the manifest, says from where each
file is wanted (resume), and writes what streams in through a `Receiver`. It runs on the
caller's thread (`run`); `cancel` from any other thread cuts it short, `.part` files kept.
"""

from __future__ import annotations

import dataclasses
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from net.files.limits import (
    MAX_ENTRIES,
    PROGRESS_INTERVAL,
    TRANSFER_IDLE_TIMEOUT,
    TRANSFER_VERSION,
)
from net.files.manifest import Entry, Manifest, ManifestError, entry_from_wire
from net.files.names import UnsafeName
from net.files.pipeline import pump
from net.files.receiver import ReceiveError, Receiver
from net.files.relay_leg import RelayRoute, ticket_record
from net.files.server import try_send_error
from net.files.sockets import reset_on_close, shut_down
from net.files.stream import (
    DONE,
    ENTRY,
    FILE,
    MANIFEST_END,
    REQUEST,
    WANTED,
    Data,
    FileEnd,
    Record,
    StreamDecoder,
    StreamError,
    encode_record,
)
from net.secure.codes import fingerprint_of
from net.secure.tls import client_context


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a receiver needs to fetch an offer: where, whose key, which offer, its token."""

    address: str
    port: int
    fingerprint: bytes
    offer: str
    member: str
    token: str
    relay: RelayRoute | None = None  # set: through the host's relay, not to address:port


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a fetch is: bytes of the offer present (resumed ones included) of `total`,
    bytes received over this connection, and the speed over it (bytes a second)."""

    offer: str
    done: int
    total: int
    received: int
    speed: float
    files_done: int
    files: int


@dataclass(frozen=True, slots=True)
class FetchResult:
    files: list[Path]  # received whole and named (this fetch)
    received: int  # file bytes that came over the wire
    resumed: int  # bytes that were already there in `.part` files
    already_there: int  # files found complete before anything was sent
    entries: tuple[Entry, ...] = ()  # the offer's manifest


class FetchError(Exception):
    """The fetch failed; `code` says why (docs/PROTOCOL.md), `text` says it to the user."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


class Fetch:
    """One fetch of one offer (see the module docstring)."""

    def __init__(
        self,
        ticket: Ticket,
        folder: Path,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        timeout: float = TRANSFER_IDLE_TIMEOUT,
        max_entries: int = MAX_ENTRIES,
        progress_interval: float = PROGRESS_INTERVAL,
        max_total: int | None = None,
    ) -> None:
        self.ticket = ticket
        self.route = "host" if ticket.relay else "direct"  # how the bytes come
        self.folder = Path(folder)
        self._on_progress = on_progress
        self._timeout = timeout
        self._max_entries = max_entries
        self._progress_interval = progress_interval
        self._max_total = max_total  # set: refuse an offer of more bytes (`too_big`)
        self._receiver: Receiver | None = None
        self._cancelled = threading.Event()
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop the fetch from another thread (what arrived stays in `.part` files)."""
        self._cancelled.set()
        with self._lock:
            if self._sock is not None:
                shut_down(self._sock)

    def run(self) -> FetchResult:
        """Fetch everything (raises FetchError with a code and a sentence when it cannot)."""
        ticket = self.ticket
        route = ticket.relay
        where = (route.address, route.port) if route else (ticket.address, ticket.port)
        try:
            raw = socket.create_connection(where, timeout=self._timeout)
        except OSError as exc:
            whom = "the host's relay" if route else "the sender"
            raise FetchError(
                "unreachable",
                f"cannot reach {whom} at {where[0]} port {where[1]}: "
                f"{exc.strerror or exc} (a firewall may block it)",
            ) from None
        return self._guarded(raw, lambda: self._connected(raw))

    def run_on(self, tls: ssl.SSLSocket) -> FetchResult:
        """Fetch over a TLS stream already open and checked (the host's cache taking an
        upload on a leg the sender opened); the stream is closed at the end."""
        return self._guarded(tls, lambda: self._exchange(tls))

    def _guarded(self, sock: socket.socket, talk: Callable[[], FetchResult]) -> FetchResult:
        """Run `talk`, turning every failure into a FetchError; closes the socket."""
        with self._lock:
            self._sock = sock
        try:
            if self._cancelled.is_set():
                raise FetchError("cancelled", "cancelled")
            return talk()
        except ReceiveError as exc:
            raise FetchError(exc.code, exc.text) from None
        except StreamError as exc:
            if self._cancelled.is_set():
                raise FetchError("cancelled", "the transfer was cancelled; it resumes from here") from None
            raise FetchError(exc.code, exc.text) from None
        except (OSError, ssl.SSLError) as exc:
            if self._cancelled.is_set():
                raise FetchError("cancelled", "the transfer was cancelled; it resumes from here") from None
            raise FetchError("lost", f"the transfer was interrupted ({exc}); it resumes from here") from None
        finally:
            if self._receiver is not None:
                self._receiver.abort()
            with self._lock:
                sock, self._sock = self._sock or sock, None
            if self._cancelled.is_set():
                reset_on_close(sock)  # the sender's blocked send fails now (not when it times out)
            sock.close()

    def _connected(self, raw: socket.socket) -> FetchResult:
        ticket, route = self.ticket, self.ticket.relay
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tls = client_context().wrap_socket(raw, do_handshake_on_connect=False)
        with self._lock:
            self._sock = tls
        if self._cancelled.is_set():
            raise FetchError("cancelled", "cancelled")
        tls.do_handshake()
        der = tls.getpeercert(binary_form=True)
        if der is None or fingerprint_of(der) != (route.key if route else ticket.fingerprint):
            raise FetchError(
                "key_mismatch",
                f"{'the relay' if route else 'the sender'}'s key is not the one the chat named; "
                "nothing was fetched",
            )
        if route is not None:
            tls.sendall(ticket_record(route))
        return self._exchange(tls)

    def _exchange(self, tls: ssl.SSLSocket) -> FetchResult:
        """The stream from the request on: manifest, wanted list, files."""
        ticket = self.ticket
        request = {
            "v": TRANSFER_VERSION,
            "offer": ticket.offer,
            "member": ticket.member,
            "token": ticket.token,
        }
        tls.sendall(encode_record(REQUEST, request))
        decoder = StreamDecoder()
        entries = self._read_manifest(tls, decoder)
        manifest = Manifest(entries)
        if self._max_total is not None and manifest.total > self._max_total:
            text = f"the offer holds {manifest.total:,} bytes, more than the {self._max_total:,} agreed"
            try_send_error(tls, "too_big", text)  # the sender learns why
            raise FetchError("too_big", text)
        self._receiver = Receiver(self.folder, entries)
        wanted = self._receiver.plan()
        tls.sendall(encode_record(WANTED, {"want": [list(pair) for pair in wanted]}))
        result = self._receive(tls, decoder, self._receiver, manifest)
        return dataclasses.replace(result, entries=tuple(entries))

    def _read_manifest(self, tls: ssl.SSLSocket, decoder: StreamDecoder) -> list[Entry]:
        entries: list[Entry] = []
        while True:
            for event in decoder.feed(_recv(tls, 256 * 1024)):
                if not isinstance(event, Record):
                    raise StreamError("bad_stream", "file bytes before the manifest")
                if event.kind == ENTRY:
                    if len(entries) >= self._max_entries:
                        raise FetchError("too_many", f"the offer holds more than {self._max_entries} entries")
                    try:
                        entries.append(entry_from_wire(event.body))
                    except (UnsafeName, ManifestError) as exc:
                        raise FetchError("unsafe_name", f"refused: {exc}") from None
                elif event.kind == MANIFEST_END:
                    if event.body.get("count") != len(entries):
                        raise StreamError("bad_stream", "the manifest's count does not match its entries")
                    try:
                        Manifest(entries).check(self._max_entries)
                    except ManifestError as exc:
                        raise FetchError("unsafe_name", f"refused: {exc}") from None
                    return entries
                else:
                    raise StreamError(
                        "bad_stream", f"unexpected {event.kind.decode()} record in the manifest"
                    )

    def _receive(
        self, tls: ssl.SSLSocket, decoder: StreamDecoder, receiver: Receiver, manifest: Manifest
    ) -> FetchResult:
        """Stream the wanted files in (`net.files.pipeline`: reads on this thread, writes
        and hashes on another, in large blocks)."""
        total = manifest.total
        already = sum(e.size for e in manifest.entries if not e.is_dir) - receiver.missing_bytes()
        tally = [0, receiver.already_there]  # bytes received, files done
        started = time.monotonic()
        last_report = [started]

        def consume(view: memoryview) -> bool:
            for event in decoder.feed(view):
                if type(event) is Data:
                    receiver.write(event.data)
                    tally[0] += len(event.data)
                elif type(event) is FileEnd:
                    receiver.end()
                    tally[1] += 1
                elif isinstance(event, Record) and event.kind == FILE:
                    body = event.body
                    index, offset = body.get("i"), body.get("offset")
                    if type(index) is not int or type(offset) is not int:
                        raise StreamError("bad_record", "a file record without its index and offset")
                    receiver.begin(index, offset, int(body["length"]))
                elif isinstance(event, Record) and event.kind == DONE:
                    receiver.finish()
                    return True
                else:
                    raise StreamError("bad_stream", "unexpected record while receiving files")
            now = time.monotonic()
            if now - last_report[0] >= self._progress_interval:
                last_report[0] = now
                self._report(tally[0], already + tally[0], total, started, tally[1], manifest)
            return False

        pump(tls, consume, self._cancelled)
        self._report(tally[0], already + tally[0], total, started, tally[1], manifest)
        return FetchResult(list(receiver.done), tally[0], already, receiver.already_there)

    def _report(
        self, received: int, done: int, total: int, started: float, files_done: int, manifest: Manifest
    ) -> None:
        if self._on_progress is None:
            return
        elapsed = max(time.monotonic() - started, 1e-6)
        self._on_progress(
            Progress(self.ticket.offer, done, total, received, received / elapsed, files_done, manifest.files)
        )


def _recv(tls: ssl.SSLSocket, size: int) -> bytes:
    data = tls.recv(size)
    if not data:
        raise StreamError("lost", "the sender closed the stream")
    return data
