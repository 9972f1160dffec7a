"""Members that vanish: closed without bye, reset, or silent (half-open); the others see them leave."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from net.protocol import events as ev
from tests.helpers import wait_until
from tests.tcp.rawclient import wait_all

HEARTBEAT_TIMEOUT = 2.0


@pytest.fixture
def watched(start_host, connect):
    """A host with a short heartbeat timeout, and an observer that keeps its heartbeat going."""
    host = start_host(heartbeat_timeout=HEARTBEAT_TIMEOUT)
    observer = connect(host.port, "observer")
    welcome = observer.events[0]
    assert isinstance(welcome, ev.Welcome)
    assert welcome.heartbeat <= HEARTBEAT_TIMEOUT / 2  # the host tells clients to ping in time
    observer.ping_every = welcome.heartbeat
    return host, observer, connect


def _left(observer, nick: str, timeout: float) -> ev.Left:
    return observer.wait_for(lambda e: isinstance(e, ev.Left) and e.nick == nick, timeout, f"{nick} left")


def test_closed_without_bye(watched) -> None:
    host, observer, connect = watched
    victim = connect(host.port, "victim")
    start = time.monotonic()
    victim.close()
    left = _left(observer, "victim", HEARTBEAT_TIMEOUT)
    assert time.monotonic() - start < HEARTBEAT_TIMEOUT
    assert left.reason == "connection closed"
    wait_until(lambda: host.member_count == 1, message="one member left")


def test_reset_without_bye(watched) -> None:
    host, observer, connect = watched
    victim = connect(host.port, "victim")
    victim.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    start = time.monotonic()
    victim.close()  # linger 0: the kernel sends RST instead of FIN
    _left(observer, "victim", HEARTBEAT_TIMEOUT)
    assert time.monotonic() - start < HEARTBEAT_TIMEOUT


def test_half_open_member_is_dropped_after_the_heartbeat_timeout(watched) -> None:
    host, observer, connect = watched
    victim = connect(host.port, "victim")  # never pings, never closes: like a pulled cable
    start = time.monotonic()
    left = _left(observer, "victim", HEARTBEAT_TIMEOUT + 10)
    elapsed = time.monotonic() - start
    assert left.reason == "timed out"
    assert elapsed >= HEARTBEAT_TIMEOUT * 0.9
    victim.wait_closed()
    assert ev.Bye(reason="timed out", cause="timed_out") in victim.events
    assert host.member_count == 1


def test_members_that_ping_stay(watched) -> None:
    host, observer, connect = watched
    friend = connect(host.port, "friend")
    friend.ping_every = observer.ping_every
    end = time.monotonic() + HEARTBEAT_TIMEOUT * 2
    wait_all([observer, friend], lambda: time.monotonic() > end, timeout=HEARTBEAT_TIMEOUT * 3)
    assert not friend.closed and not observer.closed
    assert host.member_count == 2


def test_bye_leaves_with_its_reason(watched) -> None:
    host, observer, connect = watched
    leaver = connect(host.port, "leaver")
    leaver.send(ev.Bye(reason="lunch"))
    assert _left(observer, "leaver", 5).reason == "lunch"
    leaver.wait_closed()
