"""The sender's transfer server: a TLS port that serves offered files to granted members.

One owned accept thread and one thread per transfer connection (at most
MAX_TRANSFER_CONNECTIONS; more are closed at once). Each connection does its TLS
handshake in its own thread with a timeout (never inside accept), redeems its one-time
token, sends the manifest, reads what is wanted and streams it with large `sendall`s
(TLS rules out `sendfile`). `stop()` closes the port, shuts every connection down and
joins every thread.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from net.files.limits import CACHE_MEMBER, MAX_TRANSFER_CONNECTIONS, TRANSFER_IDLE_TIMEOUT, TRANSFER_VERSION
from net.files.manifest import Entry
from net.files.relay_leg import RelayKeyMismatch, RelayRoute, connect, open_leg
from net.files.sender import SendError, stream_files, wanted_from
from net.files.sockets import lower_priority, shut_down
from net.files.stream import (
    DONE,
    ENTRY,
    ERROR,
    MANIFEST_END,
    REQUEST,
    WANTED,
    Record,
    StreamDecoder,
    StreamError,
    encode_record,
)
from net.files.tokens import Grants, TokenRefused
from net.secure.identity import Identity
from net.secure.tls import server_context
from net.tcp.listener import open_listener

log = logging.getLogger(__name__)

#: Largest request record (the first one, before the token is checked).
MAX_REQUEST_BYTES = 4096
#: Manifest records are sent in batches of about this many bytes.
_BATCH_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Served:
    """One transfer connection ended: to whom, what it sent, and the error if it failed."""

    offer: str
    member: str
    sent: int  # file bytes sent (headers excluded)
    error: str | None = None
    route: str = "direct"  # "host": through the host's relay


class TransferServer:
    """Serves this member's offers to the members it granted (see the module docstring)."""

    def __init__(
        self,
        identity: Identity,
        *,
        bind: str = "",
        port: int = 0,
        max_connections: int = MAX_TRANSFER_CONNECTIONS,
        idle_timeout: float = TRANSFER_IDLE_TIMEOUT,
        on_served: Callable[[Served], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.identity = identity
        self._context = server_context(identity)
        self._listener = open_listener(bind, port)
        self.port: int = self._listener.getsockname()[1]
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self._on_served = on_served
        self._clock = clock
        self._lock = threading.Lock()
        self._offers: dict[str, list[Entry]] = {}
        self._grants = Grants()
        self._connections: dict[threading.Thread, socket.socket | None] = {}
        self._stopping = threading.Event()
        self._accepter = threading.Thread(
            target=self._accept_loop, name=f"transfers :{self.port}", daemon=True
        )
        self.bytes_sent = 0  # file bytes sent since start (all connections)

    @property
    def fingerprint(self) -> bytes:
        return self.identity.fingerprint

    # -- offers and grants (any thread) -----------------------------------------------------

    def add_offer(self, offer: str, entries: list[Entry]) -> None:
        with self._lock:
            self._offers[offer] = entries

    def remove_offer(self, offer: str) -> None:
        with self._lock:
            self._offers.pop(offer, None)
            self._grants.withdraw(offer)

    def grant(self, offer: str, member: str) -> str:
        """A one-time token for `member` to fetch `offer` (KeyError: no such offer)."""
        with self._lock:
            if offer not in self._offers:
                raise KeyError(offer)
            return self._grants.grant(offer, member, self._clock())

    # -- life -----------------------------------------------------------------------------

    def start(self) -> None:
        self._accepter.start()

    def stop(self) -> None:
        """Close the port, cut every transfer (receivers keep their `.part` files), join."""
        self._stopping.set()
        shut_down(self._listener)
        with self._lock:
            connections = list(self._connections.items())
        for _thread, sock in connections:
            if sock is not None:
                shut_down(sock)
        if self._accepter.is_alive():
            self._accepter.join(timeout=5.0)
        for thread, _sock in connections:
            if thread.ident is not None:
                thread.join(timeout=5.0)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, address = self._listener.accept()
            except OSError:
                if self._stopping.is_set():
                    return
                time.sleep(0.05)  # out of descriptors or the like: do not spin
                continue
            with self._lock:
                if len(self._connections) >= self.max_connections or self._stopping.is_set():
                    sock.close()
                    log.info(
                        "transfer connection from %s refused: %d already running",
                        address[0],
                        len(self._connections),
                    )
                    continue
                thread = threading.Thread(target=self._serve, args=(sock, address), daemon=True)
                thread.name = f"transfer {address[0]}"
                self._connections[thread] = None  # counted now; its socket is registered once wrapped
            thread.start()

    def serve_relayed(self, route: RelayRoute, member: str, offer: str) -> bool:
        """Serve one fetch through the host's relay: connect out to it (a firewall that
        refuses connections to our port lets us out) and serve the leg like a connection
        to our port: the receiver's own token still decides. False when too busy."""
        with self._lock:
            if len(self._connections) >= self.max_connections or self._stopping.is_set():
                return False
            thread = threading.Thread(
                target=self._serve_relayed, args=(route, member, offer), name="transfer relayed", daemon=True
            )
            self._connections[thread] = None
        thread.start()
        return True

    def _serve_relayed(self, route: RelayRoute, member: str, offer: str) -> None:
        def register(sock: socket.socket) -> None:
            with self._lock:
                self._connections[threading.current_thread()] = sock
            if self._stopping.is_set():
                shut_down(sock)

        try:
            raw = connect(route, self.idle_timeout)
            register(raw)
            tls = open_leg(route, raw, register)
        except (OSError, ssl.SSLError, RelayKeyMismatch) as exc:
            with self._lock:
                self._connections.pop(threading.current_thread(), None)
            log.info("relayed transfer of %s to %s: cannot reach the relay: %s", offer, member, exc)
            self._report(Served(offer, member, 0, f"unreachable: {exc}", _route_of(member)))
            return
        self._serve(tls, (route.address, route.port), route=_route_of(member))

    # -- one connection (its own thread) ----------------------------------------------------

    def _serve(self, sock: socket.socket, address: Any, route: str = "direct") -> None:
        lower_priority()
        offer = member = "?"
        sent = 0
        counted = [0]  # file bytes sent so far (also when the stream fails midway)
        error: str | None = None
        tls: ssl.SSLSocket | None = sock if isinstance(sock, ssl.SSLSocket) else None
        try:
            sock.settimeout(self.idle_timeout)
            if tls is None:  # a connection to our port (a relayed leg comes with its TLS done)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                tls = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                with self._lock:  # from here `stop` shuts this socket (the raw one is detached)
                    self._connections[threading.current_thread()] = tls
                if self._stopping.is_set():
                    return
                tls.do_handshake()
            offer, member, entries = self._authorize(tls)
            sent = send_entries(tls, entries, counted)
        except (SendError, StreamError) as exc:
            error = f"{exc.code}: {exc.text}"
            if tls is not None:
                try_send_error(tls, exc.code, exc.text)
        except (OSError, ssl.SSLError) as exc:
            error = f"connection: {exc}"
        finally:
            sent = counted[0]
            with self._lock:
                self.bytes_sent += sent
                self._connections.pop(threading.current_thread(), None)
            (tls or sock).close()
        log.info(
            "transfer of %s to %s from %s (%s) ended: %d bytes sent%s",
            offer,
            member,
            address[0],
            route,
            sent,
            f" ({error})" if error else "",
        )
        self._report(Served(offer, member, sent, error, route))

    def _report(self, served: Served) -> None:
        if self._on_served is not None:
            try:
                self._on_served(served)
            except Exception:
                log.exception("transfer report handler failed")

    def _authorize(self, tls: ssl.SSLSocket) -> tuple[str, str, list[Entry]]:
        body = _read_record(tls, StreamDecoder(max_record=MAX_REQUEST_BYTES), REQUEST).body
        offer, member, token = body.get("offer"), body.get("member"), body.get("token")
        if body.get("v") != TRANSFER_VERSION:
            raise SendError("version_mismatch", f"this sender speaks transfer version {TRANSFER_VERSION}")
        if not all(isinstance(value, str) for value in (offer, member, token)):
            raise SendError("bad_request", "the request needs an offer, a member and a token")
        assert isinstance(offer, str) and isinstance(member, str) and isinstance(token, str)
        with self._lock:
            try:
                self._grants.redeem(token, offer, member, self._clock())
            except TokenRefused as exc:
                raise SendError("refused", f"not allowed to fetch this offer ({exc})") from None
            entries = self._offers.get(offer)
        if entries is None:
            raise SendError("refused", "the offer was withdrawn")
        return offer, member, entries


def _read_record(tls: ssl.SSLSocket, decoder: StreamDecoder, kind: bytes) -> Record:
    """The next record, which must be of `kind` (the receiver sends nothing else)."""
    while True:
        data = tls.recv(64 * 1024)
        if not data:
            raise StreamError("closed", "the receiver closed the stream")
        events = decoder.feed(data)
        if events:
            first = events[0]
            if len(events) > 1 or not isinstance(first, Record) or first.kind != kind:
                raise StreamError("bad_stream", f"expected a {kind.decode()} record")
            return first


def _send_manifest(tls: ssl.SSLSocket, entries: list[Entry]) -> None:
    batch = bytearray()
    for entry in entries:
        batch += encode_record(ENTRY, entry.to_wire())
        if len(batch) >= _BATCH_BYTES:
            tls.sendall(batch)
            batch.clear()
    total = sum(entry.size for entry in entries)
    batch += encode_record(MANIFEST_END, {"count": len(entries), "total": total})
    tls.sendall(batch)


def _route_of(member: str) -> str:
    """The route a leg to the host serves: an upload to its copy, or a relayed fetch."""
    return "cache" if member == CACHE_MEMBER else "host"


def send_entries(tls: ssl.SSLSocket, entries: list[Entry], counted: list[int] | None = None) -> int:
    """Serve `entries` to a receiver whose request was granted: the manifest, its wanted
    list, the files, the end. Returns the file bytes sent (`counted[0]` follows them, for
    a caller that wants the count when this raises SendError, StreamError or OSError)."""
    counted = counted if counted is not None else [0]
    _send_manifest(tls, entries)
    wanted = wanted_from(entries, _read_record(tls, StreamDecoder(), WANTED).body)
    for piece in stream_files(entries, wanted):
        tls.sendall(piece)
        if not isinstance(piece, bytes):
            counted[0] += len(piece)
    tls.sendall(encode_record(DONE, {}))
    return counted[0]


def try_send_error(tls: ssl.SSLSocket, code: str, text: str) -> None:
    """Tell the receiver why (best effort: the connection may be gone)."""
    try:
        tls.sendall(encode_record(ERROR, {"code": code, "text": text[:300]}))
    except (OSError, ValueError):
        pass
