"""ClientSession, the transport-independent client logic, driven against a pure host."""

from __future__ import annotations

import random

import pytest

from net.api import (
    ClientConfig,
    ClientState,
    Delivered,
    DeliveryFailed,
    FailureKind,
    LatencyMeasured,
    StateChanged,
)
from net.client.errors import MessageEmpty, MessageTooLong, OutboxFull, SendRefused, clean_text
from net.client.session import OUTBOX_LIMIT, ClientSession, LinkVerdict
from net.protocol import events as ev
from net.room import RoomConfig
from tests.client.purehost import PureHost


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_session(nick: str = "alice", **config) -> ClientSession:
    config.setdefault("encrypted", False)  # the plain protocol here; TLS: test_session_tls.py
    return ClientSession(ClientConfig(host="h", nick=nick, **config), rng=random.Random(1))


def pump(host: PureHost, peer: int, session: ClientSession, now: float) -> list[object]:
    """Move bytes both ways until quiet; return the session's events."""
    for _ in range(20):
        out = session.take_output()
        if out:
            host.feed(peer, out)
        back = host.take(peer)
        if back:
            session.receive_data(back, now)
        if not out and not back:
            break
    return session.take_events()


def connect(host: PureHost, peer: int, session: ClientSession, now: float = 0.0) -> list[object]:
    host.connect(peer)
    session.link_up(now)
    return pump(host, peer, session, now)


def states(events: list[object]) -> list[ClientState]:
    return [e.state for e in events if isinstance(e, StateChanged)]


def test_handshake_reports_connecting_welcome_and_connected() -> None:
    host, session = PureHost(), make_session("小明")
    events = connect(host, 1, session)
    assert states(events) == [ClientState.CONNECTING, ClientState.CONNECTED]
    welcome = next(e for e in events if isinstance(e, ev.Welcome))
    assert welcome.nick == "小明" and session.nick == "小明" and session.room == "test"


def test_message_is_acked_and_delivered_to_the_other_member() -> None:
    host, alice, bob = PureHost(), make_session("alice"), make_session("bob")
    connect(host, 1, alice)
    connect(host, 2, bob)
    local_id = alice.send_message("你好 🎉", now=0.0)
    alice_events = pump(host, 1, alice, 0.0)
    assert next(e for e in alice_events if isinstance(e, Delivered)).local_id == local_id
    assert alice.pending == []
    bob_events = pump(host, 2, bob, 0.0)
    messages = [e for e in bob_events if isinstance(e, ev.ChatMessage)]
    assert [(m.sender, m.text) for m in messages] == [("alice", "你好 🎉")]


def test_unacked_messages_are_resent_after_reconnect_and_shown_once() -> None:
    host, alice, bob = PureHost(), make_session("alice"), make_session("bob")
    connect(host, 1, alice)
    connect(host, 2, bob)
    first = alice.send_message("one", now=0.0)
    host.feed(1, alice.take_output())  # the host relays it, but the ack is lost with the link
    host.take(1)
    alice.send_message("two", now=0.0)  # written to a link that breaks before the host reads it
    alice.take_output()
    host.drop(1)
    delay = alice.link_down(FailureKind.LOST, "reset")
    assert delay is not None and 0.4 <= delay <= 0.6
    assert states(alice.take_events()) == [ClientState.RECONNECTING]
    assert alice.pending == [first, alice.pending[1]]
    events = connect(host, 3, alice, now=1.0)
    assert len([e for e in events if isinstance(e, Delivered)]) == 2 and alice.pending == []
    texts = [e.text for e in pump(host, 2, bob, 1.0) if isinstance(e, ev.ChatMessage)]
    assert texts == ["one", "two"]


def test_history_replayed_on_reconnect_is_not_shown_twice() -> None:
    host, alice, bob = PureHost(), make_session("alice"), make_session("bob")
    connect(host, 1, alice)
    connect(host, 2, bob)
    bob.send_message("hello", now=0.0)
    pump(host, 2, bob, 0.0)
    assert [e.text for e in pump(host, 1, alice, 0.0) if isinstance(e, ev.ChatMessage)] == ["hello"]
    host.drop(1)
    alice.link_down(FailureKind.LOST, "reset")
    events = connect(host, 3, alice, now=1.0)
    welcome = next(e for e in events if isinstance(e, ev.Welcome))
    assert welcome.history == ()


def test_refusal_is_final_and_names_the_reason() -> None:
    host, alice, other = PureHost(), make_session("alice"), make_session("Alice")
    connect(host, 1, alice)
    host.connect(2)
    other.link_up(0.0)
    host.feed(2, other.take_output())
    assert other.receive_data(host.take(2), 0.0) is LinkVerdict.CLOSE
    assert other.link_down(FailureKind.LOST, "closed") is None
    final = [e for e in other.take_events() if isinstance(e, StateChanged)][-1]
    assert final.state is ClientState.DISCONNECTED and final.failure is FailureKind.NICK_TAKEN
    assert "already taken" in final.reason


def test_first_connection_failure_does_not_retry_but_later_drops_do() -> None:
    session = make_session()
    assert session.link_down(FailureKind.REFUSED, "nobody there") is None
    assert session.finished
    host, session = PureHost(), make_session()
    connect(host, 1, session)
    delays = [session.link_down(FailureKind.LOST, "reset") for _ in range(7)]
    assert all(d is not None for d in delays)
    assert delays[-1] == pytest.approx(8.0, rel=0.21) and delays[0] == pytest.approx(0.5, rel=0.21)


def test_heartbeat_pings_measure_latency_and_silence_closes_the_link() -> None:
    host, session = PureHost(), make_session(heartbeat_interval=2.0, heartbeat_timeout=6.0)
    connect(host, 1, session, now=0.0)
    assert session.next_wakeup(0.0) == pytest.approx(2.0)
    assert session.tick(2.0) is LinkVerdict.KEEP
    host.feed(1, session.take_output())
    session.receive_data(host.take(1), 2.25)
    assert LatencyMeasured(0.25) in session.take_events()
    assert session.tick(8.0) is LinkVerdict.KEEP
    assert session.tick(8.3) is LinkVerdict.CLOSE


def test_pacing_follows_the_announced_rate_and_keeps_order() -> None:
    clock = Clock()
    host = PureHost(RoomConfig(name="r", rate_per_second=5.0, rate_burst=5), monotonic=clock)
    alice, bob = make_session("alice"), make_session("bob")
    connect(host, 1, alice, now=0.0)
    connect(host, 2, bob, now=0.0)
    for number in range(12):
        alice.send_message(f"m{number}", now=0.0)
    received: list[str] = []
    now = 0.0
    while len(received) < 12 and now < 10.0:
        clock.now = 1000.0 + now
        alice.tick(now)
        events = pump(host, 1, alice, now)
        assert not [e for e in events if isinstance(e, DeliveryFailed)]
        received += [e.text for e in pump(host, 2, bob, now) if isinstance(e, ev.ChatMessage)]
        now += 0.05
    assert received == [f"m{n}" for n in range(12)]
    assert now > 1.0  # paced: 12 messages at 5 a second after a burst of 3 take over a second


def test_rename_updates_the_session_nick_and_is_used_after_reconnect() -> None:
    host, alice = PureHost(), make_session("alice")
    connect(host, 1, alice)
    alice.rename("alicia")
    events = pump(host, 1, alice, 0.0)
    assert ev.Renamed(old="alice", new="alicia", time=events[0].time) in events
    assert alice.nick == "alicia"
    with pytest.raises(ValueError):
        alice.rename("bad nick")


def test_message_to_unknown_member_fails_visibly() -> None:
    host, alice = PureHost(), make_session("alice")
    connect(host, 1, alice)
    local_id = alice.send_message("psst", to="nobody", now=0.0)
    failed = [e for e in pump(host, 1, alice, 0.0) if isinstance(e, DeliveryFailed)]
    assert failed == [DeliveryFailed(local_id, "nobody is not here")]


def test_close_says_bye_and_final_state_is_closed() -> None:
    host, alice = PureHost(), make_session("alice")
    connect(host, 1, alice)
    alice.close("gone")
    assert b'"type":"bye"' in alice.take_output()
    assert alice.link_down(FailureKind.LOST, "eof") is None
    final = [e for e in alice.take_events() if isinstance(e, StateChanged)][-1]
    assert final.failure is FailureKind.CLOSED


def test_text_is_cleaned_and_invalid_text_refused() -> None:
    assert clean_text("a\r\nb\rc\x00\x1b[31m\u009b\ud800") == "a\nb\nc[31m"
    session = make_session()
    with pytest.raises(ValueError):
        session.send_message("  \n ", now=0.0)
    with pytest.raises(ValueError):
        session.send_message("x" * 20_000, now=0.0)


def test_each_refusal_to_queue_has_its_own_exception() -> None:
    """Empty, too long and outbox full are told apart (the window words each differently)."""
    session = make_session()
    with pytest.raises(MessageEmpty):
        session.send_message("\x00\x1b \n", now=0.0)  # nothing left once cleaned
    with pytest.raises(MessageTooLong) as too_long:
        session.send_message("x" * 20_000, now=0.0)
    assert too_long.value.limit < 20_000
    for number in range(OUTBOX_LIMIT):  # not connected: everything waits in the outbox
        session.send_message(f"m{number}", now=0.0)
    with pytest.raises(OutboxFull) as full:
        session.send_message("one more", now=0.0)
    assert full.value.limit == OUTBOX_LIMIT
    for refusal in (MessageEmpty, MessageTooLong, OutboxFull):
        assert issubclass(refusal, SendRefused) and issubclass(refusal, ValueError)


def test_a_later_connect_failure_is_not_masked_by_the_hosts_earlier_bye() -> None:
    host, alice = PureHost(), make_session("alice")
    connect(host, 1, alice)
    alice.receive_data(b'{"type":"bye","reason":"host stopped"}\n', 1.0)
    alice.link_down(FailureKind.LOST, "eof")
    alice.link_down(FailureKind.REFUSED, "nobody accepted the connection")
    last = [e for e in alice.take_events() if isinstance(e, StateChanged)][-1]
    assert (last.failure, last.reason) == (FailureKind.REFUSED, "nobody accepted the connection")


def test_a_new_session_never_reuses_message_ids_of_the_same_client_id() -> None:
    first = make_session("alice", client_id="fixed-id")
    second = make_session("alice", client_id="fixed-id")
    assert first.send_message("a", now=0.0) != second.send_message("a", now=0.0)


def test_frames_after_a_bad_one_are_still_read() -> None:
    host, alice = PureHost(), make_session("alice")
    connect(host, 1, alice)
    frames = b'{"type":"nonsense"}\n{"type":"joined","nick":"bob","time":1.0}\n'
    assert alice.receive_data(frames, 1.0) is LinkVerdict.KEEP
    assert ev.Joined(nick="bob", time=1.0) in alice.take_events()


def test_a_long_paste_is_delivered_in_order_with_a_bounded_window() -> None:
    host = PureHost(RoomConfig(name="r", rate_per_second=0))
    alice, bob = make_session("alice"), make_session("bob")
    connect(host, 1, alice)
    connect(host, 2, bob)
    for number in range(500):
        alice.send_message(f"line {number}", now=0.0)
    assert alice._outbox.in_flight == 32  # the send window, not the whole paste
    received: list[str] = []
    for _ in range(100):
        pump(host, 1, alice, 0.0)
        received += [e.text for e in pump(host, 2, bob, 0.0) if isinstance(e, ev.ChatMessage)]
        flags = sum(1 for local_id in alice.pending if alice._outbox.get(local_id).in_flight)
        assert flags == alice._outbox.in_flight
        if not alice.pending:
            break
    assert received == [f"line {n}" for n in range(500)]


def test_an_own_message_in_the_welcomes_history_is_its_lost_ack_not_a_new_message() -> None:
    """The host relayed Alice's message but its ack was lost with the link: on the reconnect
    the welcome's history holds it under the id derived from Alice's client id and its local
    id. It is that message's ack (delivered once, at the host's time), never a new message
    of someone's, and it is not sent again; a message the host never got still is."""
    host, alice, bob = PureHost(), make_session("alice"), make_session("bob")
    connect(host, 1, alice)
    connect(host, 2, bob)
    taken = alice.send_message("taken, ack lost", now=0.0)
    host.feed(1, alice.take_output())
    host.take(1)  # the ack, lost with the link
    never = alice.send_message("never arrived", now=0.0)
    alice.take_output()
    host.drop(1)
    alice.link_down(FailureKind.LOST, "reset")
    alice.take_events()
    [relayed] = host.room.history()
    host.connect(3)
    alice.link_up(1.0)
    host.feed(3, alice.take_output())  # the hello
    alice.receive_data(host.take(3), 1.0)  # the welcome, with the message in its history
    resent = alice.take_output()
    host.feed(3, resent)
    events = alice.take_events() + pump(host, 3, alice, 1.0)
    welcome = next(e for e in events if isinstance(e, ev.Welcome))
    assert welcome.history == ()
    assert not [e for e in events if isinstance(e, ev.ChatMessage)]
    assert b"never arrived" in resent and b"taken, ack lost" not in resent
    delivered = [(e.local_id, e.msg_id, e.time) for e in events if isinstance(e, Delivered)]
    assert delivered[0] == (taken, relayed.id, relayed.time)
    assert [local_id for local_id, _, _ in delivered] == [taken, never] and alice.pending == []
    assert [e.text for e in pump(host, 2, bob, 1.0) if isinstance(e, ev.ChatMessage)] == [
        "taken, ack lost",
        "never arrived",
    ]
