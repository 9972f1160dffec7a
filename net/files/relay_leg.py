"""A member's leg to the host's relay: connect out, check the host's key, show the ticket.

Both the receiver (`Fetch`) and the sender (`TransferServer.serve_relayed`) open one when
the host has paired them (`net.files.relay`); after the `R` record the leg carries the
ordinary transfer stream, which the host splices to the other leg. A sender uploading a
room-wide offer to the host's cache opens one the same way (`net.files.host_cache`):
then the host itself fetches over it.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from net.files.limits import TRANSFER_VERSION
from net.files.stream import RELAY, encode_record
from net.secure.codes import fingerprint_of
from net.secure.tls import client_context


@dataclass(frozen=True, slots=True)
class RelayRoute:
    """Where the host's relay listens, its certificate's SHA-256, and this leg's ticket."""

    address: str
    port: int
    key: bytes
    ticket: str
    token: str = ""  # an upload to the host's cache: the sender's token for it to fetch with


class RelayKeyMismatch(Exception):
    """The relay's certificate is not the one the host named over the chat."""


def connect(route: RelayRoute, timeout: float) -> socket.socket:
    """The TCP connection to the relay (OSError when it cannot be reached)."""
    raw = socket.create_connection((route.address, route.port), timeout=timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return raw


def open_leg(
    route: RelayRoute, raw: socket.socket, on_tls: Callable[[ssl.SSLSocket], None] | None = None
) -> ssl.SSLSocket:
    """TLS over `raw` to the host, its key checked, the ticket sent; `on_tls` is told the
    TLS socket before the handshake (so another thread can shut it down)."""
    tls = client_context().wrap_socket(raw, do_handshake_on_connect=False)
    if on_tls is not None:
        on_tls(tls)
    tls.do_handshake()
    der = tls.getpeercert(binary_form=True)
    if der is None or fingerprint_of(der) != route.key:
        raise RelayKeyMismatch("the relay's key is not the host's")
    tls.sendall(ticket_record(route))
    return tls


def ticket_record(route: RelayRoute) -> bytes:
    """A relayed leg's first record: which pair it belongs to (or which upload to the
    host's cache, with the token the host presents to fetch it)."""
    body = {"v": TRANSFER_VERSION, "ticket": route.ticket}
    if route.token:
        body["token"] = route.token
    return encode_record(RELAY, body)
