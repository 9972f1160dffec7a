"""Hand-built interfaces and a recording socket for the discovery tests."""

from __future__ import annotations

import socket

from net.discovery.interfaces import InterfaceAddress, NetworkInterface


def interface(
    name: str, *addresses: str, index: int | None = 2, up: bool = True, **flags: bool
) -> NetworkInterface:
    """`addresses` as "192.168.1.5/24" or "fe80::1/64"."""
    parsed = []
    for text in addresses:
        address, _, prefix = text.partition("/")
        parsed.append(InterfaceAddress(address, int(prefix)))
    loopback = all(InterfaceAddress(a.address, 0).is_loopback for a in parsed) if parsed else False
    return NetworkInterface(
        name=name,
        index=index,
        is_up=up,
        is_loopback=flags.pop("loopback", loopback),
        addresses=tuple(parsed),
        **flags,
    )


LOOPBACK = interface("lo", "127.0.0.1/8", "::1/128", index=1)
ETH = interface("eth0", "192.168.1.5/24", "fe80::1234/64", "2001:db8::5/64", index=2)
WIFI = interface("wlan0", "10.20.30.40/16", "fe80::abcd/64", index=3)
DOCKER = interface("docker0", "172.17.0.1/16", index=4)
VPN = interface("wg0", "10.99.0.2/32", index=5, broadcast=False)
DOWN = interface("eth1", "192.168.9.9/24", "fe80::9/64", index=6, up=False)
ALL = [LOOPBACK, ETH, WIFI, DOCKER, VPN, DOWN]


class RecordingSocket:
    """Stands in for a UDP socket: records what would have been sent."""

    family = socket.AF_INET

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple]] = []

    def sendto(self, data: bytes, address: tuple) -> int:
        self.sent.append((data, address))
        return len(data)
