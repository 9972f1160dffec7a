"""One accepted TCP connection: its socket and what is queued for it.

Only the router thread touches a `Peer` after the accept thread has handed it over, so
nothing here is locked. Decoding (TLS, then the JSON protocol or a person typing into
`nc`) is `HostPeer`'s; on a byte stream both dialects are allowed.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from net.addresses import SockAddr
from net.host.peer import HostPeer


class Peer(HostPeer):
    """State of one TCP connection, owned by the router thread."""

    allows_text = True

    def __init__(self, sock: socket.socket, address: SockAddr) -> None:
        super().__init__(address, time.monotonic())
        self.sock = sock
        #: Bytes queued for the peer: plaintext for an encrypted peer (sealed on writing).
        self.outbound = bytearray()
        #: TLS records made from `outbound` and not yet taken by the socket.
        self.sealed = bytearray()
        self.interest = 0  # the selector events registered for `sock` (0 = not registered)
        self.watching_writes = False  # output is waiting for the socket to take more
        self.read_done = False  # end of stream or a read error: nothing more to read
        self.write_shut = False
        self.closed = False

    @property
    def backlog(self) -> int:
        """Bytes waiting to be written (plaintext not yet sealed, and sealed records)."""
        return len(self.outbound) + len(self.sealed)


@dataclass(frozen=True, slots=True)
class PeerOpened:
    """Work item from the accept thread: serve this new connection."""

    peer: Peer
