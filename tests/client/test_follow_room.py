"""A member follows its room, known by its key, when the host comes back on the other
transport (issue 15.6): real hosts on 127.0.0.1, discovery confined to loopback."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hosting import DiscoverableHost, start_discoverable_host
from net.api import (
    ClientConfig,
    ClientState,
    Delivered,
    HostConfig,
    RoomMoved,
    StateChanged,
    Transport,
)
from net.protocol import events as ev
from net.room import RoomConfig
from net.secure.identity import Identity, load_or_create_identity
from net.transports import make_client
from tests.client.conftest import Recorder
from tests.helpers import wait_until
from tests.identity import session_identity

TCP, UDP = Transport.TCP, Transport.UDP


def port_free_for_both() -> int:
    """A port free for TCP and UDP on 127.0.0.1 (a host of either transport may take it)."""
    for _ in range(50):
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no port free for both TCP and UDP")


@pytest.fixture
def hosts() -> Iterator[Callable[..., DiscoverableHost]]:
    """Discoverable hosts on 127.0.0.1 (announced and answering probes), stopped at the end."""
    running: list[DiscoverableHost] = []

    def start(transport: Transport, port: int, identity: Identity | None = None) -> DiscoverableHost:
        config = HostConfig(
            port=port,
            bind="127.0.0.1",
            room=RoomConfig(name="Moving room"),
            identity=identity or session_identity(),
        )
        host = start_discoverable_host(transport, config, port_given=True, nick="hank")
        running.append(host)
        return host

    try:
        yield start
    finally:
        for host in running:
            host.stop()


@pytest.fixture
def member() -> Iterator[Callable[..., tuple[object, Recorder]]]:
    clients = []

    def join(transport: Transport, port: int) -> tuple[object, Recorder]:
        recorder = Recorder()
        config = ClientConfig(
            "127.0.0.1", port, nick="mia", follow_room=True, backoff=(0.2, 0.5), connect_timeout=1.0
        )
        client = make_client(transport, config, recorder)
        client.start()
        clients.append(client)
        return client, recorder

    try:
        yield join
    finally:
        for client in clients:
            client.close()


@pytest.mark.parametrize(("first", "then"), [(TCP, UDP), (UDP, TCP)])
def test_a_member_follows_its_room_to_the_other_transport(hosts, member, first, then) -> None:
    port = port_free_for_both()
    host = hosts(first, port)
    client, events = member(first, port)
    wait_until(lambda: events.of(ev.Welcome), message="the first welcome")

    host.stop()  # the host restarts on the other transport, same address, same key
    restarted = hosts(then, port)
    moved = wait_until(lambda: events.of(RoomMoved), timeout=15, message="the member to follow the room")
    assert moved == [RoomMoved(then, "127.0.0.1", port)]
    wait_until(lambda: len(events.of(ev.Welcome)) == 2, timeout=10, message="the welcome at the new place")
    assert client.state is ClientState.CONNECTED
    assert client.address == f"127.0.0.1:{port}"
    assert restarted.member_count == 1

    local_id = client.send_message("still here")  # the same session goes on over the new transport
    wait_until(lambda: any(d.local_id == local_id for d in events.of(Delivered)), message="delivery")


def test_a_member_does_not_follow_another_key_with_the_room_name(hosts, member, tmp_path: Path) -> None:
    """Only the room's key is its identity: a chat of the same name under another key at the
    same address is not followed (nor joined)."""
    port = port_free_for_both()
    host = hosts(TCP, port)
    client, events = member(TCP, port)
    wait_until(lambda: events.of(ev.Welcome), message="the first welcome")

    host.stop()
    impostor = hosts(UDP, port, load_or_create_identity(tmp_path / "another-pc"))

    def failed_attempts() -> int:
        return sum(1 for e in events.of(StateChanged) if e.state is ClientState.RECONNECTING)

    before = failed_attempts()
    # Each failed attempt is followed by a look (a second at least) that finds only the impostor.
    wait_until(lambda: failed_attempts() >= before + 3, timeout=15, message="three more attempts")
    assert not events.of(RoomMoved)
    assert client.state is ClientState.RECONNECTING
    assert client.address == f"127.0.0.1:{port}"
    assert impostor.member_count == 0
