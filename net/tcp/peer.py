"""One accepted connection: its socket, its protocol state and what is queued for it.

Only the router thread touches a `Peer` after the accept thread has handed it over, so
nothing here is locked. `decode` turns received bytes into events through the sans-I/O
`Connection` (or `TextConnection` for a person typing into `nc`, chosen from the first
bytes).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from net.protocol import Connection, RemoteProtocolError, Role
from net.protocol import events as ev
from net.protocol.connection import ConnectionClosed, ConnectionState
from net.protocol.textmode import TextConnection, looks_like_protocol

#: Leading whitespace tolerated before deciding between the protocol and plain text.
_MAX_UNDECIDED_BYTES = 1024

Entry = ev.Event | RemoteProtocolError


class Peer:
    """State of one connection, owned by the router thread."""

    def __init__(self, sock: socket.socket, address: str) -> None:
        self.sock = sock
        self.address = address
        self.conn: Connection | TextConnection | None = None  # made from the first bytes
        self.is_text = False
        self.opened = time.monotonic()
        self.last_heard = self.opened
        self.outbound = bytearray()
        self.interest = 0  # the selector events registered for `sock` (0 = not registered)
        self.watching_writes = False  # output is waiting for the socket to take more
        self.read_done = False  # end of stream or a read error: nothing more to read
        self.closing = False
        self.close_deadline = 0.0
        self.write_shut = False
        self.closed = False
        self.errors = 0
        self.joined = False  # was welcomed into the room at some point
        self._undecided = bytearray()
        self.discarding = False  # input after a fatal error or the end is read and dropped

    def __repr__(self) -> str:
        return f"<Peer {self.address}>"

    def encode(self, event: ev.Event) -> bytes:
        """`event` in this peer's dialect, advancing its connection state."""
        if self.conn is None:
            return b""
        return self.conn.send(event)

    def protocol_open(self) -> bool:
        """True when this is a protocol (JSON) connection past its handshake and not closed."""
        conn = self.conn
        return type(conn) is Connection and conn.state is ConnectionState.OPEN

    def encode_error(self, error: RemoteProtocolError) -> bytes:
        if self.conn is None:
            return b""
        return self.conn.send_error(error)

    def decode(self, data: bytes) -> list[Entry]:
        """The events (and refused input) in `data`, in order; `b""` is the end of stream."""
        if self.discarding:
            return []
        if self.conn is None:
            if not data:
                return [ConnectionClosed()]
            self._undecided += data
            dialect = looks_like_protocol(bytes(self._undecided[:_MAX_UNDECIDED_BYTES]))
            if dialect is None and len(self._undecided) < _MAX_UNDECIDED_BYTES:
                return []
            data, self._undecided = bytes(self._undecided), bytearray()
            self.is_text = not dialect
            self.conn = Connection(Role.HOST) if dialect else TextConnection()
        conn = self.conn
        try:
            conn.receive_data(data)
        except RemoteProtocolError as exc:
            self.discarding = True
            return [exc]
        entries: list[Entry] = []
        while True:
            try:
                events = conn.events()  # up to the next refused frame, raised by the next call
            except RemoteProtocolError as exc:
                entries.append(exc)
                if exc.fatal:
                    self.discarding = True
                    break
                continue
            if not events:
                break
            entries += events
            if isinstance(events[-1], ConnectionClosed):
                self.discarding = True
                break
        return entries


@dataclass(frozen=True, slots=True)
class PeerOpened:
    """Work item from the accept thread: serve this new connection."""

    peer: Peer
