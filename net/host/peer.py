"""One connection as the room driver sees it, whatever transport carries it.

The TCP and UDP shells subclass `HostPeer` with what only they need (a socket and its
buffers; a UDP channel); everything the room driver reads or sets lives here once. A
peer object is also the `Room`'s id for the member it carries.
"""

from __future__ import annotations

from net.addresses import SockAddr, format_sockaddr
from net.protocol import Connection, RemoteProtocolError
from net.protocol import events as ev
from net.protocol.connection import ConnectionClosed, ConnectionState
from net.protocol.textmode import TextConnection

#: What `HostPeer.decode` yields: events in order, with refused input as error values.
Entry = ev.Event | RemoteProtocolError


class HostPeer:
    """State of one connection, owned by its transport's service thread (never locked)."""

    #: True when the transport has proved the peer receives at `address` (a TCP handshake
    #: did). What an unproven address does is logged quietly: it may be forged.
    address_verified = True

    def __init__(self, address: SockAddr, now: float, conn: Connection | TextConnection | None) -> None:
        self.address = address  # the socket address (a tuple, as `accept`/`recvfrom` give it)
        self.where = format_sockaddr(address)  # the same for people and logs
        self.conn = conn  # None until the dialect is known (TCP decides on the first bytes)
        self.is_text = False  # a person typing into `nc`: no pings, lines instead of frames
        self.opened = now
        self.last_heard = now
        self.closing = False
        self.close_deadline = 0.0
        self.errors = 0
        self.joined = False  # was welcomed into the room at some point
        self.discarding = False  # input after a fatal error or the end is read and dropped

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.where}>"

    @property
    def link_failed(self) -> bool:
        """True when nothing can be delivered any more (a close cannot wait for a flush)."""
        return False

    def protocol_open(self) -> bool:
        """True when this is a protocol (JSON) connection past its handshake and not closed."""
        conn = self.conn
        return type(conn) is Connection and conn.state is ConnectionState.OPEN

    def encode(self, event: ev.Event) -> bytes:
        """`event` in this peer's dialect, advancing its connection state."""
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
        conn = self.conn
        if conn is None:
            return []
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
