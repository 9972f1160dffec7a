"""This PC's network interfaces: a plain model, how to read it, and which addresses to share.

`list_interfaces` reads the real interfaces through psutil, which reports addresses *and*
netmasks on Windows, macOS and Linux alike (the standard library cannot read netmasks
portably); everything else here is pure and works on `NetworkInterface` values that tests
build by hand. The GUI's host view and `main.py doctor` both use `addresses_to_share`.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Interface names of virtual adapters (containers, virtual machines, bridges); their
#: addresses are rarely what another PC on the LAN can reach.
_VIRTUAL_NAME = re.compile(
    r"^(docker|br-|veth|virbr|vmnet|vboxnet|lxc|lxd|cni|flannel|podman|vEthernet|VirtualBox|VMware)",
    re.IGNORECASE,
)
#: Interface names of VPN and overlay adapters.
_VPN_NAME = re.compile(
    r"^(tun|tap|wg|utun|ppp|ipsec|gpd|tailscale|zt|nordlynx|proton|mullvad)|vpn|wireguard|openvpn|"
    r"anyconnect|tap-windows|fortinet|globalprotect",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class InterfaceAddress:
    """One IPv4 or IPv6 address of an interface, without any %scope suffix."""

    address: str
    prefixlen: int

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return ipaddress.ip_address(self.address)

    @property
    def version(self) -> int:
        return self.ip.version

    @property
    def netmask(self) -> str:
        return str(ipaddress.ip_interface(f"{self.address}/{self.prefixlen}").netmask)

    @property
    def is_loopback(self) -> bool:
        return self.ip.is_loopback

    @property
    def is_link_local(self) -> bool:
        return self.ip.is_link_local

    def __str__(self) -> str:
        return f"{self.address}/{self.prefixlen}"


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    name: str
    index: int | None  # the OS interface index (IPv6 scope id); None when unknown
    is_up: bool
    is_loopback: bool
    addresses: tuple[InterfaceAddress, ...] = ()
    broadcast: bool = True  # the interface supports IPv4 broadcast
    multicast: bool = True

    @property
    def ipv4(self) -> tuple[InterfaceAddress, ...]:
        return tuple(a for a in self.addresses if a.version == 4)

    @property
    def ipv6(self) -> tuple[InterfaceAddress, ...]:
        return tuple(a for a in self.addresses if a.version == 6)

    @property
    def looks_virtual(self) -> bool:
        return bool(_VIRTUAL_NAME.search(self.name))

    @property
    def looks_vpn(self) -> bool:
        return bool(_VPN_NAME.search(self.name))


# --- reading the real interfaces ---------------------------------------------------------


def _prefixlen(address: str, netmask: str | None, version: int) -> int:
    """Prefix length from a netmask in any form psutil gives ("255.255.255.0", "ffff::", "64")."""
    full = 32 if version == 4 else 128
    if not netmask:
        return full
    if netmask.isdigit():
        return min(full, int(netmask))
    try:
        mask = int(ipaddress.ip_address(netmask.split("%", 1)[0]))
    except ValueError:
        return full
    if mask.bit_length() > full:
        return full
    bits = bin(mask)[2:].zfill(full)
    return len(bits) - len(bits.lstrip("1")) if "01" not in bits else full


def _index_of(name: str, addresses: list[str]) -> int | None:
    try:
        return socket.if_nametoindex(name)
    except (OSError, AttributeError):
        pass
    for address in addresses:  # Windows reports link-local addresses as fe80::1%12
        scope = address.partition("%")[2]
        if scope.isdigit():
            return int(scope)
    return None


def list_interfaces() -> list[NetworkInterface]:
    """The interfaces of this PC with their IPv4/IPv6 addresses and netmasks, sorted by name.

    Returns an empty list (and logs a warning) when the interfaces cannot be read; discovery
    then still uses the limited broadcast address.
    """
    try:
        import psutil

        all_addresses = psutil.net_if_addrs()
        all_stats = psutil.net_if_stats()
    except Exception as exc:  # psutil missing or the OS refused: discovery degrades, never fails
        log.warning("cannot list the network interfaces: %s", exc)
        return []
    interfaces = []
    for name in sorted(all_addresses):
        addresses: list[InterfaceAddress] = []
        raw_addresses: list[str] = []
        for entry in all_addresses[name]:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            raw_addresses.append(entry.address)
            address = entry.address.split("%", 1)[0]
            try:
                version = ipaddress.ip_address(address).version
            except ValueError:
                continue
            addresses.append(InterfaceAddress(address, _prefixlen(address, entry.netmask, version)))
        stats = all_stats.get(name)
        flags = set(getattr(stats, "flags", "").split(",")) - {""} if stats else set()
        all_loopback = bool(addresses) and all(a.is_loopback for a in addresses)
        interfaces.append(
            NetworkInterface(
                name=name,
                index=_index_of(name, raw_addresses),
                is_up=bool(stats.isup) if stats else True,
                is_loopback="loopback" in flags or all_loopback,
                addresses=tuple(addresses),
                broadcast="broadcast" in flags if flags else True,
                multicast="multicast" in flags if flags else True,
            )
        )
    return interfaces


# --- which addresses to give to others ---------------------------------------------------


def _address_rank(address: InterfaceAddress) -> int:
    ip = address.ip
    if ip.version == 4:
        if ip.is_link_local:
            return 3  # 169.254.x.x: no DHCP server answered; works only cable-to-cable
        if ip in ipaddress.ip_network("100.64.0.0/10"):
            return 1  # carrier-grade NAT / overlay networks
        return 0 if ip.is_private else 2
    return 4 if ip.is_private else 5  # IPv6 unique-local before global


def addresses_to_share(interfaces: list[NetworkInterface]) -> list[str]:
    """Addresses another PC on the LAN can most likely reach this one at, best first.

    Loopback, interfaces that are down, and IPv6 link-local addresses (useless without the
    reader's own interface name) are left out. Physical adapters come before virtual and
    VPN ones; IPv4 before IPv6; private LAN ranges before public ones; 169.254.x.x last.
    """
    ranked: list[tuple[int, int, int, str]] = []
    for position, interface in enumerate(interfaces):
        if not interface.is_up or interface.is_loopback:
            continue
        kind = 2 if interface.looks_vpn else 1 if interface.looks_virtual else 0
        for address in interface.addresses:
            if address.is_loopback or (address.version == 6 and address.is_link_local):
                continue
            ranked.append((kind, _address_rank(address), position, address.address))
    shared: list[str] = []
    for *_, text in sorted(ranked):
        if text not in shared:
            shared.append(text)
    return shared
