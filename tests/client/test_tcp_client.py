"""The TCP client against a real host on loopback: chatting, failures, reconnects, the outbox."""

from __future__ import annotations

import socket
import threading

import pytest

from net.api import ClientState, Delivered, FailureKind, HostConfig, LatencyMeasured, StateChanged
from net.protocol import events as ev
from net.room import RoomConfig
from net.tcp.host import TcpHost
from tests.helpers import wait_until
from tests.identity import secure


def connected(recorder) -> bool:
    return any(e.state is ClientState.CONNECTED for e in recorder.of(StateChanged))


def final_state(recorder) -> StateChanged | None:
    changes = [e for e in recorder.of(StateChanged) if e.state is ClientState.DISCONNECTED]
    return changes[-1] if changes else None


def texts(recorder) -> list[str]:
    """Texts shown to this member: live messages and history replayed in welcomes, in order."""
    shown: list[str] = []
    for event in list(recorder.events):
        if isinstance(event, ev.Welcome):
            shown += [m.text for m in event.history]
        elif isinstance(event, ev.ChatMessage):
            shown.append(event.text)
    return shown


def test_two_clients_chat_in_the_room_and_privately(host, make_client) -> None:
    alice, alice_events = make_client(host.port, "alice")
    bob, bob_events = make_client(host.port, "小明")
    wait_until(lambda: connected(alice_events) and connected(bob_events), message="both connected")
    local_id = alice.send_message("你好, everyone 🎉")
    wait_until(lambda: texts(bob_events) == ["你好, everyone 🎉"], message="room message at bob")
    wait_until(lambda: [d.local_id for d in alice_events.of(Delivered)] == [local_id], message="ack")
    bob.send_message("just for you", to="alice")
    wait_until(lambda: texts(alice_events) == ["just for you"], message="private message at alice")
    assert alice_events.of(ev.ChatMessage)[0].to == "alice"
    bob.send_message("waves", action=True)
    wait_until(lambda: any(m.action for m in alice_events.of(ev.ChatMessage)), message="action")


def test_refused_connection_is_reported_in_words(make_client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    _, events = make_client(free_port, "alice")
    state = wait_until(lambda: final_state(events), message="disconnected")
    assert state.failure is FailureKind.REFUSED
    assert f"127.0.0.1:{free_port}" in state.reason and "is a chat hosted there" in state.reason


def test_unknown_host_is_reported_in_words(make_client, monkeypatch) -> None:
    # No real DNS lookup (the network rule): the resolver answers "no such name" as it would.
    def no_such_host(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    _, events = make_client(47999, "alice")
    state = wait_until(lambda: final_state(events), message="disconnected")
    assert state.failure is FailureKind.RESOLVE and "could not be found" in state.reason


def test_connect_timeout_when_the_host_never_accepts(make_client) -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=0) as server:
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):  # fill the accept queue so further SYNs are dropped
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            _, events = make_client(port, "alice", connect_timeout=0.5)
            state = wait_until(lambda: final_state(events), timeout=10, message="timed out")
            assert state.failure in (FailureKind.TIMEOUT, FailureKind.LOST, FailureKind.HOST_LEFT)
        finally:
            for filler in fillers:
                filler.close()


def test_nickname_taken_is_final(host, make_client) -> None:
    _, first = make_client(host.port, "Alice")
    wait_until(lambda: connected(first))
    _, second = make_client(host.port, "alice")
    state = wait_until(lambda: final_state(second), message="refused")
    assert state.failure is FailureKind.NICK_TAKEN and "already taken" in state.reason


def test_latency_is_measured_by_the_heartbeat(host, make_client) -> None:
    _, events = make_client(host.port, "alice", heartbeat_interval=0.05)
    wait_until(lambda: events.of(LatencyMeasured), message="a latency figure")
    assert 0 <= events.of(LatencyMeasured)[0].seconds < 1.0


def test_outbox_survives_a_host_restart_and_nothing_is_shown_twice(make_client) -> None:
    room = RoomConfig(name="lab", rate_per_second=0)
    first_host = TcpHost(HostConfig(port=0, bind="127.0.0.1", room=room, **secure({})))
    first_host.start()
    port = first_host.port
    second_host = None
    try:
        sender, sender_events = make_client(port, "sender", backoff=(0.05, 0.1, 0.2))
        _reader, reader_events = make_client(port, "reader", backoff=(0.05, 0.1, 0.2))
        wait_until(lambda: connected(sender_events) and connected(reader_events))
        sent = [f"message {n}" for n in range(60)]
        for text in sent[:20]:
            sender.send_message(text)
        stopper = threading.Thread(target=first_host.stop)
        stopper.start()
        for text in sent[20:40]:  # typed while the host goes down and is away
            sender.send_message(text)
        stopper.join()
        wait_until(lambda: sender.state is ClientState.RECONNECTING, message="sender sees the host go")
        second_host = TcpHost(HostConfig(port=port, bind="127.0.0.1", room=room, **secure({})))
        second_host.start()
        for text in sent[40:]:
            sender.send_message(text)
        wait_until(lambda: not sender.pending, timeout=20, message="every message acked")
        wait_until(lambda: sorted(set(texts(reader_events))) == sorted(sent), timeout=20, message="all")
        assert sorted(texts(reader_events)) == sorted(sent)  # exactly once each
        # `pending` empties under the session's lock; the Delivered events reach the app just
        # after, from the client's thread: wait for them, then check there is one per message.
        wait_until(lambda: len(sender_events.of(Delivered)) >= len(sent), message="every delivery reported")
        assert len(sender_events.of(Delivered)) == len(sent)
    finally:
        first_host.stop()
        if second_host is not None:
            second_host.stop()


def test_close_leaves_no_thread_behind(host, make_client) -> None:
    before = set(threading.enumerate())
    client, events = make_client(host.port, "alice")
    wait_until(lambda: connected(events))
    client.close()
    assert final_state(events).failure is FailureKind.CLOSED
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("tcp-client")]


@pytest.mark.parametrize("reason", ["", "see you"])
def test_other_members_see_a_closing_client_leave(host, make_client, reason) -> None:
    alice, _ = make_client(host.port, "alice")
    _, bob_events = make_client(host.port, "bob")
    wait_until(lambda: alice.state is ClientState.CONNECTED and len(bob_events.of(ev.Welcome)) == 1)
    alice.close(reason)
    left = wait_until(lambda: bob_events.of(ev.Left), message="bob sees alice leave")
    assert left[0].nick == "alice"
