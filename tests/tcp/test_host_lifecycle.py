"""Starting and stopping the TCP host: bind errors, addresses, bye on stop, nothing left behind."""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time

import pytest

from net.api import HostConfig, HostStartError, HostStopped
from net.protocol import events as ev
from net.tcp import host as tcp_host
from net.tcp.host import TcpHost
from net.tcp.router import Router
from net.tcp.tuning import HostTuning
from tests.helpers import wait_until


def test_port_zero_reports_the_real_port_and_address(start_host, connect) -> None:
    host = start_host()
    assert host.port > 0
    assert host.addresses == [("127.0.0.1", host.port)]
    alice = connect(host.port, "alice")
    assert alice.nick == "alice"
    wait_until(lambda: host.member_count == 1, message="one member")


def test_two_members_chat_both_ways(start_host, connect) -> None:
    host = start_host()
    alice, bob = connect(host.port, "alice"), connect(host.port, "bob")
    alice.wait_for(lambda e: isinstance(e, ev.Joined) and e.nick == "bob", what="bob joined")
    message_id = alice.say("hello bob")
    ack = alice.wait_for(lambda e: isinstance(e, ev.Ack) and e.id == message_id, what="ack")
    got = bob.wait_for(lambda e: isinstance(e, ev.ChatMessage), what="alice's message")
    assert (got.sender, got.text, got.id) == ("alice", "hello bob", ack.msg_id)
    bob.say("hi alice")
    assert alice.wait_for(lambda e: isinstance(e, ev.ChatMessage)).text == "hi alice"


def test_ping_is_answered_before_and_after_joining(start_host, connect) -> None:
    host = start_host()
    client = connect(host.port)
    client.send(ev.Ping(token="early"))
    client.wait_for(lambda e: e == ev.Pong(token="early"), what="pong before hello")
    client.join("carol")
    client.send(ev.Ping(token="late"))
    client.wait_for(lambda e: e == ev.Pong(token="late"), what="pong after hello")


def test_port_in_use_is_a_clear_start_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        host = TcpHost(HostConfig(port=port, bind="127.0.0.1"))
        with pytest.raises(HostStartError, match=rf"Port {port} is already in use"):
            host.start()
        host.stop()


def test_address_of_another_computer_is_a_clear_start_error() -> None:
    host = TcpHost(HostConfig(port=0, bind="192.0.2.1"))  # TEST-NET-1: never local
    with pytest.raises(HostStartError, match="does not belong to this computer"):
        host.start()


def test_unknown_bind_name_is_a_clear_start_error(monkeypatch) -> None:
    # No real DNS lookup (the network rule): the resolver answers "no such name" as it would.
    looked_up: list[object] = []

    def no_such_host(host, *args, **kwargs):
        looked_up.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    host = TcpHost(HostConfig(port=0, bind="no-such-host.invalid"))
    with pytest.raises(HostStartError, match="no such address"):
        host.start()
    assert looked_up == ["no-such-host.invalid"]


def test_ipv6_loopback(start_host, connect) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        host = start_host(bind="::1")
    except HostStartError:
        pytest.skip("::1 is not configured here")
    client = connect(host.port, host="::1")
    assert client.join("ipv6").nick == "ipv6"


def test_stop_says_bye_joins_threads_and_frees_the_port(connect) -> None:
    threads_before = threading.active_count()
    stopped: list[object] = []
    host = TcpHost(HostConfig(port=0, bind="127.0.0.1"), on_event=stopped.append)
    host.start()
    port = host.port
    members = [connect(port, f"m{i}") for i in range(5)]
    silent = connect(port)  # connected, never said hello
    wait_until(lambda: host.member_count == 5, message="five members")
    # accept + router, however many connections
    assert threading.active_count() == threads_before + 2

    host.stop("maintenance")

    assert threading.active_count() == threads_before
    assert stopped == [HostStopped("maintenance")]
    for member in members:
        member.wait_closed()
        assert ev.Bye(reason="maintenance", cause="stopped") in member.events
    silent.wait_closed()
    with socket.create_server(("127.0.0.1", port)):
        pass  # the port is free again
    host.stop()  # idempotent


def test_stop_within_two_seconds_even_with_a_member_that_does_not_read(connect) -> None:
    host = TcpHost(HostConfig(port=0, bind="127.0.0.1"))
    host.start()
    stuck = connect(host.port, "stuck", rcvbuf=4096)
    talker = connect(host.port, "talker")
    for i in range(300):
        talker.say(f"filler {i} " + "x" * 200)
    start = time.monotonic()
    host.stop()
    assert time.monotonic() - start < 2.0
    stuck.close()


def test_a_host_cannot_be_started_twice(start_host) -> None:
    host = start_host()
    with pytest.raises(HostStartError):
        host.start()


@pytest.mark.allow_error_logs
def test_a_failing_router_stops_the_host_and_reports_it(connect, monkeypatch) -> None:
    events: list[object] = []
    host = TcpHost(HostConfig(port=0, bind="127.0.0.1"), on_event=events.append)
    host.start()
    try:
        member = connect(host.port, "member")

        def broken(self, now):
            raise RuntimeError("boom")

        monkeypatch.setattr(Router, "_check_timers", broken)
        wait_until(lambda: events, message="HostStopped")
        assert events == [HostStopped("host failed: boom")]
        member.wait_closed()
        assert ev.Bye(reason="host failed: boom", cause="stopped") in member.events
        wait_until(lambda: _refused(host.port), message="the port closed")
    finally:
        host.stop()


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_every_interface_means_ipv4_and_ipv6_on_one_port(start_host, connect) -> None:
    host = start_host(bind="")  # listens only; the clients below connect over loopback
    assert host.port > 0
    four = connect(host.port, "four")
    if socket.has_dualstack_ipv6():
        six = connect(host.port, "six", host="::1")
        assert six.nick == "six"
        assert host.addresses[0][0] == "::"
    assert four.nick == "four"


def test_connections_beyond_the_limit_are_turned_away(start_host, connect) -> None:
    host = start_host(tuning=HostTuning(max_connections=2))
    alice, bob = connect(host.port, "alice"), connect(host.port, "bob")
    extra = connect(host.port)
    extra.wait_closed()
    alice.say("still fine")
    bob.wait_for(lambda e: isinstance(e, ev.ChatMessage) and e.text == "still fine")


def test_connections_still_saying_hello_count_toward_their_addresss_cap(start_host, connect, caplog) -> None:
    host = start_host(max_connections_per_address=3, handshake_timeout=30)
    served = [connect(host.port, source="127.0.0.3") for _ in range(3)]
    for client in served:  # accepted and served, though none has said hello
        client.send(ev.Ping(token="here"))
        client.wait_for(lambda e: isinstance(e, ev.Pong), what="pong")
    with caplog.at_level(logging.DEBUG, logger="net.tcp.host"):
        for _ in range(3):
            connect(host.port, source="127.0.0.3").wait_closed(timeout=5)
    turned_away = [r for r in caplog.records if "from that address are open already" in r.getMessage()]
    assert [r.levelno for r in turned_away] == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    assert connect(host.port, "alice", source="127.0.0.4").nick == "alice"  # another address
    served[0].close()  # a place is free again once the host has closed that connection
    wait_until(lambda: _served(connect(host.port, source="127.0.0.3")), message="a place again")


def _served(client) -> bool:
    """True when the host serves the new connection `client` (it answers a ping)."""
    client.send(ev.Ping(token="again"))
    client.read(0.2)
    return any(isinstance(e, ev.Pong) for e in client.events)


def test_where_only_select_exists_connections_stop_short_of_its_512_sockets(monkeypatch) -> None:
    """Windows' select() takes at most 512 sockets and the router watches every connection."""
    host = TcpHost(HostConfig(port=0, bind="127.0.0.1"))
    assert host._connection_limit() == host.config.room.max_members + tcp_host.HANDSHAKE_MARGIN
    monkeypatch.setattr(selectors, "DefaultSelector", selectors.SelectSelector)
    assert host._connection_limit() == tcp_host.SELECT_CONNECTION_LIMIT < 512
