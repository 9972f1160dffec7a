"""One accepted connection: its state, and the reader thread that turns bytes into events.

Each connection has two socket objects on one TCP connection (`socket.dup`): the reader
thread owns `read_sock` and the router thread owns `write_sock`. Each thread closes only
its own, so no thread ever closes a descriptor another one may be using; to wake a reader
the router calls `shutdown()`, which acts on the connection, not on a descriptor.

The reader only splits and decodes complete frames (through the sans-I/O `Connection`, or
`TextConnection` for a person typing into `nc`) and hands each batch to the router.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass

from net.protocol import Connection, NeedData, RemoteProtocolError, Role
from net.protocol import events as ev
from net.protocol.connection import ConnectionClosed, ConnectionState
from net.protocol.textmode import TextConnection, looks_like_protocol
from net.tcp.inbox import Inbox

log = logging.getLogger(__name__)

#: How often a blocked reader wakes to see whether the router has finished (its
#: shutdown() normally wakes the reader at once; this is the backstop).
READ_POLL_SECONDS = 1.0
#: Leading whitespace tolerated before deciding between the protocol and plain text.
_MAX_UNDECIDED_BYTES = 1024

Entry = ev.Event | RemoteProtocolError


class Peer:
    """State of one connection. Fields are written by the thread named in the comment."""

    def __init__(self, write_sock: socket.socket, read_sock: socket.socket, address: str) -> None:
        self.address = address
        self.write_sock = write_sock  # router: writes, shuts down, closes
        self.read_sock = read_sock  # reader: reads, closes
        self.lock = threading.Lock()  # guards `conn`, which both threads use
        self.conn: Connection | TextConnection | None = None  # reader creates it
        self.is_text = False  # reader, before the first batch
        self.opened = time.monotonic()
        self.last_heard = self.opened  # reader
        self.pending_in = 0  # inbox lock
        self.paused = False  # inbox lock: the reader waits for the router to catch up
        # Router only:
        self.outbound = bytearray()
        self.watching_writes = False
        self.closing = False  # read by the reader: stop handing events over
        self.close_deadline = 0.0
        self.write_shut = False
        self.write_closed = False
        self.reader_done = False
        self.errors = 0
        self.joined = False  # was welcomed into the room at some point

    def __repr__(self) -> str:
        return f"<Peer {self.address}>"

    def encode(self, event: ev.Event) -> bytes:
        """`event` in this peer's dialect, advancing its connection state (router thread)."""
        with self.lock:
            if self.conn is None:
                return b""
            return self.conn.send(event)

    def protocol_open(self) -> bool:
        """True when this is a protocol (JSON) connection past its handshake and not closed."""
        conn = self.conn
        return type(conn) is Connection and conn.state is ConnectionState.OPEN

    def encode_error(self, error: RemoteProtocolError) -> bytes:
        with self.lock:
            if self.conn is None:
                return b""
            return self.conn.send_error(error)


@dataclass(frozen=True, slots=True)
class PeerOpened:
    peer: Peer


@dataclass(frozen=True, slots=True)
class Received:
    """Events (and refused input) decoded from `size` received bytes, in order."""

    peer: Peer
    entries: list[Entry]
    size: int


@dataclass(frozen=True, slots=True)
class ReaderDone:
    """The reader has stopped and closed its socket; `reason` says why."""

    peer: Peer
    reason: str


class Reader:
    """The body of one reader thread."""

    def __init__(self, peer: Peer, inbox: Inbox, stopping: threading.Event, recv_size: int) -> None:
        self.peer = peer
        self._inbox = inbox
        self._stopping = stopping
        self._recv_size = recv_size
        self._undecided = bytearray()
        self._discarding = False

    def run(self) -> None:
        """Read until the connection ends: the peer's end of stream, an error, or the router's
        `shutdown()`. Also while the host stops and while the router closes this peer: what
        arrives then is read and dropped, because closing a socket with unread input makes
        the kernel reset the connection, which can destroy the bye before the peer reads it.
        """
        peer, reason = self.peer, "connection closed"
        try:
            peer.read_sock.settimeout(READ_POLL_SECONDS)
            while True:
                if not peer.closing and self._inbox.wait_for_space(peer, self._stopping.is_set):
                    # What it sent meanwhile waits unread in the kernel: the peer is not silent.
                    peer.last_heard = time.monotonic()
                try:
                    data = peer.read_sock.recv(self._recv_size)
                except TimeoutError:
                    if self._inbox.sealed:
                        reason = "host stopped"  # backstop: the router finished without us
                        break
                    continue
                except OSError as exc:
                    reason = f"connection lost ({exc.strerror or type(exc).__name__})"
                    break
                peer.last_heard = time.monotonic()
                if not data:
                    self._hand_over(b"")
                    break
                self._hand_over(data)
        except Exception:
            log.exception("reader for %s failed", peer.address)
            reason = "internal error"
        finally:
            peer.read_sock.close()
            self._inbox.put(ReaderDone(peer, reason))

    def _hand_over(self, data: bytes) -> None:
        if self.peer.closing or self._discarding:
            return  # the router is closing this peer: drain the socket, decode nothing
        entries = self._decode(data)
        if entries:
            self._inbox.put(Received(self.peer, entries, len(data)), owner=self.peer, size=len(data))

    def _decode(self, data: bytes) -> list[Entry]:
        peer = self.peer
        if peer.conn is None:
            if not data:
                return [ConnectionClosed()]
            self._undecided += data
            dialect = looks_like_protocol(bytes(self._undecided[:_MAX_UNDECIDED_BYTES]))
            if dialect is None and len(self._undecided) < _MAX_UNDECIDED_BYTES:
                return []
            data, self._undecided = bytes(self._undecided), bytearray()
            with peer.lock:
                peer.is_text = not dialect
                peer.conn = Connection(Role.HOST) if dialect else TextConnection()
        entries: list[Entry] = []
        with peer.lock:
            conn = peer.conn
            try:
                conn.receive_data(data)
            except RemoteProtocolError as exc:
                self._discarding = True
                return [exc]
            while True:
                try:
                    event = conn.next_event()
                except RemoteProtocolError as exc:
                    entries.append(exc)
                    if exc.fatal:
                        self._discarding = True
                        break
                    continue
                if isinstance(event, NeedData):
                    break
                entries.append(event)
                if isinstance(event, ConnectionClosed):
                    self._discarding = True
                    break
        return entries
