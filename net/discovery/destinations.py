"""Where discovery datagrams go, decided in one place, and the one guarded way to send them.

`plan_destinations` is the only function that chooses destination addresses, and
`send_datagram` is the only function discovery code sends through. Both consult
`loopback_only()` (the ``LANCHAT_LOOPBACK_ONLY`` environment variable): when it is set,
destinations are 127.0.0.1 and ::1 only, and `send_datagram` refuses anything else even if
a bug computed it. Development machines and CI set it; nothing may broadcast from them.

In production a round of datagrams goes to the limited broadcast 255.255.255.255 (which
leaves through one adapter only), to the directed broadcast of every IPv4 interface
(computed from its real netmask, so every adapter's LAN is reached), to the link-local IPv6
multicast group on every IPv6 interface, and to any extra addresses or subnets configured
for networks where broadcast does not pass.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from net.addresses import SockAddr
from net.discovery.interfaces import NetworkInterface, list_interfaces

#: Sends one datagram to an address (a socket's `sendto`, or a stand-in).
SendFunction = Callable[[bytes, SockAddr], object]
log = logging.getLogger(__name__)

LOOPBACK_ENV = "LANCHAT_LOOPBACK_ONLY"
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")
LIMITED_BROADCAST = "255.255.255.255"
#: Link-local scope (ff02::/16), so it never leaves the segment, like a broadcast; a group of
#: our own (unassigned, "LC" "ha") rather than all-nodes ff02::1, so that only LanChat
#: sockets that joined it receive the datagrams, not every device on the LAN.
IPV6_DISCOVERY_GROUP = "ff02::4c43:6861"
#: Largest subnet that may be given as an extra probe target (each address gets probes).
MAX_SWEEP_ADDRESSES = 1024


def loopback_only() -> bool:
    """True when discovery must stay on 127.0.0.1/::1 (``LANCHAT_LOOPBACK_ONLY`` set and not 0)."""
    return os.environ.get(LOOPBACK_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def is_loopback_destination(host: str) -> bool:
    """127.0.0.1 or ::1, also written as the IPv4-mapped ::ffff:127.0.0.1 of a dual-stack socket."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip) in LOOPBACK_ADDRESSES


def unmapped(sockaddr: SockAddr) -> SockAddr:
    """`sockaddr` with an IPv4-mapped address (``::ffff:127.0.0.1``, how a dual-stack socket such
    as a UDP host's sees an IPv4 peer) written as the plain IPv4 address an IPv4 socket reaches."""
    if len(sockaddr) != 4:
        return sockaddr
    try:
        ip = ipaddress.IPv6Address(str(sockaddr[0]).split("%", 1)[0])
    except ValueError:
        return sockaddr
    return sockaddr if ip.ipv4_mapped is None else (str(ip.ipv4_mapped), sockaddr[1])


def destination_allowed(sockaddr: SockAddr) -> bool:
    """Whether discovery may send to `sockaddr` now (anything, or loopback only)."""
    return not loopback_only() or is_loopback_destination(str(sockaddr[0]))


def send_datagram(via: socket.socket | SendFunction, data: bytes, sockaddr: SockAddr) -> bool:
    """Send one discovery datagram unless the destination is forbidden; True if it was sent.

    `via` is a socket or a send function (a UDP host's chat socket, wrapped). Send errors (no
    route, network down, ICMP errors reported late) are normal on real networks and logged
    at debug level only.
    """
    if not destination_allowed(sockaddr):
        log.warning(
            "refused to send a discovery datagram to %s: %s=1 allows loopback only", sockaddr[0], LOOPBACK_ENV
        )
        return False
    send: Callable[[bytes, SockAddr], object] = getattr(via, "sendto", None) or cast(SendFunction, via)
    try:
        send(data, sockaddr)
    except OSError as exc:
        log.debug("could not send a discovery datagram to %s: %s", sockaddr[:2], exc)
        return False
    return True


# --- pure address computations -----------------------------------------------------------


def directed_broadcast(address: str, netmask: str | int) -> str | None:
    """The directed broadcast address of the IPv4 network of `address`/`netmask`.

    None where there is none: /31 point-to-point links (RFC 3021) and /32 host routes have no
    broadcast address, and loopback addresses never get one.
    """
    interface = ipaddress.IPv4Interface(f"{address}/{netmask}")
    if interface.network.prefixlen >= 31 or interface.ip.is_loopback:
        return None
    return str(interface.network.broadcast_address)


def ipv6_multicast_scopes(interfaces: Iterable[NetworkInterface]) -> list[int]:
    """Interface indexes on which to send to / join the link-local IPv6 group.

    A link-local group needs an interface: the interfaces that are up, not loopback, support
    multicast, have a known index and an IPv6 address. Each index appears once.
    """
    scopes: list[int] = []
    for interface in interfaces:
        if not interface.is_up or interface.is_loopback or not interface.multicast:
            continue
        if interface.index is None or not interface.ipv6 or interface.index in scopes:
            continue
        scopes.append(interface.index)
    return scopes


def directed_broadcasts(interfaces: Iterable[NetworkInterface]) -> list[str]:
    """The directed broadcast address of every IPv4 network of the interfaces that are up."""
    found: list[str] = []
    for interface in interfaces:
        if not interface.is_up or interface.is_loopback or not interface.broadcast:
            continue
        for address in interface.ipv4:
            target = directed_broadcast(address.address, address.prefixlen)
            if target is not None and target not in found:
                found.append(target)
    return found


# --- extra probe targets -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """An address or a small subnet to probe directly, with optional ports (default: the range)."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    ports: tuple[int, ...] | None = None
    zone: str = ""  # IPv6 zone (interface) of a link-local address

    def addresses(self) -> list[str]:
        if self.network.num_addresses == 1:
            hosts = [self.network.network_address]
        else:
            hosts = list(self.network.hosts())
        return [f"{host}%{self.zone}" if self.zone else str(host) for host in hosts]

    @property
    def is_loopback(self) -> bool:
        return self.network.num_addresses == 1 and is_loopback_destination(str(self.network.network_address))

    def __str__(self) -> str:
        host = str(self.network.network_address) if self.network.num_addresses == 1 else str(self.network)
        if self.zone:
            host += f"%{self.zone}"
        if self.ports is None:
            return host
        if ":" in host:
            host = f"[{host}]"
        return (
            f"{host}:{self.ports[0]}-{self.ports[-1]}" if len(self.ports) > 1 else f"{host}:{self.ports[0]}"
        )


def _parse_ports(text: str) -> tuple[int, ...]:
    low_text, dash, high_text = text.partition("-")
    try:
        low = int(low_text)
        high = int(high_text) if dash else low
    except ValueError:
        raise ValueError(f"{text!r} is not a port or a port range such as 47800-47815") from None
    if not 1 <= low <= high <= 65535 or high - low >= 256:
        raise ValueError(f"port range {text!r} must be within 1-65535 and at most 256 ports")
    return tuple(range(low, high + 1))


def parse_probe_target(text: str) -> ProbeTarget:
    """Read an extra probe target typed by a user.

    Forms: ``192.168.1.7``, ``192.168.1.7:47805``, ``192.168.1.7:47800-47810``,
    ``192.168.5.0/24`` (every address of a small subnet), ``::1``, ``[fe80::1%eth0]:47800``.
    Host names are not resolved here (that blocks); resolve them first. Raises ValueError
    with a sentence for the user.
    """
    text = text.strip()
    if not text:
        raise ValueError("the address is empty")
    host, ports = text, None
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r}: write an IPv6 address with a port as [address]:port")
        ports = _parse_ports(rest[1:]) if rest else None
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        ports = _parse_ports(port_text)
    host, _, zone = host.partition("%")
    try:
        network = ipaddress.ip_network(host, strict=False)
    except ValueError:
        raise ValueError(
            f"{host!r} is not an IP address or subnet (such as 192.168.1.7 or 10.0.5.0/24)"
        ) from None
    if network.num_addresses > MAX_SWEEP_ADDRESSES + 2:
        raise ValueError(
            f"subnet {network} is too large to probe address by address (at most {MAX_SWEEP_ADDRESSES}"
            " addresses, e.g. a /24 or /22)"
        )
    return ProbeTarget(network, ports, zone)


# --- the one place that decides destinations ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Destination:
    """One destination of a round of datagrams. `kind` is broadcast, multicast or unicast."""

    sockaddr: SockAddr
    kind: str

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ":" in str(self.sockaddr[0]) else socket.AF_INET


def _sockaddr(host: str, port: int) -> SockAddr:
    address, _, zone = host.partition("%")
    if ":" not in address:
        return (address, port)
    scope = 0
    if zone:
        try:
            scope = int(zone) if zone.isdigit() else socket.if_nametoindex(zone)
        except OSError:
            scope = 0
    return (address, port, 0, scope)


def plan_destinations(
    ports: Sequence[int],
    *,
    interfaces: Sequence[NetworkInterface] | None = None,
    extra: Sequence[ProbeTarget] = (),
    broadcast: bool = True,
) -> list[Destination]:
    """Every destination of one round of datagrams to `ports` (extra targets may name their own).

    With ``LANCHAT_LOOPBACK_ONLY`` set: 127.0.0.1 and ::1 on `ports`, plus extra targets that
    are loopback addresses; nothing else, whatever the interfaces are. Otherwise: the limited
    broadcast, each interface's directed broadcast, the IPv6 group on each interface (when
    `broadcast`), and every address of the extra targets. `interfaces` defaults to this PC's.
    """
    planned: list[Destination] = []
    seen: set[SockAddr] = set()

    def add(host: str, port: int, kind: str) -> None:
        sockaddr = _sockaddr(host, port)
        if sockaddr not in seen:
            seen.add(sockaddr)
            planned.append(Destination(sockaddr, kind))

    if loopback_only():
        for host in LOOPBACK_ADDRESSES:
            for port in ports:
                add(host, port, "unicast")
        for target in extra:
            if target.is_loopback:
                for port in target.ports or ports:
                    add(target.addresses()[0], port, "unicast")
            else:
                log.debug("extra probe target %s skipped: %s allows loopback only", target, LOOPBACK_ENV)
        return planned

    if broadcast:
        if interfaces is None:
            interfaces = list_interfaces()
        for port in ports:
            add(LIMITED_BROADCAST, port, "broadcast")
        for address in directed_broadcasts(interfaces):
            for port in ports:
                add(address, port, "broadcast")
        for scope in ipv6_multicast_scopes(interfaces):
            for port in ports:
                add(f"{IPV6_DISCOVERY_GROUP}%{scope}", port, "multicast")
    for target in extra:
        for host in target.addresses():
            for port in target.ports or ports:
                add(host, port, "unicast")
    return planned
