"""What must behave the same over TCP and UDP, checked through the common interfaces only.

Every test runs once per transport (see `conftest.py`); the expected events are written
down once, so a difference between the transports fails one of the two runs.
"""

from __future__ import annotations

import socket
import time

from net.api import ClientState, Delivered, DeliveryFailed, FailureKind, StateChanged
from net.protocol import events as ev
from tests.helpers import wait_until

CONNECTED = [(ClientState.CONNECTING, None), (ClientState.CONNECTED, None)]


def test_join_announces_members_and_the_state_sequence(chat) -> None:
    host = chat.host()
    alice, bob = chat.joined(host.port, "alice", "bob")
    assert chat.states("alice") == chat.states("bob") == CONNECTED
    welcome = chat.of_type("bob", ev.Welcome)[0]
    assert welcome.nick == "bob" and welcome.room == "suite"
    assert [m.nick for m in welcome.members] == ["alice", "bob"]
    joined = chat.wait_event("alice", ev.Joined)
    assert joined.nick == "bob"
    assert alice.nick == "alice" and bob.state is ClientState.CONNECTED
    wait_until(lambda: host.member_count == 2, message="the host counts both")


def test_room_messages_reach_everyone_else_and_are_acknowledged(chat) -> None:
    host = chat.host()
    alice, _, _ = chat.joined(host.port, "alice", "bob", "carol")
    sent = [alice.send_message(text) for text in ("hello", "你好，世界", "x" * 16 * 1024)]
    alice.send_message("waves", action=True)
    for key in ("bob", "carol"):
        wait_until(lambda k=key: len(chat.texts(k)) == 4, message=f"{key} gets all four")
        assert chat.texts(key) == ["hello", "你好，世界", "x" * 16 * 1024, "waves"]
        assert [m.sender for m in chat.of_type(key, ev.ChatMessage)] == ["alice"] * 4
        assert chat.of_type(key, ev.ChatMessage)[-1].action
    wait_until(lambda: len(chat.of_type("alice", Delivered)) == 4, message="alice's messages acked")
    assert [d.local_id for d in chat.of_type("alice", Delivered)][:3] == sent
    assert chat.texts("alice") == []  # nobody gets their own room message back
    assert alice.pending == []


def test_private_messages_reach_only_their_recipient(chat) -> None:
    host = chat.host()
    alice, _, _ = chat.joined(host.port, "alice", "bob", "carol")
    alice.send_message("just for you", to="bob")
    message = chat.wait_event("bob", ev.ChatMessage)
    assert (message.sender, message.to, message.text) == ("alice", "bob", "just for you")
    alice.send_message("public")
    chat.wait_event("carol", ev.ChatMessage)
    assert chat.texts("carol") == ["public"]
    refused = alice.send_message("anyone?", to="nobody")
    failed = chat.wait_event("alice", DeliveryFailed, message="refused")
    assert failed.local_id == refused and "nobody is not here" in failed.reason
    wait_until(lambda: len(chat.of_type("alice", Delivered)) == 2, message="two acks")
    assert alice.pending == []


def test_rename_is_announced_and_a_taken_nick_refused(chat) -> None:
    host = chat.host()
    alice, bob = chat.joined(host.port, "alice", "bob")
    alice.rename("alicia")
    renamed = chat.wait_event("bob", ev.Renamed)
    assert (renamed.old, renamed.new) == ("alice", "alicia")
    wait_until(lambda: alice.nick == "alicia", message="alice's own nick follows")
    bob.rename("alicia")
    error = chat.wait_event("bob", ev.Error, lambda e: e.code == "nick_taken", message="taken")
    assert "alicia" in error.text and bob.nick == "bob"


def test_typing_and_member_lists(chat) -> None:
    host = chat.host()
    alice, bob = chat.joined(host.port, "alice", "bob")
    alice.set_typing(True)
    notice = chat.wait_event("bob", ev.TypingNotice)
    assert (notice.nick, notice.active) == ("alice", True)
    bob.request_members()
    members = chat.wait_event("bob", ev.Members)
    assert sorted(m.nick for m in members.members) == ["alice", "bob"]


def test_leave_and_join_notices(chat) -> None:
    host = chat.host()
    _, bob = chat.joined(host.port, "alice", "bob")
    bob.close("see you")
    left = chat.wait_event("alice", ev.Left)
    assert (left.nick, left.reason) == ("bob", "see you")
    assert chat.states("bob") == [*CONNECTED, (ClientState.DISCONNECTED, FailureKind.CLOSED)]
    wait_until(lambda: host.member_count == 1, message="bob gone")
    chat.client(host.port, "bob", key="bob2")
    joined = chat.wait_event("alice", ev.Joined, lambda e: e.nick == "bob", message="bob back")
    assert joined.nick == "bob"


def test_history_on_join(chat) -> None:
    host = chat.host()
    (alice,) = chat.joined(host.port, "alice")
    for number in range(5):
        alice.send_message(f"earlier {number}")
    wait_until(lambda: len(chat.of_type("alice", Delivered)) == 5, message="acked")
    chat.joined(host.port, "dave")
    welcome = chat.of_type("dave", ev.Welcome)[0]
    assert [m.text for m in welcome.history] == [f"earlier {n}" for n in range(5)]
    assert chat.texts("dave") == []  # history comes in the welcome, not as new messages


def test_a_taken_nickname_ends_the_attempt(chat) -> None:
    host = chat.host()
    chat.joined(host.port, "alice")
    intruder = chat.client(host.port, "Alice", key="intruder")
    chat.wait_state("intruder", ClientState.DISCONNECTED)
    assert intruder.state is ClientState.DISCONNECTED
    assert chat.states("intruder") == [
        (ClientState.CONNECTING, None),
        (ClientState.DISCONNECTED, FailureKind.NICK_TAKEN),
    ]
    assert "taken" in chat.of_type("intruder", StateChanged)[-1].reason


def test_nothing_listening_is_refused(chat) -> None:
    probe = socket.socket(
        socket.AF_INET, socket.SOCK_STREAM if chat.transport == "tcp" else socket.SOCK_DGRAM
    )
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    client = chat.client(port, "alone")
    chat.wait_state("alone", ClientState.DISCONNECTED)
    assert client.state is ClientState.DISCONNECTED
    assert chat.states("alone") == [(ClientState.DISCONNECTED, FailureKind.REFUSED)]


def test_bad_input_leaves_the_members_unharmed(chat) -> None:
    host = chat.host()
    alice, bob = chat.joined(host.port, "alice", "bob")
    chat.send_garbage(host.port)
    alice.send_message("still fine?")
    bob.send_message("still fine.")
    wait_until(lambda: chat.texts("bob") == ["still fine?"] and chat.texts("alice") == ["still fine."])
    time.sleep(0.2)  # whatever the garbage could have triggered has happened by now
    assert chat.of_type("alice", ev.Left) == [] and chat.of_type("alice", ev.Joined) == [
        ev.Joined(nick="bob", time=chat.of_type("alice", ev.Joined)[0].time)
    ]
    assert host.member_count == 2
    assert chat.states("alice") == chat.states("bob") == CONNECTED


def test_a_member_that_vanishes_is_seen_leaving_within_the_heartbeat_timeout(chat) -> None:
    host = chat.host(heartbeat_timeout=1.5)
    chat.joined(host.port, "alice")
    chat.raw_member(host.port, "ghost")
    chat.wait_event("alice", ev.Joined, lambda e: e.nick == "ghost")
    vanished = time.monotonic()
    left = chat.wait_event("alice", ev.Left, lambda e: e.nick == "ghost", timeout=4)
    assert time.monotonic() - vanished <= 1.5 + 0.75
    assert left.reason == "timed out"


def test_the_outbox_is_resent_after_the_host_restarts_on_the_same_port(chat) -> None:
    host = chat.host()
    alice, bob = chat.joined(host.port, "alice", "bob")
    port = host.port
    host.stop("restarting")
    wait_until(lambda: alice.state is ClientState.RECONNECTING and bob.state is ClientState.RECONNECTING)
    change = chat.of_type("alice", StateChanged)[-1]
    assert (change.failure, change.reason) == (FailureKind.HOST_LEFT, "restarting")
    local_ids = [alice.send_message(f"while away {n}") for n in range(3)]
    assert alice.pending == local_ids
    chat.host(port=port)
    expected = [f"while away {n}" for n in range(3)]
    # Bob sees them live, or in the welcome's history when Alice got back in first.
    wait_until(lambda: chat.seen_texts("bob") == expected, timeout=10, message="resent")
    wait_until(lambda: alice.pending == [], message="acked after the restart")
    assert [d.local_id for d in chat.of_type("alice", Delivered)] == local_ids
    time.sleep(0.2)
    assert chat.seen_texts("bob") == expected  # exactly once
