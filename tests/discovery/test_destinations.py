"""Where discovery datagrams would go: computed, never sent (tests only ever send to loopback)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from net.discovery.destinations import (
    IPV6_DISCOVERY_GROUP,
    LIMITED_BROADCAST,
    LOOPBACK_ENV,
    directed_broadcast,
    directed_broadcasts,
    ipv6_multicast_scopes,
    loopback_only,
    parse_probe_target,
    plan_destinations,
    send_datagram,
    unmapped,
)
from tests.discovery.fakes import ALL, DOWN, ETH, LOOPBACK, VPN, WIFI, RecordingSocket, interface


@pytest.mark.parametrize(
    ("address", "netmask", "expected"),
    [
        ("10.1.2.3", "255.0.0.0", "10.255.255.255"),  # /8
        ("10.1.2.3", 8, "10.255.255.255"),
        ("172.16.5.4", "255.255.0.0", "172.16.255.255"),  # /16
        ("192.168.1.77", "255.255.255.0", "192.168.1.255"),  # /24
        ("192.168.1.77", 24, "192.168.1.255"),
        ("192.168.1.77", "255.255.254.0", "192.168.1.255"),  # /23
        ("192.168.0.77", "255.255.254.0", "192.168.1.255"),
        ("192.168.1.130", "255.255.255.128", "192.168.1.255"),  # /25 upper half
        ("192.168.1.5", "255.255.255.128", "192.168.1.127"),  # /25 lower half
        ("192.168.1.5", "255.255.255.252", "192.168.1.7"),  # /30
        ("192.168.1.4", 30, "192.168.1.7"),
        ("169.254.10.20", 16, "169.254.255.255"),  # link-local still has a broadcast
        ("100.64.3.4", 10, "100.127.255.255"),
        ("192.168.1.4", "255.255.255.254", None),  # /31 point-to-point: no broadcast (RFC 3021)
        ("192.168.1.5", 31, None),
        ("192.168.1.5", "255.255.255.255", None),  # /32 host route
        ("127.0.0.1", 8, None),  # loopback never
        ("0.0.0.0", 0, "255.255.255.255"),
    ],
)
def test_directed_broadcast(address: str, netmask: str | int, expected: str | None) -> None:
    assert directed_broadcast(address, netmask) == expected


def test_directed_broadcasts_skip_loopback_down_and_non_broadcast_interfaces() -> None:
    assert directed_broadcasts(ALL) == ["192.168.1.255", "10.20.255.255", "172.17.255.255"]


def test_ipv6_group_is_link_local_multicast() -> None:
    group = ipaddress.ip_address(IPV6_DISCOVERY_GROUP)
    assert group.is_multicast
    assert group.version == 6
    assert (int(group) >> 112) & 0xF == 2  # scope nibble 2: link-local, never routed
    assert group != ipaddress.ip_address("ff02::1")  # not all-nodes: only LanChat listeners join it


def test_ipv6_group_interfaces_are_up_multicast_non_loopback_with_ipv6() -> None:
    no_multicast = interface("eth9", "fe80::5/64", index=9, multicast=False)
    no_index = interface("eth8", "fe80::6/64", index=None)
    ipv4_only = interface("eth7", "192.168.7.1/24", index=7)
    duplicate = interface("eth0:1", "fe80::7/64", index=ETH.index)
    assert ipv6_multicast_scopes([*ALL, no_multicast, no_index, ipv4_only, duplicate]) == [2, 3]
    assert ipv6_multicast_scopes([LOOPBACK, DOWN]) == []


@pytest.fixture
def lan_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production destination planning, for computing only: nothing is sent in these tests."""
    monkeypatch.delenv(LOOPBACK_ENV, raising=False)


@pytest.mark.usefixtures("lan_mode")
def test_production_plan_covers_every_interface() -> None:
    extra = [parse_probe_target("192.168.50.7:47900"), parse_probe_target("10.9.9.0/30")]
    planned = plan_destinations([47800, 47801], interfaces=ALL, extra=extra)
    by_kind: dict[str, set] = {}
    for destination in planned:
        by_kind.setdefault(destination.kind, set()).add(destination.sockaddr)
    assert by_kind["broadcast"] == {
        (host, port)
        for host in (LIMITED_BROADCAST, "192.168.1.255", "10.20.255.255", "172.17.255.255")
        for port in (47800, 47801)
    }
    assert by_kind["multicast"] == {
        (IPV6_DISCOVERY_GROUP, port, 0, scope) for scope in (ETH.index, WIFI.index) for port in (47800, 47801)
    }
    assert by_kind["unicast"] == {("192.168.50.7", 47900)} | {
        (f"10.9.9.{n}", port) for n in (1, 2) for port in (47800, 47801)
    }
    assert len(planned) == len({d.sockaddr for d in planned})  # no duplicates


@pytest.mark.usefixtures("lan_mode")
def test_production_plan_without_broadcast_has_only_extra_targets() -> None:
    planned = plan_destinations(
        [47800], interfaces=ALL, extra=[parse_probe_target("[fe80::1%2]:47802")], broadcast=False
    )
    assert [(d.sockaddr, d.kind) for d in planned] == [(("fe80::1", 47802, 0, 2), "unicast")]
    assert planned[0].family == socket.AF_INET6


def test_loopback_only_destinations_are_loopback_whatever_the_interfaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(LOOPBACK_ENV, "1")
    assert loopback_only()
    extra = [parse_probe_target(t) for t in ("192.168.50.7", "10.0.0.0/24", "127.0.0.1:50000", "[::1]:50001")]
    for broadcast in (True, False):
        planned = plan_destinations([47800, 47801], interfaces=ALL, extra=extra, broadcast=broadcast)
        hosts = {d.sockaddr[0] for d in planned}
        assert hosts == {"127.0.0.1", "::1"}
        assert {d.kind for d in planned} == {"unicast"}
        assert {d.sockaddr[1] for d in planned} == {47800, 47801, 50000, 50001}


def test_loopback_only_plan_never_reads_the_interfaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOOPBACK_ENV, "1")

    def forbidden() -> list:
        raise AssertionError("interfaces must not be consulted in loopback-only mode")

    monkeypatch.setattr("net.discovery.destinations.list_interfaces", forbidden)
    assert {d.sockaddr for d in plan_destinations([5])} == {("127.0.0.1", 5), ("::1", 5, 0, 0)}


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("yes", True), ("0", False), ("", False), ("off", False)]
)
def test_loopback_variable_values(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv(LOOPBACK_ENV, value)
    assert loopback_only() is expected


def test_the_test_suite_runs_loopback_only() -> None:
    assert loopback_only()


@pytest.mark.parametrize(
    "destination",
    [
        (LIMITED_BROADCAST, 47799),
        ("192.168.1.255", 47799),
        ("192.168.1.7", 47800),
        ("127.255.255.255", 47799),
        (IPV6_DISCOVERY_GROUP, 47799, 0, 2),
        ("fe80::1", 47800, 0, 2),
        ("ff02::1", 47800, 0, 0),
        ("::ffff:192.168.1.7", 47800, 0, 0),
        ("::ffff:255.255.255.255", 47800, 0, 0),
    ],
)
def test_send_refuses_non_loopback_destinations_in_loopback_mode(destination: tuple, caplog) -> None:
    fake = RecordingSocket()
    assert send_datagram(fake, b"x", destination) is False
    assert fake.sent == []
    sent_via_function: list = []
    assert send_datagram(lambda data, addr: sent_via_function.append(addr), b"x", destination) is False
    assert sent_via_function == []
    assert "refused" in caplog.text


def test_send_allows_loopback_destinations() -> None:
    fake = RecordingSocket()
    assert send_datagram(fake, b"x", ("127.0.0.1", 47800))
    assert send_datagram(fake, b"y", ("::1", 47800, 0, 0))
    assert send_datagram(fake, b"z", ("::ffff:127.0.0.1", 47800, 0, 0))  # from a dual-stack socket
    assert [addr[0] for _, addr in fake.sent] == ["127.0.0.1", "::1", "::ffff:127.0.0.1"]


def test_send_errors_are_not_raised() -> None:
    def broken(data: bytes, address: tuple) -> None:
        raise OSError("network is unreachable")

    assert send_datagram(broken, b"x", ("127.0.0.1", 1)) is False


@pytest.mark.parametrize(
    ("text", "shown", "addresses", "ports"),
    [
        ("192.168.1.7", "192.168.1.7", ["192.168.1.7"], None),
        (" 192.168.1.7:47805 ", "192.168.1.7:47805", ["192.168.1.7"], (47805,)),
        ("192.168.1.7:47800-47802", "192.168.1.7:47800-47802", ["192.168.1.7"], (47800, 47801, 47802)),
        ("10.0.5.0/30", "10.0.5.0/30", ["10.0.5.1", "10.0.5.2"], None),
        ("10.0.5.9/32", "10.0.5.9", ["10.0.5.9"], None),
        ("::1", "::1", ["::1"], None),
        ("[::1]:47801", "[::1]:47801", ["::1"], (47801,)),
        ("fe80::1%eth0", "fe80::1%eth0", ["fe80::1%eth0"], None),
        ("[fe80::1%eth0]:47800", "[fe80::1%eth0]:47800", ["fe80::1%eth0"], (47800,)),
    ],
)
def test_parse_probe_target(text: str, shown: str, addresses: list[str], ports: tuple | None) -> None:
    target = parse_probe_target(text)
    assert str(target) == shown
    assert target.addresses() == addresses
    assert target.ports == ports


@pytest.mark.parametrize(
    "text",
    [
        "",
        "example.com",
        "192.168.1.7:0",
        "192.168.1.7:x",
        "192.168.1.7:1-1000",
        "10.0.0.0/16",
        "[::1",
        "::1]:5",
    ],
)
def test_parse_probe_target_refuses_with_a_sentence(text: str) -> None:
    with pytest.raises(ValueError, match=r"\w+ \w+"):
        parse_probe_target(text)


def test_loopback_targets_are_recognised() -> None:
    assert parse_probe_target("127.0.0.1:5").is_loopback
    assert parse_probe_target("::1").is_loopback
    assert not parse_probe_target("127.0.0.0/30").is_loopback
    assert not parse_probe_target("192.168.1.1").is_loopback
    assert VPN.broadcast is False


def test_ipv4_mapped_socket_addresses_are_written_as_ipv4() -> None:
    assert unmapped(("::ffff:127.0.0.1", 5000, 0, 0)) == ("127.0.0.1", 5000)
    assert unmapped(("::ffff:192.168.1.5", 47800, 0, 0)) == ("192.168.1.5", 47800)
    for kept in (("::1", 5000, 0, 0), ("fe80::1%eth0", 1, 0, 2), ("127.0.0.1", 5000)):
        assert unmapped(kept) == kept
