"""Opening UDP sockets and receiving from them the way both UDP shells need.

The host's socket is dual-stack where the OS allows (one IPv6 socket that also receives
IPv4), like the TCP listener, and never uses SO_REUSEADDR: on UDP that would let two
programs bind the same port and split its datagrams between them.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

from net.addresses import SockAddr
from net.api import HostStartError
from net.socket_errors import NO_IPV6, describe_bind_error
from net.udp.wire import RECEIVE_BUFFER_BYTES

log = logging.getLogger(__name__)

#: Kernel buffer sizes we ask for (the OS may grant less): a burst from many members, or a
#: whole send window, must not overflow the receive buffer while the loop is busy.
SOCKET_RECEIVE_BUFFER = 4 * 1024 * 1024
SOCKET_SEND_BUFFER = 1024 * 1024
#: Datagrams read in one go before the loop attends to timers and sending.
RECEIVE_BATCH = 256


def _tune(sock: socket.socket) -> None:
    for option, size in ((socket.SO_RCVBUF, SOCKET_RECEIVE_BUFFER), (socket.SO_SNDBUF, SOCKET_SEND_BUFFER)):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, size)
        except OSError:
            pass  # the OS default still works, with more loss under bursts
    sock.setblocking(False)


def open_host_socket(bind: str, port: int) -> socket.socket:
    """The host's UDP socket on `bind` ("" = every interface, IPv4 and IPv6 where possible)."""
    try:
        if not bind:
            sock = _open_wildcard(port)
        else:
            try:
                infos = socket.getaddrinfo(bind, port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE)
            except socket.gaierror as exc:
                raise HostStartError(f"Cannot listen on {bind!r}: no such address or host name.") from exc
            family, kind, proto, _, sockaddr = infos[0]
            sock = socket.socket(family, kind, proto)
            try:
                sock.bind(sockaddr)
            except OSError:
                sock.close()
                raise
    except HostStartError:
        raise
    except OSError as exc:
        raise HostStartError(describe_bind_error(exc, bind, port)) from exc
    _tune(sock)
    return sock


def _open_wildcard(port: int) -> socket.socket:
    if socket.has_dualstack_ipv6():
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind(("::", port))
            return sock
        except OSError as exc:
            sock.close()
            if exc.errno not in NO_IPV6:
                raise
            log.info("IPv6 is not usable here (%s); listening on IPv4 only", exc.strerror or exc)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("0.0.0.0", port))
    except OSError:
        sock.close()
        raise
    return sock


def open_client_socket(family: int, address: SockAddr) -> socket.socket:
    """A UDP socket connected to the host: the OS filters out datagrams from anyone else,
    and an ICMP "port unreachable" surfaces as ConnectionRefusedError."""
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        _tune(sock)
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


class DatagramReader:
    """Reads whatever is queued on a non-blocking UDP socket into one 64 KiB buffer."""

    def __init__(self, sock: socket.socket, *, connected: bool = False) -> None:
        self._sock = sock
        self._connected = connected
        self._buffer = bytearray(RECEIVE_BUFFER_BYTES)
        self._view = memoryview(self._buffer)

    def read_batch(self, limit: int = RECEIVE_BATCH) -> Iterator[tuple[bytes, SockAddr]]:
        """Up to `limit` (data, address) pairs, stopping when nothing is queued.

        An ICMP "port unreachable" for an earlier datagram surfaces here: as
        `ConnectionResetError` on Windows, as `ConnectionRefusedError` on a connected socket
        elsewhere. On the host's socket it concerns some other peer, so it is skipped and
        serving goes on; on a client's connected socket it means the host is not there, and
        it is raised as `ConnectionRefusedError` on every system.
        """
        for _ in range(limit):
            try:
                size, address = self._sock.recvfrom_into(self._buffer)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionResetError as exc:
                if self._connected:
                    raise ConnectionRefusedError(*exc.args) from None
                continue
            yield bytes(self._view[:size]), address
