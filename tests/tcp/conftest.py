"""Fixtures for the TCP host tests: hosts on 127.0.0.1 port 0 and test clients, always cleaned up."""

from __future__ import annotations

import pytest

from net.api import HostConfig
from net.room import RoomConfig
from net.tcp.host import TcpHost
from net.tcp.tuning import HostTuning
from tests.identity import secure
from tests.tcp.rawclient import RawClient, TextClient


@pytest.fixture
def start_host():
    """start_host(room=RoomConfig(...), tuning=..., **HostConfig fields) -> a started TcpHost."""
    hosts: list[TcpHost] = []

    def start(*, room: RoomConfig | None = None, tuning: HostTuning | None = None, events=None, **config):
        config = secure({"port": 0, "bind": "127.0.0.1", **config})
        host_config = HostConfig(room=room or RoomConfig(), **config)
        host = TcpHost(host_config, on_event=None if events is None else events.append, tuning=tuning)
        host.start()
        hosts.append(host)
        return host

    try:
        yield start
    finally:
        for host in hosts:
            host.stop()


@pytest.fixture
def connect():
    """connect(port, nick=None, text=False, **socket options) -> a client (joined when nick is given)."""
    clients: list = []

    def open_client(port: int, nick: str | None = None, *, text: bool = False, **options):
        client = (TextClient if text else RawClient)(port, **options)
        clients.append(client)
        if nick is not None and not text:
            client.join(nick)
        return client

    try:
        yield open_client
    finally:
        for client in clients:
            client.close()
