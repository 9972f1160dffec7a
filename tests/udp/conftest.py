"""Fixtures for the UDP shell tests: hosts, clients and raw peers that are always cleaned up."""

from __future__ import annotations

import pytest

from net.api import ClientConfig, HostConfig
from net.room import RoomConfig
from net.udp.client import UdpClient
from net.udp.host import UdpHost
from tests.identity import secure
from tests.udp.rawpeer import RawPeer


class Chat:
    """Builds hosts, clients and raw peers for one test and closes them all at the end."""

    def __init__(self) -> None:
        self.hosts: list[UdpHost] = []
        self.clients: list[UdpClient] = []
        self.raw: list[RawPeer] = []
        self.host_events: list[object] = []
        self.events: dict[str, list[object]] = {}

    def host(self, *, port: int = 0, room: RoomConfig | None = None, tuning=None, **config) -> UdpHost:
        host = UdpHost(
            HostConfig(port=port, bind="127.0.0.1", room=room or RoomConfig(name="udp"), **secure(config)),
            on_event=self.host_events.append,
            tuning=tuning,
        )
        self.hosts.append(host)
        host.start()
        return host

    def client(self, port: int, nick: str, **config) -> UdpClient:
        events: list[object] = []
        self.events[nick] = events
        tuning = config.pop("tuning", None)
        client = UdpClient(
            ClientConfig(host="127.0.0.1", port=port, nick=nick, **config), events.append, tuning=tuning
        )
        self.clients.append(client)
        client.start()
        return client

    def raw_peer(self, port: int, **kwargs) -> RawPeer:
        peer = RawPeer(port, **kwargs)
        self.raw.append(peer)
        return peer

    def of_type(self, nick: str, kind: type) -> list:
        return [event for event in list(self.events[nick]) if isinstance(event, kind)]

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for host in self.hosts:
            host.stop()
        for peer in self.raw:
            peer.close()


@pytest.fixture
def chat():
    chat = Chat()
    try:
        yield chat
    finally:
        chat.close()
