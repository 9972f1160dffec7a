"""Opening the listening socket and setting up accepted ones.

Bind failures become `HostStartError` with a sentence a user can act on (port in use,
permission denied, address not on this computer; worded in `net.socket_errors`).
"""

from __future__ import annotations

import logging
import socket

from net.api import HostStartError
from net.socket_errors import NO_IPV6, describe_bind_error

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 128

#: Keepalive probing for idle connections: the backup for peers that cannot ping (plain-text
#: `nc` clients). A vanished peer is noticed after about IDLE + INTERVAL * COUNT seconds.
KEEPALIVE_IDLE = 60
KEEPALIVE_INTERVAL = 10
KEEPALIVE_COUNT = 6


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
            if exc.errno not in NO_IPV6:
                raise
            log.info("IPv6 is not usable here (%s); listening on IPv4 only", exc.strerror or exc)
    return socket.create_server(("", port), family=socket.AF_INET, backlog=LISTEN_BACKLOG)


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
