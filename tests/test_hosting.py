"""Hosts made discoverable: a real TCP host, a UDP host through the handler contract, port clash."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from hosting import start_discoverable_host
from net.api import ClientConfig, HostConfig, HostStartError, HostStopped, Transport
from net.paths import identity_dir
from net.room import RoomConfig
from net.secure.identity import KEY_FILE, room_code
from net.transports import make_client
from tests.discovery import conftest as live_discovery
from tests.discovery.conftest import Discovery, FakeUdpChatHost, free_chat_port
from tests.helpers import wait_until
from tests.identity import secure

#: The live-discovery fixture of tests/discovery: loopback announcers and browsers, all stopped after.
discovery = live_discovery.discovery
#: A room key for hosts whose installation identity does not matter to the test.
FINGERPRINT = bytes.fromhex("7f3a91c24b8de01f2a6c" + "00" * 22)


def listed(browser) -> dict[str, tuple]:
    return {c.info.room: (c.transport, c.port, c.info.members) for c in browser.snapshot()}


def test_tcp_host_is_found_and_its_member_count_follows(
    discovery: Discovery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LANCHAT_CONFIG_DIR", str(tmp_path))
    port = free_chat_port("tcp")
    config = HostConfig(port=port, bind="127.0.0.1", room=RoomConfig(name="Real TCP"), **secure({}))
    caplog.set_level("INFO", logger="hosting")
    host = start_discoverable_host(
        "tcp", config, port_given=True, nick="boss", interval=0.3, announce_port=discovery.announce_port
    )
    client = None
    try:
        # Without a fingerprint given, the room's key is the host's identity's.
        identity = config.identity
        assert identity is not None
        assert host.fingerprint == identity.fingerprint and host.code == identity.code
        assert f"room code {identity.code}" in caplog.text
        browser, _ = discovery.browser([port])
        wait_until(lambda: listed(browser).get("Real TCP") == (Transport.TCP, port, 0), message="listed")
        assert browser.snapshot()[0].info.nick == "boss"
        assert browser.snapshot()[0].info.host_id == host.host_id
        assert browser.snapshot()[0].info.key == identity.fingerprint
        assert browser.snapshot()[0].code == identity.code
        client = make_client(
            "tcp", ClientConfig(host="127.0.0.1", port=port, nick="zed"), on_event=lambda e: None
        )
        client.start()
        wait_until(lambda: listed(browser)["Real TCP"][2] == 1, message="member count 1")
    finally:
        if client is not None:
            client.close()
        host.stop()
    wait_until(lambda: "Real TCP" not in listed(browser), timeout=2.0, message="goodbye on stop")


class FakeUdpHost:
    """A UDP host as far as discovery cares: owns the chat port, has a ``discovery_handler``."""

    def __init__(self, config: HostConfig) -> None:
        self.config = config
        self.member_count = 7
        self.discovery_handler = None
        self.chat_socket: FakeUdpChatHost | None = None
        self.stopped = False

    @property
    def port(self) -> int:
        return self.config.port

    def start(self) -> None:
        self.chat_socket = FakeUdpChatHost(self.config.port, lambda *args: self.discovery_handler(*args))

    def stop(self, reason: str = "") -> None:
        self.stopped = True
        if self.chat_socket is not None:
            self.chat_socket.close()


def test_udp_host_answers_probes_through_its_chat_socket(discovery: Discovery) -> None:
    port = free_chat_port("udp")
    built: list[FakeUdpHost] = []

    def make(transport, config, on_event):
        built.append(FakeUdpHost(config))
        return built[-1]

    config = HostConfig(
        port=port, bind="127.0.0.1", room=RoomConfig(name="Real UDP", password="pw"), **secure({})
    )
    host = start_discoverable_host(
        "udp",
        config,
        port_given=False,
        make_host=make,
        fingerprint=FINGERPRINT,
        interval=30.0,
        announce_port=discovery.announce_port,
    )
    try:
        assert built[0].discovery_handler is not None
        # Not listening for announcements: only the probe answer from the chat socket counts.
        browser, _ = discovery.browser([port], listen=False)
        wait_until(lambda: listed(browser).get("Real UDP") == (Transport.UDP, port, 7), message="answered")
        assert browser.snapshot()[0].info.password is True
        assert browser.snapshot()[0].code == room_code(FINGERPRINT) == "7F3A-91C2-4B8D-E01F-2A6C"
    finally:
        host.stop()
    assert built[0].stopped


def test_an_unusable_identity_stops_hosting_before_any_port_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANCHAT_CONFIG_DIR", str(tmp_path))
    identity_dir(tmp_path).mkdir()
    (identity_dir(tmp_path) / KEY_FILE).write_text("not a key")
    built: list = []
    config = HostConfig(port=free_chat_port("tcp"), bind="127.0.0.1", room=RoomConfig(name="Nope"))
    with pytest.raises(HostStartError, match="identity"):
        start_discoverable_host("tcp", config, port_given=True, make_host=lambda *a: built.append(a))
    assert built == []


def test_taken_port_moves_to_the_next_unless_given(discovery: Discovery) -> None:
    port = free_chat_port("tcp")
    config = HostConfig(port=port, bind="127.0.0.1", room=RoomConfig(name="Second"), **secure({}))
    with socket.create_server(("127.0.0.1", port)):
        host = start_discoverable_host("tcp", config, port_given=False, announce_port=discovery.announce_port)
        try:
            assert host.port > port
            browser, _ = discovery.browser([port, host.port])
            wait_until(lambda: listed(browser).get("Second", (None, 0))[1] == host.port, message="found")
        finally:
            host.stop()
        with pytest.raises(HostStartError):
            start_discoverable_host("tcp", config, port_given=True, announce_port=discovery.announce_port)


def test_tcp_host_moves_on_when_its_udp_port_is_taken_in_a_race(discovery: Discovery) -> None:
    port = free_chat_port("tcp")
    squatters: list[socket.socket] = []
    hosts: list = []

    def make_racing(transport, config, on_event):
        from net.transports import make_host

        host = make_host(transport, config, on_event)
        real_start = host.start

        def start() -> None:
            real_start()
            if config.port == port:  # a UDP host on this PC grabs the UDP port just now
                squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                squatter.bind(("127.0.0.1", port))
                squatters.append(squatter)

        host.start = start
        hosts.append(host)
        return host

    config = HostConfig(port=port, bind="127.0.0.1", room=RoomConfig(name="Racer"), **secure({}))
    events: list = []
    try:
        host = start_discoverable_host(
            "tcp",
            config,
            events.append,
            port_given=False,
            make_host=make_racing,
            fingerprint=FINGERPRINT,
            announce_port=discovery.announce_port,
        )
        try:
            assert host.port > port and host.announcer.responding
            assert len(hosts) == 2
            # The host given up on stopped (its threads are joined): the caller, which treats
            # HostStopped as the end of its host (`main.py host` exits), must not hear of it.
            assert not [event for event in events if isinstance(event, HostStopped)]
            with socket.socket() as probe:  # the first host was stopped: its TCP port is free again
                probe.bind(("127.0.0.1", port))
        finally:
            host.stop()
    finally:
        for squatter in squatters:
            squatter.close()


def test_real_udp_host_answers_probes_on_its_chat_port(discovery: Discovery) -> None:
    pytest.importorskip("net.udp.host", reason="the UDP host is not built yet")
    port = free_chat_port("udp")
    config = HostConfig(port=port, bind="", room=RoomConfig(name="Real UDP host"), **secure({}))
    host = start_discoverable_host("udp", config, port_given=True, announce_port=discovery.announce_port)
    try:
        browser, _ = discovery.browser([port], listen=False)  # answers only, no announcements
        wait_until(
            lambda: listed(browser).get("Real UDP host") == (Transport.UDP, port, 0), message="answered"
        )
        assert browser.snapshot()[0].address == "127.0.0.1"
    finally:
        host.stop()
    wait_until(lambda: "Real UDP host" not in listed(browser), timeout=2.0, message="goodbye on stop")
