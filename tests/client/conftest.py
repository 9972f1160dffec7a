"""Fixtures for client tests: a real TCP host on a free loopback port, clients that always close."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from net.api import ClientConfig, HostConfig
from net.room import RoomConfig
from net.tcp.client import TcpClient
from net.tcp.host import TcpHost
from tests.identity import secure


class Recorder:
    """Collects a client's events (thread-safe append) for assertions."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: type) -> list:
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def host() -> Iterator[TcpHost]:
    server = TcpHost(
        HostConfig(port=0, bind="127.0.0.1", room=RoomConfig(name="lab", rate_per_second=0), **secure({}))
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_client() -> Iterator:
    clients: list[TcpClient] = []

    def make(port: int, nick: str, **config) -> tuple[TcpClient, Recorder]:
        recorder = Recorder()
        client = TcpClient(ClientConfig(host="127.0.0.1", port=port, nick=nick, **config), recorder)
        clients.append(client)
        client.start()
        return client, recorder

    try:
        yield make
    finally:
        for client in clients:
            client.close()
