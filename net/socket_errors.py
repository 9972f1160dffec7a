"""Socket failures worded for the user, the same for both transports.

An errno means nothing to a person; a host that cannot bind or a client that cannot
connect says what happened and what to do instead (port in use, permission denied,
nobody listening, no route). TCP and UDP fail in the same ways, so the wording lives here
once, beside neither of them.
"""

from __future__ import annotations

import errno
import socket

from net.api import FailureKind


def errno_codes(*names: str) -> frozenset[int]:
    """Errno values by name, including the Windows WSA spellings where they differ."""
    values = set()
    for name in names:
        for candidate in (name, "WSA" + name):
            value = getattr(errno, candidate, None)
            if value is not None:
                values.add(value)
    return frozenset(values)


_IN_USE = errno_codes("EADDRINUSE")
_DENIED = errno_codes("EACCES", "EPERM")
_NOT_HERE = errno_codes("EADDRNOTAVAIL")
#: What binding an IPv6 wildcard raises where the machine has no IPv6: fall back to IPv4.
NO_IPV6 = errno_codes("EAFNOSUPPORT", "EPROTONOSUPPORT", "EADDRNOTAVAIL")


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


class ConnectFailed(Exception):
    """A link could not be opened; `text` is a sentence for the user."""

    def __init__(self, failure: FailureKind, text: str) -> None:
        super().__init__(text)
        self.failure = failure
        self.text = text


def describe_connect_error(exc: OSError, where: str) -> ConnectFailed:
    """A sentence for the user, and its kind, for a failed connect to `where`."""
    if isinstance(exc, socket.gaierror):
        return ConnectFailed(FailureKind.RESOLVE, f"The host name in {where} could not be found.")
    if isinstance(exc, ConnectionRefusedError):
        return ConnectFailed(
            FailureKind.REFUSED, f"Nobody accepted the connection at {where}: is a chat hosted there?"
        )
    if isinstance(exc, TimeoutError):
        return ConnectFailed(
            FailureKind.TIMEOUT, f"No answer from {where}: the host may be off, or a firewall blocks it."
        )
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN):
        return ConnectFailed(FailureKind.UNREACHABLE, f"{where} cannot be reached from this network.")
    return ConnectFailed(FailureKind.LOST, f"Could not connect to {where}: {exc.strerror or exc}.")
