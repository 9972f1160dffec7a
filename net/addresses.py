"""Addresses as people read and type them: ``host``, ``host:port``, ``[v6]:port``.

`parse_address` reads what a user typed; `format_address(host, port)` writes it back the
same way; `format_sockaddr` shows a socket address (a tuple from `accept`/`recvfrom`) in
that form for logs and messages, and `sockaddr_host` is its host alone.
"""

from __future__ import annotations

import ipaddress
from typing import Any

#: A socket address as `accept`/`recvfrom` give it: (host, port) or (host, port, flow, scope).
SockAddr = tuple[Any, ...]
#: One entry of `socket.getaddrinfo`: (family, type, proto, canonname, sockaddr).
AddrInfo = tuple[Any, ...]


class AddressError(ValueError):
    """The text is not a usable address; the message is a sentence for the user."""


def parse_address(text: str, default_port: int) -> tuple[str, int]:
    """Split `text` into (host, port); a bare IPv6 address keeps the default port."""
    text = text.strip()
    if not text:
        raise AddressError("enter the host's address")
    host, port_text = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise AddressError(f"{text!r} is missing a closing ']'")
        host, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise AddressError(f"{text!r} is not an address")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif text.count(":") > 1:
        try:
            ipaddress.ip_address(text.split("%")[0])
        except ValueError:
            raise AddressError(f"{text!r} is not an address") from None
    if not host or any(char.isspace() for char in host):
        raise AddressError(f"{text!r} is not an address")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise AddressError(f"{port_text!r} is not a port number (1-65535)")
    return host, int(port_text)


def format_address(host: str, port: int) -> str:
    """The inverse of parse_address: brackets around IPv6 literals."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def sockaddr_host(address: SockAddr) -> str:
    """The host of a socket address, an IPv4-mapped IPv6 address as plain IPv4 (so a computer
    is the same whether a dual-stack socket or an IPv4 one took its connection)."""
    host: str = address[0]
    if host.startswith("::ffff:") and "." in host:
        host = host[len("::ffff:") :]
    return host


def format_sockaddr(address: SockAddr) -> str:
    """host:port of a socket address, with IPv4-mapped IPv6 addresses shown as plain IPv4."""
    return format_address(sockaddr_host(address), address[1])
