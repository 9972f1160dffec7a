"""What must behave the same over TCP and UDP, checked through the common interfaces only.

Every test runs once per transport (see `conftest.py`); the expected events are written
down once, so a difference between the transports fails one of the two runs.
"""

from __future__ import annotations

import socket
import threading
import time

from net.api import ClientState, Delivered, DeliveryFailed, FailureKind, LatencyMeasured, StateChanged
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
    assert (left.nick, left.reason, left.cause) == ("bob", "see you", "quit")
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
    change = chat.wait_state("alone", ClientState.DISCONNECTED)
    assert client.state is ClientState.DISCONNECTED
    assert chat.states("alone") == [(ClientState.DISCONNECTED, FailureKind.REFUSED)]
    assert f"127.0.0.1:{port}" in change.reason and "is a chat hosted there" in change.reason


def test_a_host_that_never_answers_times_out(chat) -> None:
    # TCP: the listener's full accept queue drops the SYN, so the connect neither succeeds nor is
    # refused and runs into connect_timeout (see _SilentPort). UDP: nothing ever answers the hello.
    with chat.silent_port() as port:
        chat.client(port, "patient", connect_timeout=0.5)
        change = chat.wait_state("patient", ClientState.DISCONNECTED, timeout=10)
    assert chat.states("patient") == [(ClientState.DISCONNECTED, FailureKind.TIMEOUT)]
    assert change.failure is FailureKind.TIMEOUT
    assert f"No answer from 127.0.0.1:{port}" in change.reason


def test_an_unknown_host_name_is_reported(chat, monkeypatch) -> None:
    # No real DNS lookup (the network rule): the resolver answers "no such name" as it would.
    def no_such_host(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    chat.client(47999, "lost")
    change = chat.wait_state("lost", ClientState.DISCONNECTED)
    assert change.failure is FailureKind.RESOLVE and "could not be found" in change.reason


def test_latency_is_measured_by_the_heartbeat(chat) -> None:
    host = chat.host()
    chat.client(host.port, "alice", heartbeat_interval=0.05)
    latency = chat.wait_event("alice", LatencyMeasured)
    assert 0 <= latency.seconds < 1.0


def test_close_leaves_no_thread_behind(chat) -> None:
    host = chat.host()
    before = set(threading.enumerate())
    (alice,) = chat.joined(host.port, "alice")
    alice.close()
    assert chat.states("alice")[-1] == (ClientState.DISCONNECTED, FailureKind.CLOSED)
    assert not [t for t in set(threading.enumerate()) - before if "client" in t.name]


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
    assert (left.reason, left.cause) == ("timed out", "timed_out")


def test_the_others_are_told_how_each_member_left(chat) -> None:
    """Issue 15, 5: "timed out", "lost connection" and "left" are told apart, by the host,
    the same way over both transports; the GUI and plain-text members word the cause."""
    from gui.chat_wording import left as left_line
    from net.protocol.textmode import render_event

    host = chat.host(heartbeat_timeout=1.0)
    chat.joined(host.port, "alice")
    chat.raw_member(host.port, "silent")  # stops sending: it never pings
    crashed = chat.raw_member(host.port, "crashed")
    [leaving] = chat.joined(host.port, "leaving")
    wait_until(lambda: host.member_count == 4, message="all four in")
    chat.vanish(crashed)  # reset, no goodbye
    leaving.close("/quit")

    def everyone_gone() -> dict[str, ev.Left] | None:
        lefts = {left.nick: left for left in chat.of_type("alice", ev.Left)}
        return lefts if len(lefts) == 3 else None

    lefts = wait_until(everyone_gone, timeout=5, message="three members leave")
    assert {nick: left.cause for nick, left in lefts.items()} == {
        "silent": "timed_out",
        "crashed": "lost",
        "leaving": "quit",
    }
    shown = {nick: (left_line(nick, left.cause), render_event(left)[8:]) for nick, left in lefts.items()}
    assert shown == {
        "silent": ("silent timed out: nothing was heard from them for a while.", "<-- silent timed out"),
        "crashed": ("crashed lost the connection.", "<-- crashed lost connection"),
        "leaving": ("leaving left the chat.", "<-- leaving left (/quit)"),
    }


def test_a_member_the_host_timed_out_is_told_so_not_that_the_host_closed_the_chat(chat) -> None:
    """Issue 15, 5: a member that stopped sending (its pings stopped) and was timed out hears
    why from the host's bye, and shows it, instead of "The host closed the chat"."""
    from gui.wording import failure_sentence

    host = chat.host(heartbeat_timeout=1.0)
    [mute] = chat.joined(host.port, "mute")
    mute._session._heartbeat = float("inf")  # a client that stops sending (its link still reads)
    change = chat.wait_event(
        "mute", StateChanged, lambda c: c.state is ClientState.RECONNECTING, timeout=5, message="timed out"
    )
    assert (change.failure, change.reason) == (FailureKind.TIMED_OUT_BY_HOST, "timed out")
    assert failure_sentence(change.failure) == (
        "The host heard nothing from this PC for too long and dropped the connection (timed out)."
    )


def test_the_outbox_is_resent_after_the_host_restarts_on_the_same_port(chat) -> None:
    host = chat.host()
    alice, bob = chat.joined(host.port, "alice", "bob", backoff=(0.05, 0.1, 0.2))
    port = host.port
    sent = [f"message {n}" for n in range(60)]
    local_ids = [alice.send_message(text) for text in sent[:20]]
    stopper = threading.Thread(target=host.stop, args=("restarting",))
    stopper.start()
    local_ids += [alice.send_message(text) for text in sent[20:40]]  # typed while the host goes
    stopper.join()
    wait_until(lambda: alice.state is ClientState.RECONNECTING and bob.state is ClientState.RECONNECTING)
    change = chat.wait_event("alice", StateChanged, lambda c: c.state is ClientState.RECONNECTING)
    assert change.failure is FailureKind.HOST_LEFT
    chat.host(port=port)
    local_ids += [alice.send_message(text) for text in sent[40:]]
    wait_until(lambda: alice.pending == [], timeout=20, message="every message acked")
    # Bob sees them live, or in the welcome's history when Alice got back in first.
    wait_until(lambda: sorted(set(chat.seen_texts("bob"))) == sorted(sent), timeout=10, message="all at bob")
    time.sleep(0.2)
    assert sorted(chat.seen_texts("bob")) == sorted(sent)  # exactly once each
    assert sorted(d.local_id for d in chat.of_type("alice", Delivered)) == sorted(local_ids)
