"""Announcers and browsers talking over loopback for real: find, update, lose, survive garbage."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from net.api import Transport
from net.discovery import Announcer, ChatLost, discover, parse_probe_target
from net.discovery.wire import Probe, decode_datagram, encode_datagram
from tests.discovery.conftest import Discovery, free_chat_port
from tests.helpers import wait_until


def rooms(browser) -> dict[str, tuple]:
    return {c.info.room: (c.transport, c.port, c.info.members, c.address) for c in browser.snapshot()}


def test_browser_lists_a_tcp_and_a_udp_host_then_loses_them(discovery: Discovery) -> None:
    tcp_port = free_chat_port("tcp")
    udp_port = free_chat_port("udp", tcp_port + 1)
    tcp_room = discovery.room("Lobby", Transport.TCP, tcp_port, members=2)
    udp_room = discovery.room("Attic", Transport.UDP, udp_port, members=5)
    tcp_announcer = discovery.announcer(tcp_room)
    udp_announcer = discovery.announcer(udp_room, respond=False)  # answers through the chat socket
    assert tcp_announcer.responding and udp_announcer.responding
    browser, events = discovery.browser([tcp_port, udp_port])

    found = wait_until(lambda: len(rooms(browser)) == 2 and rooms(browser), message="both chats listed")
    assert found == {
        "Lobby": (Transport.TCP, tcp_port, 2, "127.0.0.1"),
        "Attic": (Transport.UDP, udp_port, 5, "127.0.0.1"),
    }
    (lobby,) = [c for c in browser.snapshot() if c.info.room == "Lobby"]
    assert lobby.info.nick == "nick-Lobby"
    assert lobby.info.ttl == pytest.approx(3 * 0.2 + 1.0)

    # A member joins: the list shows it without waiting for the next round of probes.
    tcp_room["members"] = 3
    wait_until(lambda: rooms(browser)["Lobby"][2] == 3, message="member count updated")

    # Stopping with a goodbye removes the chat at once.
    started = time.monotonic()
    tcp_announcer.stop()
    wait_until(lambda: "Lobby" not in rooms(browser), timeout=1.0, message="goodbye")
    assert time.monotonic() - started < 1.0
    assert any(isinstance(e, ChatLost) and e.reason == "goodbye" for e in events)

    # A host that vanishes without a word disappears once its announced ttl has passed.
    ttl = browser.snapshot()[0].info.ttl
    started = time.monotonic()
    udp_announcer.stop(goodbye=False)
    wait_until(lambda: not rooms(browser), timeout=ttl + 2.0, message="expiry")
    assert time.monotonic() - started <= ttl + 1.0
    assert any(isinstance(e, ChatLost) and e.reason == "expired" for e in events)


def test_discover_function_probes_given_ports(discovery: Discovery) -> None:
    port = free_chat_port("tcp")
    discovery.announcer(discovery.room("Porch", Transport.TCP, port, members=1))
    chats = discover(1.0, probe_ports=[port], listen_port=discovery.announce_port)
    assert [(c.info.room, c.port, c.transport) for c in chats] == [("Porch", port, Transport.TCP)]
    # An explicit ADDR:PORT target finds it too, with the default probe range elsewhere.
    chats = discover(0.6, [parse_probe_target(f"127.0.0.1:{port}")], listen_port=discovery.announce_port)
    assert "Porch" in [c.info.room for c in chats]


def test_garbage_at_the_responder_leaves_it_serving(discovery: Discovery) -> None:
    port = free_chat_port("tcp")
    discovery.announcer(discovery.room("Sturdy", Transport.TCP, port))
    garbage = [
        b"",
        b"\x00",
        os.urandom(1500),
        b"x" * 65000,
        b"LANCHAT/DISCOVERY\n{",
        b"LANCHAT/DISCOVERY\n" + b"[" * 1000,
        b'LANCHAT/DISCOVERY\n{"v":1,"type":"probe","id":"bad id"}',
        b'LANCHAT/DISCOVERY\n{"v":1,"type":"goodbye","host_id":"x","transport":"tcp","port":1}',
        b"LCUD\x01\x01\x00\x00" + os.urandom(40),
        b"GET / HTTP/1.1\r\n\r\n",
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as prober:
        prober.settimeout(0.2)
        for _ in range(20):
            for data in garbage:
                prober.sendto(data, ("127.0.0.1", port))
        # The garbage may have filled the responder's receive buffer and pushed a probe out,
        # as on a real network: probe again until answered, as browsers do.
        deadline = time.monotonic() + 5
        answer = None
        while answer is None and time.monotonic() < deadline:
            prober.sendto(encode_datagram(Probe("after-garbage")), ("127.0.0.1", port))
            try:
                while answer is None:
                    message = decode_datagram(prober.recvfrom(65535)[0])
                    if getattr(message, "answer_to", None) == "after-garbage":
                        answer = message
            except TimeoutError:
                continue
    assert answer is not None and answer.info.room == "Sturdy"


def test_udp_host_handler_ignores_garbage_and_answers_probes(discovery: Discovery) -> None:
    port = free_chat_port("udp")
    announcer = discovery.announcer(discovery.room("Fed", Transport.UDP, port), respond=False)
    for data in (
        b"",
        b"GET /",
        b"LANCHAT/DISCOVERY\nnope",
        b"LANCHAT/DISCOVERY\n" + b"x" * 5000,
        os.urandom(100),
    ):
        assert announcer.answer_now(data, ("127.0.0.1", 9)) is None
    answer = announcer.answer_now(encode_datagram(Probe("ok")), ("127.0.0.1", 9))
    assert answer is not None
    message = decode_datagram(answer)
    assert message.answer_to == "ok" and message.info.room == "Fed" and message.info.port == port
    assert announcer.answer_now(encode_datagram(Probe("ok")), ("127.0.0.1", 9)) is None  # a repeat


def test_udp_host_handler_never_answers_beyond_loopback(discovery: Discovery, caplog) -> None:
    port = free_chat_port("udp")
    announcer = discovery.announcer(discovery.room("Guarded", Transport.UDP, port), respond=False)
    assert announcer.answer_now(encode_datagram(Probe("lan")), ("192.168.1.50", 47800)) is None
    assert "refused" in caplog.text


def test_responder_port_taken_still_announces(discovery: Discovery, caplog) -> None:
    port = free_chat_port("udp")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", port))
        announcer = discovery.announcer(discovery.room("Crowded", Transport.TCP, port))
        assert not announcer.responding
        assert "cannot answer probes" in caplog.text
        browser, _ = discovery.browser([port])  # the probe finds nothing; the announcement does
        wait_until(lambda: "Crowded" in rooms(browser), message="announced chat listed")


def test_stop_joins_threads_and_closes_sockets(discovery: Discovery) -> None:
    port = free_chat_port("tcp")
    announcer = discovery.announcer(discovery.room("Brief", Transport.TCP, port))
    browser, _ = discovery.browser([port])
    wait_until(lambda: browser.snapshot(), message="found")
    started = time.monotonic()
    browser.stop()
    announcer.stop()
    assert time.monotonic() - started < 2.0
    names = [t.name for t in threading.enumerate()]
    assert not any(n.startswith(("discovery-announcer", "discovery-browser")) for n in names), names
    assert all(s.fileno() == -1 for s in (*announcer._responders, *announcer._senders))
    assert all(s.fileno() == -1 for s in (*browser._senders, *browser._listeners))
    # The port is free again for the next host.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))


def test_stop_before_start_is_harmless() -> None:
    Announcer(lambda: None).stop()  # type: ignore[arg-type, return-value]


def test_refresh_and_extra_targets(discovery: Discovery) -> None:
    port = free_chat_port("tcp")
    discovery.announcer(discovery.room("Later", Transport.TCP, port))
    browser, _ = discovery.browser([], probe_interval=30.0, broadcast_probe_interval=30.0, listen=False)
    assert browser.probes_sent == 0  # no probe ports, no targets, not listening: nothing to find
    assert browser.snapshot() == []
    browser.set_extra_targets([parse_probe_target(f"127.0.0.1:{port}")])
    wait_until(lambda: browser.snapshot(), message="found after adding the target")
    sent = browser.probes_sent
    browser.refresh()
    wait_until(lambda: browser.probes_sent > sent, message="refresh probes again")
