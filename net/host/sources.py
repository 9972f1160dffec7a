"""Where connections come from: the cap on connections from one address, for both transports.

One computer (or one NAT address) must not fill the room: the TCP host counts the
connections it accepted, the UDP host the connections it opened (still saying hello or
members), each per source address, and turns away what goes beyond the cap. An address is
its host alone (`net.addresses.sockaddr_host`): the port differs per connection, and IPv4
over a dual-stack socket is the same address as over an IPv4 one.
"""

from __future__ import annotations

import logging

from net.addresses import SockAddr, format_sockaddr, sockaddr_host


class AddressCounter:
    """Open connections per source address, up to `limit` each (0: no cap, nothing counted).

    Not thread-safe: its owner serialises calls.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(0, limit)
        self._counts: dict[str, int] = {}
        self._warned: set[str] = set()

    def __len__(self) -> int:
        """Addresses with connections open."""
        return len(self._counts)

    def count(self, address: SockAddr) -> int:
        return self._counts.get(sockaddr_host(address), 0)

    def add(self, address: SockAddr) -> bool:
        """Count a new connection from `address`; False (nothing counted) when it has the cap."""
        if not self.limit:
            return True
        host = sockaddr_host(address)
        count = self._counts.get(host, 0)
        if count >= self.limit:
            return False
        self._counts[host] = count + 1
        return True

    def remove(self, address: SockAddr) -> None:
        """A connection `add` counted has closed."""
        host = sockaddr_host(address)
        count = self._counts.pop(host, 0) - 1
        if count > 0:
            self._counts[host] = count
        else:
            self._warned.discard(host)

    def turned_away(self, address: SockAddr) -> tuple[int, str]:
        """The log level and line for a connection from `address` that `add` refused: a
        warning for the first since the address last had none open, the rest of a flood
        only debug lines."""
        host = sockaddr_host(address)
        level = logging.DEBUG if host in self._warned else logging.WARNING
        self._warned.add(host)
        where = format_sockaddr(address)
        return level, f"turning away {where}: {self.limit} connections from that address are open already"
