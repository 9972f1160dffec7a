"""Finding the next free chat port: TCP hosts need TCP and UDP, UDP hosts need UDP."""

from __future__ import annotations

import socket

import pytest

from net.api import Transport
from net.ports import NoFreePortError, check_port, next_free_port
from tests.discovery.conftest import free_chat_port


def test_free_port_is_returned_unchanged() -> None:
    port = free_chat_port("tcp")
    assert next_free_port(Transport.TCP, port) == port
    assert check_port(port).free_for("tcp") and check_port(port).free_for("udp")


def test_tcp_listener_is_skipped_by_tcp_but_not_by_udp() -> None:
    port = free_chat_port("tcp")
    with socket.create_server(("", port)):
        assert check_port(port).tcp_error == "in use by another program"
        assert next_free_port("tcp", port) > port
        assert next_free_port("udp", port) == port


def test_tcp_host_also_needs_the_udp_port_for_its_responder() -> None:
    port = free_chat_port("tcp")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("", port))
        check = check_port(port)
        assert check.tcp_free and not check.udp_free
        assert next_free_port("tcp", port) > port
        assert next_free_port("udp", port) > port


def test_ipv6_only_holder_counts_as_taken() -> None:
    port = free_chat_port("udp")
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp6:
        udp6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        udp6.bind(("::", port))
        assert next_free_port("udp", port) > port


def test_no_free_port_in_range_says_so() -> None:
    port = free_chat_port("udp")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("", port))
        with pytest.raises(NoFreePortError, match=f"no free port from {port} to {port}"):
            next_free_port("udp", port, span=1)
