"""Which chat port is free on this PC: for `main.py host` without --port and the GUI's Host view.

A TCP host needs its TCP port *and* the UDP port with the same number (its discovery
responder answers probes there); a UDP host needs the UDP port. Both are checked for IPv4
and, where the PC has it, IPv6, as a host binding every interface would. The check binds and
releases at once, so another program can still take the port before the host binds it: the
host's own bind stays the real test (retry from the next port when it fails).
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass

from net.api import Transport
from net.protocol.limits import DEFAULT_PORT

#: How many ports from `start` on `next_free_port` tries (discovery probes this many too).
PORT_SEARCH_SPAN = 16


class NoFreePortError(OSError):
    """No port in the searched range is free; the message is a sentence for the user."""


@dataclass(frozen=True, slots=True)
class PortCheck:
    """Whether `port` can be bound for TCP and for UDP; `*_error` says why not."""

    port: int
    tcp_error: str | None
    udp_error: str | None

    @property
    def tcp_free(self) -> bool:
        return self.tcp_error is None

    @property
    def udp_free(self) -> bool:
        return self.udp_error is None

    def free_for(self, transport: Transport | str) -> bool:
        if Transport(transport) is Transport.TCP:
            return self.tcp_free and self.udp_free
        return self.udp_free


def _hosts(bind: str) -> list[str]:
    if bind:
        return [bind]
    return ["0.0.0.0", "::"] if socket.has_ipv6 else ["0.0.0.0"]


#: Why a port cannot be bound when something else holds it.
IN_USE = "in use by another program"


def _try_bind(kind: socket.SocketKind, host: str, port: int) -> str | None:
    """None if (`host`, `port`) can be bound now, else the reason."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.socket(family, kind)
    except OSError as exc:
        if family == socket.AF_INET6:
            return None  # no IPv6 on this PC: nothing to clash with
        return str(exc)
    with sock:
        try:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if kind == socket.SOCK_STREAM and os.name == "posix":
                # As socket.create_server does: ignore TIME_WAIT leftovers, still refuse a listener.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        except OSError as exc:
            if family == socket.AF_INET6 and exc.errno == errno.EADDRNOTAVAIL:
                return None  # IPv6 disabled on this PC
            if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
                return IN_USE
            if exc.errno in (errno.EACCES, getattr(errno, "WSAEACCES", -1)):
                return "not allowed (reserved or needs administrator rights)"
            return exc.strerror or str(exc)
    return None


def check_port(port: int, bind: str = "") -> PortCheck:
    """Can `port` be bound for TCP and for UDP on `bind` ("" = every interface)?"""
    tcp_error = udp_error = None
    for host in _hosts(bind):
        tcp_error = tcp_error or _try_bind(socket.SOCK_STREAM, host, port)
        udp_error = udp_error or _try_bind(socket.SOCK_DGRAM, host, port)
    return PortCheck(port, tcp_error, udp_error)


def next_free_port(
    transport: Transport | str, start: int = DEFAULT_PORT, bind: str = "", span: int = PORT_SEARCH_SPAN
) -> int:
    """The first port from `start` on that is free for a host of `transport`.

    Raises NoFreePortError after `span` ports (hosts beyond the probed range would only be
    found by their announcements, and so many busy ports means something else is wrong).
    """
    for port in range(start, min(start + span, 65536)):
        if check_port(port, bind).free_for(transport):
            return port
    last = min(start + span, 65536) - 1
    raise NoFreePortError(f"no free port from {start} to {last}: close other LanChat hosts or choose --port")
