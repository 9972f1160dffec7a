"""The interface model, reading the real interfaces, and which addresses to share."""

from __future__ import annotations

import pytest

from net.discovery.interfaces import InterfaceAddress, _prefixlen, addresses_to_share, list_interfaces
from tests.discovery.fakes import ALL, DOCKER, ETH, LOOPBACK, VPN, WIFI, interface


@pytest.mark.parametrize(
    ("address", "netmask", "expected"),
    [
        ("192.168.1.5", "255.255.255.0", 24),
        ("10.0.0.1", "255.0.0.0", 8),
        ("10.0.0.1", "255.255.255.252", 30),
        ("10.0.0.1", "255.255.255.255", 32),
        ("10.0.0.1", None, 32),
        ("10.0.0.1", "255.0.255.0", 32),  # not contiguous: treated as a host
        ("fe80::1", "ffff:ffff:ffff:ffff::", 64),
        ("fe80::1", "64", 64),
        ("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128),
    ],
)
def test_prefix_length_from_any_netmask_form(address: str, netmask: str | None, expected: int) -> None:
    version = 6 if ":" in address else 4
    assert _prefixlen(address, netmask, version) == expected


def test_address_properties() -> None:
    address = InterfaceAddress("192.168.1.5", 23)
    assert address.netmask == "255.255.254.0"
    assert str(address) == "192.168.1.5/23"
    assert InterfaceAddress("fe80::1", 64).is_link_local
    assert InterfaceAddress("::1", 128).is_loopback


def test_vpn_and_virtual_names() -> None:
    assert VPN.looks_vpn and not VPN.looks_virtual
    assert DOCKER.looks_virtual and not DOCKER.looks_vpn
    assert not ETH.looks_vpn and not ETH.looks_virtual
    assert interface("Ethernet 2 (OpenVPN Connect)", "10.8.0.2/24").looks_vpn
    assert interface("vEthernet (WSL)", "172.20.0.1/20").looks_virtual


def test_addresses_to_share_best_first() -> None:
    link_local_only = interface("eth5", "169.254.3.4/16", index=8)
    public = interface("eth6", "203.0.113.9/24", index=9)
    shared = addresses_to_share([*ALL, link_local_only, public])
    assert shared == [
        "192.168.1.5",  # physical, private IPv4
        "10.20.30.40",
        "203.0.113.9",  # physical, public IPv4
        "169.254.3.4",  # physical, no DHCP
        "2001:db8::5",  # IPv6 after IPv4 (2001:db8:: is documentation space, counted as private)
        "172.17.0.1",  # virtual (docker) after every physical address
        "10.99.0.2",  # VPN last
    ]
    assert "127.0.0.1" not in shared and "::1" not in shared  # loopback left out
    assert not any(a.startswith("fe80") for a in shared)  # link-local IPv6 left out
    assert "192.168.9.9" not in shared  # interface down


def test_nothing_to_share_without_a_lan() -> None:
    assert addresses_to_share([LOOPBACK]) == []
    assert addresses_to_share([]) == []
    assert addresses_to_share([WIFI, WIFI]) == ["10.20.30.40"]


def test_real_interfaces_include_loopback() -> None:
    interfaces = list_interfaces()
    loopbacks = [i for i in interfaces if i.is_loopback]
    assert loopbacks, interfaces
    assert any(a.address == "127.0.0.1" and a.prefixlen == 8 for i in loopbacks for a in i.addresses)
    for item in interfaces:
        for address in item.addresses:
            assert "%" not in address.address
            assert 0 <= address.prefixlen <= (32 if address.version == 4 else 128)


def test_unreadable_interfaces_degrade_to_an_empty_list(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    import psutil

    def refuse() -> dict:
        raise PermissionError("denied")

    monkeypatch.setattr(psutil, "net_if_addrs", refuse)
    assert list_interfaces() == []
    assert "cannot list the network interfaces" in caplog.text
