"""One accepted TCP connection: its socket, its dialect and what is queued for it.

Only the router thread touches a `Peer` after the accept thread has handed it over, so
nothing here is locked. The dialect is chosen from the first bytes: the JSON protocol
(`Connection`) or a person typing into `nc` (`TextConnection`).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from net.addresses import SockAddr
from net.host.peer import Entry, HostPeer
from net.protocol import Connection, Role
from net.protocol.connection import ConnectionClosed
from net.protocol.textmode import TextConnection, looks_like_protocol

#: Leading whitespace tolerated before deciding between the protocol and plain text.
_MAX_UNDECIDED_BYTES = 1024


class Peer(HostPeer):
    """State of one TCP connection, owned by the router thread."""

    def __init__(self, sock: socket.socket, address: SockAddr) -> None:
        super().__init__(address, time.monotonic(), None)
        self.sock = sock
        self.outbound = bytearray()
        self.interest = 0  # the selector events registered for `sock` (0 = not registered)
        self.watching_writes = False  # output is waiting for the socket to take more
        self.read_done = False  # end of stream or a read error: nothing more to read
        self.write_shut = False
        self.closed = False
        self._undecided = bytearray()

    def decode(self, data: bytes) -> list[Entry]:
        """As `HostPeer.decode`, choosing the dialect from the first bytes."""
        if self.conn is None and not self.discarding:
            if not data:
                return [ConnectionClosed()]
            self._undecided += data
            dialect = looks_like_protocol(bytes(self._undecided[:_MAX_UNDECIDED_BYTES]))
            if dialect is None and len(self._undecided) < _MAX_UNDECIDED_BYTES:
                return []
            data, self._undecided = bytes(self._undecided), bytearray()
            self.is_text = not dialect
            self.conn = Connection(Role.HOST) if dialect else TextConnection()
        return super().decode(data)


@dataclass(frozen=True, slots=True)
class PeerOpened:
    """Work item from the accept thread: serve this new connection."""

    peer: Peer
