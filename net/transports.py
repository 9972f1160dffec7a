"""Building a host or client for the chosen transport: the one place TCP and UDP differ."""

from __future__ import annotations

from typing import TYPE_CHECKING

from net.api import ChatClient, ChatHost, ClientConfig, EventSink, HostConfig, Transport

if TYPE_CHECKING:
    from net.client.threaded import ThreadedClient


def make_host(transport: Transport | str, config: HostConfig, on_event: EventSink | None = None) -> ChatHost:
    """A host (not started yet) serving `config` over `transport`."""
    transport = Transport(transport)
    if transport is Transport.TCP:
        from net.tcp.host import TcpHost

        return TcpHost(config, on_event=on_event)
    from net.udp.host import UdpHost

    return UdpHost(config, on_event=on_event)


def client_class(transport: Transport | str) -> type[ThreadedClient]:
    """The client class of `transport` (a client that follows its room uses both)."""
    if Transport(transport) is Transport.TCP:
        from net.tcp.client import TcpClient

        return TcpClient
    from net.udp.client import UdpClient

    return UdpClient


def make_client(transport: Transport | str, config: ClientConfig, on_event: EventSink) -> ChatClient:
    """A client (not started yet) for `config` over `transport`."""
    return client_class(transport)(config, on_event=on_event)
