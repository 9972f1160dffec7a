"""Opening the UDP sockets discovery uses, and reading from them without ever blocking.

Three kinds of socket:

- responder: bound to a host's own chat port number (exclusively, no SO_REUSEADDR), so
  that a probe to an address and port reaches exactly the host that owns that port;
- listener: bound to the shared announcement port with SO_REUSEADDR (and SO_REUSEPORT where
  it exists, which macOS needs), so every browser on a PC receives broadcast announcements;
- sender: an ephemeral port for probes (their answers come back to it).

With ``LANCHAT_LOOPBACK_ONLY`` set, sockets bind to 127.0.0.1/::1 only, never get
SO_BROADCAST (the kernel itself then refuses a broadcast send) and never join a multicast
group. Every socket is non-blocking; the owning thread waits on them with a selector.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
from collections.abc import Iterable, Iterator

from net.addresses import SockAddr
from net.discovery.destinations import IPV6_DISCOVERY_GROUP, loopback_only

log = logging.getLogger(__name__)

#: Receive buffer size: any datagram fits (bigger ones are refused after reading).
RECEIVE_BUFFER = 65535
#: Datagrams read from one socket per wake-up, so one flooded socket cannot starve the rest.
MAX_READS_PER_WAKE = 64


def _family_of(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def bind_addresses(bind: str) -> list[str]:
    """The local addresses to bind for `bind` ("" = every interface, IPv4 and IPv6)."""
    if loopback_only():
        if bind in ("", "0.0.0.0", "::"):
            return ["127.0.0.1", "::1"]
        return [bind] if bind in ("127.0.0.1", "::1") else []
    if bind == "":
        return ["0.0.0.0", "::"]
    return [bind]


def _new_socket(host: str) -> socket.socket:
    family = _family_of(host)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        elif not loopback_only():
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def join_ipv6_group(sock: socket.socket, scope: int) -> bool:
    """Join the discovery group on interface `scope`; False (logged at debug) if refused."""
    if loopback_only() or sock.family != socket.AF_INET6:
        return False
    request = socket.inet_pton(socket.AF_INET6, IPV6_DISCOVERY_GROUP) + struct.pack("@I", scope)
    try:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, request)
    except OSError as exc:
        log.debug("could not join %s on interface %s: %s", IPV6_DISCOVERY_GROUP, scope, exc)
        return False
    return True


def open_bound(host: str, port: int, *, shared: bool) -> socket.socket:
    """A UDP socket bound to (`host`, `port`); `shared` allows other processes on the port too."""
    sock = _new_socket(host)
    try:
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if hasattr(socket, "SO_REUSEPORT"):
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def open_responders(port: int, bind: str = "") -> list[socket.socket]:
    """Exclusive sockets on the chat port number for every address of `bind`.

    Raises OSError when the IPv4 (or the only requested) address cannot be bound; an IPv6
    socket that cannot be bound next to an IPv4 one is skipped (IPv6 may be disabled).
    """
    addresses = bind_addresses(bind)
    sockets: list[socket.socket] = []
    try:
        for host in addresses:
            try:
                sockets.append(open_bound(host, port, shared=False))
            except OSError:
                if _family_of(host) == socket.AF_INET6 and len(addresses) > 1:
                    log.debug("no IPv6 discovery responder on port %d", port, exc_info=True)
                    continue
                raise
    except OSError:
        close_all(sockets)
        raise
    return sockets


def open_listeners(port: int) -> list[socket.socket]:
    """Shared sockets on the announcement port (IPv4 and IPv6); those that fail are skipped."""
    sockets = []
    for host in bind_addresses(""):
        try:
            sockets.append(open_bound(host, port, shared=True))
        except OSError as exc:
            log.warning("cannot listen for announcements on %s port %d: %s", host, port, exc)
    return sockets


def open_senders() -> list[socket.socket]:
    """Ephemeral sockets for sending (IPv4, and IPv6 when available)."""
    sockets = []
    for host in ("127.0.0.1", "::1") if loopback_only() else ("0.0.0.0", "::"):
        try:
            sockets.append(open_bound(host, 0, shared=False))
        except OSError as exc:
            log.debug("no %s discovery sender: %s", "IPv6" if ":" in host else "IPv4", exc)
    return sockets


def socket_for(sockets: Iterable[socket.socket], family: socket.AddressFamily) -> socket.socket | None:
    return next((s for s in sockets if s.family == family), None)


def read_datagrams(sock: socket.socket) -> Iterator[tuple[bytes, SockAddr]]:
    """Datagrams waiting on a non-blocking socket, at most MAX_READS_PER_WAKE of them."""
    for _ in range(MAX_READS_PER_WAKE):
        try:
            data, sender = sock.recvfrom(RECEIVE_BUFFER)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:
            # Windows reports an ICMP "port unreachable" for an earlier send here; keep going.
            continue
        except OSError as exc:
            log.debug("receive error on a discovery socket: %s", exc)
            return
        yield data, sender


def sender_address(sender: SockAddr) -> str:
    """The address of a received datagram's sender as text, with %interface for link-local IPv6."""
    host = str(sender[0])
    if len(sender) >= 4 and sender[3] and "%" not in host:
        try:
            zone = socket.if_indextoname(sender[3])
        except (OSError, AttributeError):
            zone = str(sender[3])
        host = f"{host}%{zone}"
    return host


def close_all(sockets: Iterable[socket.socket]) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.close()
