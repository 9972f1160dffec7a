"""Opening the listening socket and setting up accepted ones.

Bind failures become `HostStartError` with a sentence a user can act on (port in use,
permission denied, address not on this computer) instead of an errno.
"""

from __future__ import annotations

import errno
import logging
import socket

from net.api import HostStartError

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 128

#: Keepalive probing for idle connections: the backup for peers that cannot ping (plain-text
#: `nc` clients). A vanished peer is noticed after about IDLE + INTERVAL * COUNT seconds.
KEEPALIVE_IDLE = 60
KEEPALIVE_INTERVAL = 10
KEEPALIVE_COUNT = 6


def _codes(*names: str) -> frozenset[int]:
    """Errno values by name, including the Windows WSA spellings where they differ."""
    values = set()
    for name in names:
        for candidate in (name, "WSA" + name):
            value = getattr(errno, candidate, None)
            if value is not None:
                values.add(value)
    return frozenset(values)


_IN_USE = _codes("EADDRINUSE")
_DENIED = _codes("EACCES", "EPERM")
_NOT_HERE = _codes("EADDRNOTAVAIL")
_NO_IPV6 = _codes("EAFNOSUPPORT", "EPROTONOSUPPORT", "EADDRNOTAVAIL")


def describe_bind_error(exc: OSError, bind: str, port: int) -> str:
    """A sentence for the user explaining why listening on `bind`:`port` failed."""
    where = f"{bind} port {port}" if bind else f"port {port}"
    if exc.errno in _IN_USE:
        return f"Port {port} is already in use on this computer (another LanChat host?); choose another port."
    if exc.errno in _DENIED:
        hint = " (ports below 1024 need administrator rights)" if 0 < port < 1024 else ""
        return f"Permission denied to listen on {where}{hint}; choose another port."
    if exc.errno in _NOT_HERE:
        return f"The address {bind} does not belong to this computer; choose one of its own addresses."
    return f"Cannot listen on {where}: {exc.strerror or exc}."


def open_listener(bind: str, port: int) -> socket.socket:
    """A listening TCP socket on `bind` ("" = every interface, dual-stack where possible).

    Uses `socket.create_server`, which sets SO_REUSEADDR only where that is safe (not on
    Windows, where it would let another program steal the port).
    """
    if not 0 <= port <= 65535:
        raise HostStartError(f"{port} is not a port number; use one from 1 to 65535 (0 picks a free one).")
    try:
        if not bind:
            return _open_wildcard(port)
        try:
            infos = socket.getaddrinfo(bind, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except (socket.gaierror, UnicodeError, ValueError) as exc:
            raise HostStartError(f"Cannot listen on {bind!r}: no such address or host name.") from exc
        family, _, _, _, sockaddr = infos[0]
        return socket.create_server(sockaddr, family=family, backlog=LISTEN_BACKLOG)
    except HostStartError:
        raise
    except OSError as exc:
        raise HostStartError(describe_bind_error(exc, bind, port)) from exc


def _open_wildcard(port: int) -> socket.socket:
    if socket.has_dualstack_ipv6():
        try:
            return socket.create_server(
                ("", port), family=socket.AF_INET6, dualstack_ipv6=True, backlog=LISTEN_BACKLOG
            )
        except OSError as exc:
            if exc.errno not in _NO_IPV6:
                raise
            log.info("IPv6 is not usable here (%s); listening on IPv4 only", exc.strerror or exc)
    return socket.create_server(("", port), family=socket.AF_INET, backlog=LISTEN_BACKLOG)


def is_dual_stack(listener: socket.socket) -> bool:
    """True when an IPv6 listener also accepts IPv4 connections."""
    if listener.family != socket.AF_INET6:
        return False
    try:
        return not listener.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
    except OSError:
        return False


def format_address(address: tuple) -> str:
    """host:port for logs, with IPv4-mapped IPv6 addresses shown as plain IPv4."""
    host, port = address[0], address[1]
    if host.startswith("::ffff:") and "." in host:
        host = host[len("::ffff:") :]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def configure_client_socket(sock: socket.socket, send_buffer: int | None = None) -> None:
    """Low latency (TCP_NODELAY) and keepalive probing on an accepted connection."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if send_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    for name, value in (
        ("TCP_KEEPIDLE", KEEPALIVE_IDLE),  # Linux, Windows 10+
        ("TCP_KEEPALIVE", KEEPALIVE_IDLE),  # macOS spelling of the idle time
        ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
        ("TCP_KEEPCNT", KEEPALIVE_COUNT),
    ):
        option = getattr(socket, name, None)
        if option is None:
            continue
        try:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)
        except OSError:
            pass  # older systems refuse some of these; keepalive still works with OS timings
    if hasattr(sock, "ioctl") and hasattr(socket, "SIO_KEEPALIVE_VALS"):
        try:
            sock.ioctl(socket.SIO_KEEPALIVE_VALS, (1, KEEPALIVE_IDLE * 1000, KEEPALIVE_INTERVAL * 1000))
        except OSError:
            pass
