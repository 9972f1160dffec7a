"""One connection as the room driver sees it, whatever transport carries it.

The TCP and UDP shells subclass `HostPeer` with what only they need (a socket and its
buffers; a UDP channel); everything the room driver reads or sets lives here once. A
peer object is also the `Room`'s id for the member it carries.

Decoding runs in up to three stages, each decided by the first bytes of its input:
TLS or not (a TLS handshake record opens with 0x16; plain text is refused unless the host
allows it), then, inside, the JSON protocol or a person typing (``{`` or anything else;
the text dialect only where the transport allows it), then the connection's frames.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import ClassVar

from net.addresses import SockAddr, format_sockaddr
from net.protocol import Connection, RemoteProtocolError, Role
from net.protocol import events as ev
from net.protocol.connection import ConnectionClosed, ConnectionState
from net.protocol.textmode import TextConnection, looks_like_protocol
from net.secure.tls import TlsError, TlsSession, looks_like_tls

#: Leading whitespace tolerated before deciding between the dialects.
MAX_UNDECIDED_BYTES = 1024


class PlaintextRefused(ev.Event):
    """Pseudo-event (never on the wire): the peer spoke unencrypted to a host that does not
    serve plain text. The driver answers with a refusal in the peer's dialect and closes."""

    TYPE = "<plaintext refused>"

    def __repr__(self) -> str:
        return "PlaintextRefused()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlaintextRefused)

    def __hash__(self) -> int:
        return hash(PlaintextRefused)


#: What `HostPeer.decode` yields: events in order, with refused input as error values.
Entry = ev.Event | RemoteProtocolError


@dataclass(frozen=True, slots=True)
class Security:
    """How a host meets its peers: TLS with `context` (None: it has no identity), and
    whether unencrypted peers are served too."""

    context: ssl.SSLContext | None = None
    allow_plaintext: bool = False

    @property
    def serves_plaintext(self) -> bool:
        return self.context is None or self.allow_plaintext


PLAINTEXT_ONLY = Security()


class HostPeer:
    """State of one connection, owned by its transport's service thread (never locked)."""

    #: True when the transport has proved the peer receives at `address` (a TCP handshake
    #: did). What an unproven address does is logged quietly: it may be forged.
    address_verified = True
    #: Whether a person typing (`nc`) may use this transport (a byte stream: TCP).
    allows_text: ClassVar[bool] = False

    def __init__(self, address: SockAddr, now: float, security: Security = PLAINTEXT_ONLY) -> None:
        self.address = address  # the socket address (a tuple, as `accept`/`recvfrom` give it)
        self.where = format_sockaddr(address)  # the same for people and logs
        self.security = security
        self.tls: TlsSession | None = None  # made when the peer opens with a TLS handshake
        self.conn: Connection | TextConnection | None = None  # made once the dialect is known
        self.is_text = False  # a person typing into `nc`: no pings, lines instead of frames
        self.opened = now
        self.last_heard = now
        self.closing = False
        self.close_deadline = 0.0
        self.errors = 0
        self.joined = False  # was welcomed into the room at some point
        self.greeted = False  # a silent connection was shown the nickname prompt (or refused)
        self.discarding = False  # input after a fatal error or the end is read and dropped
        self._raw_decided = False
        self._undecided = bytearray()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.where}>"

    @property
    def encrypted(self) -> bool:
        return self.tls is not None

    @property
    def link_failed(self) -> bool:
        """True when nothing can be delivered any more (a close cannot wait for a flush)."""
        return False

    def awaits_greeting(self) -> bool:
        """True while this may be a person at `nc` who waits to be asked for a nickname: text
        is served on this transport, nothing but whitespace came yet, and it was not greeted
        yet. The driver greets it after a silence. Never inside TLS: a program that does TLS
        may take a while between its handshake and its first frame (asyncio's does), and
        `ncat --ssl` or `openssl s_client` users know what they connected to."""
        return not (self.greeted or self.closing or self._raw_decided) and self.allows_text

    def refuse_in_text(self) -> None:
        """Serve this undecided connection as a person typing, refused: what it sends from
        now on is dropped (it is told why and closed)."""
        self.conn = TextConnection()
        self.is_text = self._raw_decided = self.discarding = True

    def protocol_open(self) -> bool:
        """True when this is a protocol (JSON) connection past its handshake and not closed."""
        conn = self.conn
        return type(conn) is Connection and conn.state is ConnectionState.OPEN

    def encode(self, event: ev.Event) -> bytes:
        """`event` in this peer's dialect, advancing its connection state (plaintext: the
        transport encrypts on the way out when `tls` is set)."""
        return b"" if self.conn is None else self.conn.send(event)

    def encode_error(self, error: RemoteProtocolError) -> bytes:
        """The error frame (or line) that tells the peer what it did wrong."""
        return b"" if self.conn is None else self.conn.send_error(error)

    def decode(self, data: bytes) -> list[Entry]:
        """The events (and refused input) in `data`, in order; `b""` is the end of stream.

        Errors are values here, never raised: the driver answers each in its place, after
        the good events before it.
        """
        if self.discarding:
            return []
        if not self._raw_decided:
            opening = self._take_undecided(data)
            if opening is None:
                return []
            if not opening:
                return [ConnectionClosed()]
            data = opening
            self._raw_decided = True
            if looks_like_tls(data) and self.security.context is not None:
                self.tls = TlsSession(self.security.context, server=True)
            elif not self.security.serves_plaintext:
                self._choose_dialect(data)  # to word the refusal in the peer's dialect
                self.discarding = True
                return [PlaintextRefused()]
        if self.tls is not None:
            ended = not data
            try:
                data = self.tls.receive(data)
            except TlsError as exc:
                self.discarding = True
                return [RemoteProtocolError("tls_failed", exc.text, fatal=True)]
            if self.tls.closed and self.conn is not None:
                # The peer's close_notify ends the stream as its FIN would (after what came first).
                return (self._events(data) if data else []) + self._events(b"")
            if not data and not ended:
                return []  # handshake records, or records with no application data
        if self.conn is None:
            first = self._take_undecided(data)
            if first is None:
                return []
            if not first:
                return [ConnectionClosed()]
            data = first
            self._choose_dialect(data)
        return self._events(data)

    def _take_undecided(self, data: bytes) -> bytes | None:
        """`data` with what waited before it, once something but whitespace has arrived (or
        too much of it); None while undecided. ``b""``: the stream ended first."""
        if not data:
            return b""
        self._undecided += data
        head = bytes(self._undecided[:MAX_UNDECIDED_BYTES])
        if not head.lstrip() and len(self._undecided) < MAX_UNDECIDED_BYTES:
            return None
        data, self._undecided = bytes(self._undecided), bytearray()
        return data

    def _choose_dialect(self, data: bytes) -> None:
        protocol = bool(looks_like_protocol(data[:MAX_UNDECIDED_BYTES])) or not self.allows_text
        self.is_text = not protocol
        self.conn = Connection(Role.HOST) if protocol else TextConnection()

    def _events(self, data: bytes) -> list[Entry]:
        conn = self.conn
        assert conn is not None
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
