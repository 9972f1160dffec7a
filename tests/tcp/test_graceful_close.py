"""Closing connections gracefully, and leaving nothing behind.

A connection the host closes gets its last bytes (a bye, a refusal) and then a FIN, never a
reset: the host keeps reading (and dropping) what the peer still sends until the peer
closes its end or a grace period ends. Closing a socket with unread input, or receiving
data on a socket already closed, makes the kernel send RST, and a reset can destroy the
bye before the peer reads it.

`stop()` and every failure path must leave no thread and no file descriptor behind.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import threading
import time

import psutil
import pytest

from net.api import HostConfig, HostStartError
from net.protocol import events as ev
from net.protocol.codec import encode_event
from net.protocol.limits import PROTOCOL_VERSION
from net.room import RoomConfig
from net.tcp import host as tcp_host
from net.tcp.host import TcpHost
from net.tcp.peer import PeerOpened
from net.tcp.router import Router
from net.tcp.tuning import HostTuning
from tests.helpers import wait_until
from tests.tcp.rawclient import RawClient, TextClient

PING_EVERY = 0.002
SEND_AFTER_FIN_SECONDS = 0.1
PING = encode_event(ev.Ping(token="busy"))


def _descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def _open_connections_to(port: int) -> list[object]:
    """This process's TCP sockets with `port` at either end, the listener aside: the host's
    accepted connections and the test's clients of it (none may be left open)."""
    return [
        conn
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.status != psutil.CONN_LISTEN
        and port in ((conn.laddr.port if conn.laddr else 0), (conn.raddr.port if conn.raddr else 0))
    ]


needs_proc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")


def _keep_pinging_until_closed(client: RawClient, timeout: float = 5.0) -> None:
    """Send a ping every couple of milliseconds and read, until the host closes, and a bit after.

    Sending on after the host's FIN is legal (the connection is half-closed) and happens
    whenever the peer types while the bye is on its way. The host must still be reading
    then: data reaching a socket already closed is answered with a reset.
    """
    deadline = time.monotonic() + timeout
    while not client.closed:
        assert time.monotonic() < deadline, "the host did not close the connection"
        client.send_raw(PING)  # raw: a refused client's protocol state would not allow it
        client.read(PING_EVERY)
    assert not client.reset, "the host reset the connection instead of closing it after its last words"
    half_closed_until = time.monotonic() + SEND_AFTER_FIN_SECONDS
    try:
        while time.monotonic() < half_closed_until:
            client.sock.sendall(PING)
            time.sleep(PING_EVERY)
        client.sock.settimeout(1.0)
        assert client.sock.recv(100) == b""
    except OSError as exc:
        raise AssertionError(f"the host reset the half-closed connection: {exc!r}") from None


def test_stop_ends_with_bye_and_fin_not_a_reset_while_a_member_keeps_sending(start_host, connect) -> None:
    host = start_host(room=RoomConfig(rate_per_second=0), tuning=HostTuning(stop_grace=1.5))
    alice = connect(host.port, "alice")
    for _ in range(50):  # the host is busy with alice's traffic when it stops
        alice.send(ev.Ping(token="warm-up"))
    stopper = threading.Thread(target=host.stop, args=("closing time",))
    stopper.start()
    try:
        _keep_pinging_until_closed(alice)
    finally:
        stopper.join(5)
    assert alice.events[-1] == ev.Bye(reason="closing time", cause="stopped")


def test_a_refused_peer_that_keeps_sending_gets_the_refusal_and_a_clean_end(start_host, connect) -> None:
    host = start_host(tuning=HostTuning(close_grace=1.5))
    connect(host.port, "bob")
    eve = connect(host.port)
    eve.send(ev.Hello(version=PROTOCOL_VERSION, nick="BOB", client_id="eve"))
    _keep_pinging_until_closed(eve)
    assert any(isinstance(e, ev.Refuse) for e in eve.events), eve.events


def test_stop_waits_for_members_to_close_their_end_but_not_past_the_grace(start_host, connect) -> None:
    host = start_host()
    quiet = connect(host.port, "quiet")  # reads nothing during stop, so never closes its end
    started = time.monotonic()
    host.stop("bye now")
    took = time.monotonic() - started
    assert took < 2.0
    quiet.wait_closed()
    assert ev.Bye(reason="bye now", cause="stopped") in quiet.events
    assert not quiet.reset


@needs_proc
def test_stop_leaves_no_thread_and_no_descriptor_behind() -> None:
    threads, descriptors = threading.active_count(), _descriptors()
    host = TcpHost(HostConfig(port=0, bind="127.0.0.1"))
    host.start()
    clients: list = []
    try:
        members = [RawClient(host.port) for _ in range(4)]
        clients.extend(members)
        for i, member in enumerate(members):
            member.join(f"m{i}")
        text = TextClient(host.port)
        clients.append(text)
        text.send_line("typist")
        clients.append(RawClient(host.port))  # connected, never says hello
        members[0].say("hello everyone")
        members[1].wait_for(lambda e: isinstance(e, ev.ChatMessage))
        gone = members.pop()  # one leaves abruptly, one says bye
        gone.close()
        members[0].send(ev.Bye(reason="leaving"))
        wait_until(lambda: host.member_count == 3, message="members left")  # m1, m2 and the typist
        host.stop()
        assert threading.active_count() == threads
    finally:
        host.stop()
        for client in clients:
            client.close()
    assert _descriptors() == descriptors


@needs_proc
def test_a_connection_the_router_will_never_take_is_closed_by_the_accept_thread(monkeypatch) -> None:
    threads, descriptors = threading.active_count(), _descriptors()
    host = TcpHost(HostConfig(port=0, bind="127.0.0.1"))
    host.start()
    late = None
    try:
        put = host._inbox.put

        def sealed_for_peers(item, **kwargs) -> bool:
            # What the inbox answers once the router has finished (Inbox.seal), for new peers.
            return False if isinstance(item, PeerOpened) else put(item, **kwargs)

        monkeypatch.setattr(host._inbox, "put", sealed_for_peers)
        late = RawClient(host.port)
        late.wait_closed()
    finally:
        host.stop()
        if late is not None:
            late.close()
    assert threading.active_count() == threads
    assert _descriptors() == descriptors


@needs_proc
@pytest.mark.parametrize("failing_thread", ["lanchat-router", "lanchat-accept"])
def test_a_start_that_cannot_start_a_thread_leaves_nothing_behind(monkeypatch, failing_thread) -> None:
    threads, descriptors = threading.active_count(), _descriptors()
    original = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        if thread.name == failing_thread:
            raise RuntimeError("can't start new thread")
        original(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    host = TcpHost(HostConfig(port=0, bind="127.0.0.1"))
    with pytest.raises(HostStartError, match="can't start new thread"):
        host.start()
    port = host.port
    monkeypatch.undo()
    host.stop()  # harmless after a failed start
    assert threading.active_count() == threads
    assert _descriptors() == descriptors
    with socket.create_server(("127.0.0.1", port)):
        pass  # the port is free again


@needs_proc
def test_a_start_that_runs_out_of_descriptors_leaves_nothing_behind(monkeypatch) -> None:
    threads, descriptors = threading.active_count(), _descriptors()

    def no_descriptors(**_limits):
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(tcp_host, "Inbox", no_descriptors)
    host = TcpHost(HostConfig(port=0, bind="127.0.0.1"))
    with pytest.raises(HostStartError, match="Too many open files"):
        host.start()
    assert threading.active_count() == threads
    assert _descriptors() == descriptors


@needs_proc
def test_a_host_never_started_holds_no_descriptor() -> None:
    descriptors = _descriptors()
    host = TcpHost(HostConfig(port=0, bind="127.0.0.1"))
    assert _descriptors() == descriptors
    host.stop()


@needs_proc
@pytest.mark.allow_error_logs
def test_a_failing_router_leaves_no_thread_and_no_descriptor_behind(monkeypatch) -> None:
    threads, descriptors = threading.active_count(), _descriptors()
    events: list[object] = []
    host = TcpHost(HostConfig(port=0, bind="127.0.0.1"), on_event=events.append)
    host.start()
    member = RawClient(host.port)
    try:
        member.join("member")

        def broken(self, now):
            raise RuntimeError("boom")

        monkeypatch.setattr(Router, "_check_timers", broken)
        member.wait_closed()
        assert ev.Bye(reason="host failed: boom", cause="stopped") in member.events
        wait_until(lambda: events, message="HostStopped")
    finally:
        host.stop()
        member.close()
    assert threading.active_count() == threads
    assert _descriptors() == descriptors


@needs_proc
def test_connections_coming_and_going_leave_no_descriptor_behind(start_host) -> None:
    host = start_host(handshake_timeout=0.5)
    threads = threading.active_count()
    for round_number in range(10):
        joined = RawClient(host.port)
        joined.join(f"member{round_number}")
        leaving = RawClient(host.port)
        leaving.join(f"leaver{round_number}")
        leaving.send(ev.Bye(reason="bye"))
        leaving.wait_closed()
        garbage = RawClient(host.port)
        garbage.send_raw(b"\x00\xff" * 100 + b"\n")
        silent = RawClient(host.port)  # dropped after the handshake timeout
        text = TextClient(host.port)
        text.send_line(f"typist{round_number}")
        for client in (joined, leaving, garbage, silent, text):
            client.close()
    wait_until(lambda: host.member_count == 0, timeout=10, message="every member gone")
    wait_until(lambda: threading.active_count() == threads, timeout=10, message="every reader finished")
    # Exactly the connections of this test, not a count of the whole process's descriptors:
    # other tests' sockets, closed by the garbage collector meanwhile, used to shift that count.
    wait_until(lambda: not _open_connections_to(host.port), timeout=10, message="every connection closed")
