"""Listening-socket helpers: user-facing bind errors, socket options, address formatting."""

from __future__ import annotations

import errno
import os
import socket

import pytest

from net.addresses import format_sockaddr
from net.api import HostStartError
from net.socket_errors import describe_bind_error
from net.tcp.listener import configure_client_socket, open_listener


@pytest.mark.parametrize(
    ("code", "bind", "port", "expected"),
    [
        (errno.EADDRINUSE, "", 47800, "Port 47800 is already in use on this computer"),
        (errno.EACCES, "", 80, "Permission denied to listen on port 80 (ports below 1024 need administrator"),
        (errno.EACCES, "10.0.0.1", 5000, "Permission denied to listen on 10.0.0.1 port 5000; choose"),
        (errno.EADDRNOTAVAIL, "10.9.9.9", 5000, "The address 10.9.9.9 does not belong to this computer"),
        (errno.EINVAL, "", 5000, "Cannot listen on port 5000: Invalid argument."),
    ],
)
def test_bind_errors_are_sentences(code: int, bind: str, port: int, expected: str) -> None:
    sentence = describe_bind_error(OSError(code, os.strerror(code)), bind, port)
    assert sentence.startswith(expected)
    assert "\n" not in sentence


def test_accepted_sockets_get_nodelay_keepalive_and_the_send_buffer() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        with client, accepted:
            configure_client_socket(accepted, send_buffer=32 * 1024)
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
            assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) >= 32 * 1024
            if hasattr(socket, "TCP_KEEPIDLE"):
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 60


def test_addresses_are_formatted_for_logs() -> None:
    assert format_sockaddr(("127.0.0.1", 80)) == "127.0.0.1:80"
    assert format_sockaddr(("::1", 80, 0, 0)) == "[::1]:80"
    assert format_sockaddr(("::ffff:192.168.1.5", 4000, 0, 0)) == "192.168.1.5:4000"


@pytest.mark.parametrize(
    ("bind", "port", "expected"), [("", 70000, "not a port number"), ("a\0b", 0, "no such address")]
)
def test_impossible_settings_are_start_errors_not_crashes(bind: str, port: int, expected: str) -> None:
    with pytest.raises(HostStartError, match=expected):
        open_listener(bind, port)
