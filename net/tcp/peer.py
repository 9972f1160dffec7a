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


#: Slices per `sendmsg` (POSIX guarantees at least 16 for IOV_MAX; Linux takes 1024).
_MAX_SEGMENTS = 512


def send_segments(sock: socket.socket, segments: list[bytes | memoryview]) -> int:
    """One system call for a receiver's share: `sendmsg` gathers the slices where it exists."""
    if len(segments) == 1:
        return sock.send(segments[0])
    if hasattr(sock, "sendmsg") and len(segments) <= _MAX_SEGMENTS:
        return sock.sendmsg(segments)
    return sock.send(b"".join(segments))  # Windows has no sendmsg


def shutdown_quietly(sock: socket.socket, how: int) -> None:
    """Shut `sock` down in direction `how`, whether or not the other end is still there."""
    try:
        sock.shutdown(how)
    except OSError:
        pass  # already disconnected
