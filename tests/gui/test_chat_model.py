"""The chat model on its own: events in, `Changes` out; no window, no network, a hand-driven clock."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gui import i18n
from gui.model import changes as out
from gui.model.chat import TYPING_EXPIRES, ChatModel
from gui.model.delivery import Delivery, delivery_mark
from gui.model.values import ROOM, Overflowed, Status
from net.api import (
    ClientState,
    Delivered,
    DeliveryFailed,
    FailureKind,
    HostStopped,
    LatencyMeasured,
    StateChanged,
)
from net.protocol import events as ev
from net.protocol.limits import PROTOCOL_VERSION
from tests.gui.conftest import HandClock


@pytest.fixture
def clock() -> HandClock:
    return HandClock(1_000.0)


def make_model(clock: HandClock, *, hosting: bool = False) -> ChatModel:
    status = Status(ClientState.CONNECTING, address="10.0.0.5:4000", port=4000, hosting=hosting)
    return ChatModel("me", status, clock=clock)


def welcome(nick: str = "me", history: tuple[ev.ChatMessage, ...] = ()) -> ev.Welcome:
    members = (ev.MemberInfo("me"), ev.MemberInfo("bob", host=True))
    return ev.Welcome(version=PROTOCOL_VERSION, nick=nick, room="Room", members=members, history=history)


def joined_model(clock: HandClock, **options: bool) -> ChatModel:
    model = make_model(clock, **options)
    model.apply([welcome(), StateChanged(ClientState.CONNECTED)])
    return model


def texts(changes: out.Changes, conversation: str | None = ROOM) -> list[str]:
    return [line.text for line in changes.lines.get(conversation, [])]


def test_the_first_welcome_opens_the_chat_with_notes_history_and_members(clock):
    model = make_model(clock)
    model.notes.append("a note from hosting")
    history = (ev.ChatMessage("h1", "bob", "earlier", 1.0), ev.ChatMessage("h2", "bob", "psst", 2.0, to="me"))
    changes = model.apply([welcome(history=history)])
    assert changes.opened and changes.members and changes.status
    assert changes.ops == [out.SetRoom("Room", "me")]
    assert texts(changes) == [
        "a note from hosting",
        "earlier",
        "— earlier conversation above —",  # where this session starts
        "You joined “Room” as me.",
    ]  # no private history
    assert changes.lines[ROOM][-1].time == clock.now
    assert [m.nick for m in model.sorted_members()] == ["bob", "me"]  # the host first
    again = model.apply([welcome()])
    assert not again.opened
    assert texts(again) == ["Reconnected to “Room”."]


def test_messages_count_for_attention_and_mentions(clock):
    model = joined_model(clock)
    changes = model.apply(
        [ev.ChatMessage("m1", "bob", "hello all", 5.0), ev.ChatMessage("m2", "me", "mine", 6.0)]
    )
    assert texts(changes) == ["hello all", "mine"]
    assert [line.own for line in changes.lines[ROOM]] == [False, True]
    assert (changes.attention, changes.mention) == (1, False)
    assert changes.incoming == [out.Incoming(ROOM, "bob", "hello all"), out.Incoming(ROOM, "me", "mine")]
    assert model.apply([ev.ChatMessage("m3", "bob", "hey ME, look", 7.0)]).mention


def test_history_replayed_on_joining_is_not_incoming(clock):
    changes = make_model(clock).apply([welcome(history=(ev.ChatMessage("h1", "bob", "earlier", 1.0),))])
    assert "earlier" in texts(changes)
    assert changes.incoming == []  # old news: no desktop notification for it


def test_a_private_message_opens_its_conversation_without_focus(clock):
    model = joined_model(clock)
    changes = model.apply([ev.ChatMessage("p1", "Bob", "psst", 3.0, to="me")])
    assert changes.ops == [out.OpenPrivate("bob", "bob", False)]  # shown as the member list spells it
    assert texts(changes, "bob") == ["psst"] and not texts(changes)
    assert (changes.attention, changes.mention) == (1, True)
    assert changes.incoming == [out.Incoming("bob", "Bob", "psst", private=True)]
    assert model.peer("bob") == "bob" and model.peer(ROOM) is None


def test_lines_for_a_conversation_closed_meanwhile_are_dropped(clock):
    model = joined_model(clock)
    model.open_private("bob")
    model.close_private("bob")
    changes = model.apply([ev.Left("bob", 4.0)])
    assert texts(changes) == ["bob left the chat."]
    assert "bob" not in changes.lines


def test_own_messages_are_sending_until_delivered_or_failed(clock):
    model = joined_model(clock)
    line = model.queued("l1", "hello  ", None, action=False)
    assert (line.text, line.own, line.local_id, line.time, line.sender, line.mark) == (
        "hello",
        True,
        "l1",
        clock.now,
        "me",
        "sending…",
    )
    assert model.apply([Delivered("l1", "m1", 5.0)]).ops == [out.MarkDelivered("l1", 5.0, "✓")]
    model.queued("l2", "psst", "carol", action=False)
    model.queued("l3", "anyone?", None, action=False)
    model.queued("l4", "still?", None, action=False)
    assert model.apply([DeliveryFailed("l2", "gone")]).ops == [
        out.MarkFailed("l2", "! not delivered: carol is not in the chat")
    ]
    assert model.apply([DeliveryFailed("l3", "?")]).ops == [out.MarkFailed("l3", "! not delivered")]
    model.apply([StateChanged(ClientState.RECONNECTING, "eof", FailureKind.LOST, retry_in=1.0)])
    assert model.apply([DeliveryFailed("l4", "?")]).ops == [
        out.MarkFailed("l4", "! not delivered: not connected")
    ]


def test_a_message_typed_while_reconnecting_stays_sending_and_takes_the_hosts_time(clock):
    """Typed during an outage, sent on the next link five minutes later: the mark says
    "sending" meanwhile (not failed), and the ack brings the host's time, the time the other
    members see, to replace the time it was typed."""
    model = joined_model(clock)
    lost = model.apply([StateChanged(ClientState.RECONNECTING, "eof", FailureKind.LOST, retry_in=1.0)])
    assert not lost.ops
    line = model.queued("l1", "are you there?", None, action=False)
    assert (line.time, line.mark) == (1_000.0, "sending…")
    clock.now += 300
    back = model.apply([welcome(), StateChanged(ClientState.CONNECTED)])
    assert not [op for op in back.ops if isinstance(op, out.MarkDelivered | out.MarkFailed)]
    assert model.apply([Delivered("l1", "m9", 1_300.5)]).ops == [out.MarkDelivered("l1", 1_300.5, "✓")]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_three_delivery_marks_differ_in_more_than_colour(language):
    i18n.set_language(language)
    try:
        marks = [delivery_mark(state, "why") for state in Delivery]
    finally:
        i18n.set_language("en")
    assert len(set(marks)) == 3 and all(mark.strip() for mark in marks)
    emoji = {"\u2705", "\u2714", "\u274c", "\u26a0"}  # the emoji look-alikes of ✓, !, ✗, ⚠
    assert all(ord(char) <= 0xFFFF and char not in emoji for mark in marks for char in mark)


def test_typing_notices_expire_on_the_models_clock(clock):
    model = joined_model(clock)
    model.open_private("bob")
    changes = model.apply([ev.TypingNotice("carol", True), ev.TypingNotice("bob", True, to="me")])
    assert changes.typing
    assert model.room_typists() == ["carol"]
    assert model.private_typists() == {"bob": ["bob"]}
    assert model.typing_nicks() == {"carol", "bob"}
    clock.now += TYPING_EXPIRES - 1
    assert not model.expire_typing()
    clock.now += 2
    assert model.expire_typing()
    assert model.room_typists() == [] and model.private_typists() == {"bob": []}
    model.apply([ev.TypingNotice("carol", True)])
    clock.now -= 3600  # the system clock was set back: the notice would otherwise linger an hour
    assert model.expire_typing() and model.room_typists() == []


def test_a_message_ends_its_senders_typing(clock):
    model = joined_model(clock)
    model.apply([ev.TypingNotice("bob", True)])
    changes = model.apply([ev.ChatMessage("m1", "bob", "done", 5.0)])
    assert changes.typing and model.room_typists() == []


def test_losing_the_connection_says_so_once_and_counts_the_retry_down(clock):
    model = joined_model(clock)
    model.apply([LatencyMeasured(0.004), ev.TypingNotice("bob", True)])
    assert model.status().rtt == 0.004
    lost = StateChanged(ClientState.RECONNECTING, "bye", FailureKind.HOST_LEFT, retry_in=5.0)
    changes = model.apply([lost])
    status = model.status()
    assert changes.status and changes.typing and model.room_typists() == []
    assert (status.state, status.reason, status.rtt, status.retry_in) == (
        ClientState.RECONNECTING,
        "The host closed the chat.",
        None,
        5.0,
    )
    assert texts(changes) == ["The host closed the chat."]
    clock.now += 2
    assert model.status().retry_in == pytest.approx(3.0)
    clock.now -= 60  # set back: never more than the delay the client announced
    assert model.status().retry_in == 5.0
    assert texts(model.apply([StateChanged(ClientState.RECONNECTING, "again", FailureKind.LOST, 1.0)])) == []
    model.apply([welcome(), StateChanged(ClientState.CONNECTED)])
    assert model.status().retry_in is None and model.status().reason == ""


def test_a_failed_first_connection_ends_the_batch_with_its_sentence(clock):
    model = make_model(clock)
    refused = StateChanged(ClientState.DISCONNECTED, "refused", FailureKind.REFUSED)
    changes = model.apply([refused, ev.Joined("bob", 1.0)])
    assert changes.failed is not None and changes.failed.startswith(
        "Nobody is hosting a chat at 10.0.0.5:4000"
    )
    assert not model.members  # nothing after the failure was applied


def test_renames_follow_members_private_conversations_and_typing(clock):
    model = joined_model(clock)
    model.open_private("bob")
    model.apply([ev.TypingNotice("bob", True)])
    changes = model.apply([ev.Renamed("bob", "robert", 4.0)])
    assert changes.ops == [out.RenamePrivate("bob", "robert", "robert")]
    assert texts(changes) == texts(changes, "robert") == ["bob is now known as robert."]
    assert model.room_typists() == ["robert"]
    assert {m.nick for m in model.sorted_members()} == {"me", "robert"}
    mine = model.apply([ev.Renamed("me", "myself", 5.0)])
    assert mine.ops == [out.SetRoom("Room", "myself")] and model.nick == "myself"
    assert texts(mine) == ["You are now known as myself."]


def test_host_errors_and_window_notices_are_error_lines(clock):
    model = joined_model(clock)
    changes = model.apply([ev.Error(code="rate_limited", text="slow down"), Overflowed(3)])
    assert [line.kind for line in changes.lines[ROOM]] == ["error", "error"]
    assert texts(changes) == [
        "You are sending messages too fast; wait a moment.",
        "3 messages were skipped because the window fell behind.",
    ]
    assert texts(model.apply([HostStopped("crashed")])) == []  # this PC does not host
    hosting = joined_model(clock, hosting=True)
    assert texts(hosting.apply([HostStopped("crashed")])) == ["The chat hosted on this PC stopped (crashed)."]


@pytest.mark.allow_error_logs
def test_an_event_that_cannot_be_applied_is_skipped(clock, caplog):
    model = joined_model(clock)
    changes = model.apply([ev.Left(None, 1.0), ev.Joined("carol", 2.0)])  # type: ignore[arg-type]
    assert texts(changes) == ["carol joined the chat."]
    assert "could not show" in caplog.text


def test_imports_run_from_the_views_to_the_model_only():
    """The model imports neither a view nor the controller; the controller imports no view."""
    views = ["gui.app", "gui.chat_view", "gui.conversation", "gui.bridge", "gui.textparts", "tkinter"]
    for module, forbidden in (("gui.model.chat", [*views, "gui.controller"]), ("gui.controller", views)):
        code = f"import sys, {module}; print(sorted(m for m in {forbidden!r} if m in sys.modules))"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert result.stdout.strip() == "[]", (module, result.stdout)


@pytest.mark.parametrize(
    ("cause", "english", "chinese"),
    [
        ("quit", "bob left the chat.", "bob 离开了聊天。"),
        ("lost", "bob lost the connection.", "bob 的连接已中断。"),
        (
            "timed_out",
            "bob timed out: nothing was heard from them for a while.",
            "bob 已超时：有一段时间没有收到其任何消息。",
        ),
        ("removed", "bob was removed from the chat by the host.", "bob 被主持人移出了聊天。"),
        (None, "bob left the chat.", "bob 离开了聊天。"),  # a host from before causes
        ("a later cause", "bob left the chat.", "bob 离开了聊天。"),
    ],
)
def test_the_line_for_someone_leaving_says_what_happened(clock, cause, english, chinese):
    """Issue 15, 5: "bob left" was shown whether bob quit, was cut off or timed out."""
    from gui import i18n

    for language, expected in (("en", english), ("zh_CN", chinese)):
        i18n.set_language(language)
        try:
            model = joined_model(clock)
            model.open_private("bob")
            changes = model.apply([ev.Left("bob", 4.0, reason="whatever the host said", cause=cause)])
        finally:
            i18n.set_language("en")
        assert texts(changes) == texts(changes, "bob") == [expected]


def test_a_member_the_host_timed_out_is_told_so(clock):
    """Issue 15, 5: the host's bye said "timed out"; the window said "The host closed the chat"."""
    model = joined_model(clock)
    failure = FailureKind.TIMED_OUT_BY_HOST
    changes = model.apply([StateChanged(ClientState.RECONNECTING, "timed out", failure, retry_in=1.0)])
    expected = "The host heard nothing from this PC for too long and dropped the connection (timed out)."
    assert model.status().reason == expected
    assert texts(changes) == [expected]
