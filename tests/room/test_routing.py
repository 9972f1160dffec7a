"""Who receives what: room and private messages, actions, who/ping, events the room refuses."""

from __future__ import annotations

import pytest

from net.protocol import events as ev
from net.protocol.limits import PROTOCOL_VERSION
from net.room import Broadcast, Room, Send
from tests.room.fakes import T0, FakeClock, join, make_room


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def room(clock: FakeClock) -> Room:
    room = make_room(clock)
    join(room, "a", "alice")
    join(room, "b", "小明")
    join(room, "c", "Carol")
    return room


def test_a_room_message_goes_to_the_others_and_the_sender_gets_an_ack(room: Room, clock: FakeClock) -> None:
    clock.advance(1.5)
    outputs = room.handle("a", ev.Say(id="m1", text="hello 大家 😀"))
    message = ev.ChatMessage(id="h-1", sender="alice", text="hello 大家 😀", time=T0 + 1.5)
    assert outputs == [
        Broadcast(message, exclude="a"),
        Send("a", ev.Ack(id="m1", msg_id="h-1", time=T0 + 1.5)),
    ]
    assert room.history() == (message,)


def test_message_ids_count_up_with_the_room_prefix(room: Room) -> None:
    ids = [room.handle(p, ev.Say(id="x", text="t"))[0].event.id for p in ("a", "b", "c")]
    assert ids == ["h-1", "h-2", "h-3"]


def test_an_action_is_a_message_flagged_as_action(room: Room) -> None:
    outputs = room.handle("b", ev.Say(id="m1", text="waves", action=True))
    assert outputs[0] == Broadcast(
        ev.ChatMessage(id="h-1", sender="小明", text="waves", time=T0, action=True), exclude="b"
    )


def test_a_private_message_goes_to_the_recipient_only_and_stays_out_of_history(room: Room) -> None:
    outputs = room.handle("a", ev.Say(id="m1", text="psst", to="carol"))
    message = ev.ChatMessage(id="h-1", sender="alice", text="psst", time=T0, to="Carol")
    assert outputs == [Send("c", message), Send("a", ev.Ack(id="m1", msg_id="h-1", time=T0))]
    assert room.history() == ()


def test_a_private_action(room: Room) -> None:
    outputs = room.handle("a", ev.Say(id="m1", text="winks", to="小明", action=True))
    assert outputs[0] == Send(
        "b", ev.ChatMessage(id="h-1", sender="alice", text="winks", time=T0, to="小明", action=True)
    )


def test_a_private_message_to_oneself_is_acked_then_delivered_back(room: Room) -> None:
    outputs = room.handle("a", ev.Say(id="m1", text="note to self", to="ALICE"))
    message = ev.ChatMessage(id="h-1", sender="alice", text="note to self", time=T0, to="alice")
    assert outputs == [Send("a", ev.Ack(id="m1", msg_id="h-1", time=T0)), Send("a", message)]


def test_a_private_message_to_an_unknown_nickname_is_an_error(room: Room) -> None:
    outputs = room.handle("a", ev.Say(id="m1", text="hello?", to="dave"))
    assert outputs == [Send("a", ev.Error(code="no_such_member", text="dave is not here", ref="m1"))]
    assert room.handle("a", ev.Say(id="m2", text="x"))[0].event.id == "h-1"  # no id was used up


@pytest.mark.parametrize("text", [" ", "\n\n", "\t \n "])
def test_an_empty_message_is_an_error(room: Room, text: str) -> None:
    outputs = room.handle("a", ev.Say(id="m1", text=text))
    assert outputs == [Send("a", ev.Error(code="empty", text="empty messages are not sent", ref="m1"))]
    assert room.history() == ()


def test_trailing_whitespace_is_trimmed_but_leading_indentation_kept(room: Room) -> None:
    outputs = room.handle("a", ev.Say(id="m1", text="    code()\n  more  \n\n"))
    assert outputs[0].event.text == "    code()\n  more"


def test_who_lists_the_members(room: Room) -> None:
    assert room.handle("b", ev.Who()) == [
        Send(
            "b",
            ev.Members(
                members=(
                    ev.MemberInfo("alice", since=T0),
                    ev.MemberInfo("小明", since=T0),
                    ev.MemberInfo("Carol", since=T0),
                )
            ),
        )
    ]


def test_ping_is_answered_with_its_token_and_pong_needs_nothing(room: Room) -> None:
    assert room.handle("a", ev.Ping(token="t7")) == [Send("a", ev.Pong(token="t7"))]
    assert room.handle("a", ev.Pong(token="x")) == []


def test_events_from_someone_who_has_not_joined_are_answered_with_an_error(room: Room) -> None:
    assert room.handle("stranger", ev.Say(id="1", text="hi")) == [
        Send("stranger", ev.Error(code="not_joined", text="say hello first"))
    ]


@pytest.mark.parametrize(
    "event",
    [
        ev.ChatMessage(id="1", sender="alice", text="forged", time=0),
        ev.Joined(nick="ghost", time=0),
        ev.Hello(version=PROTOCOL_VERSION, nick="x", client_id="y"),
        ev.Error(code="x", text="y"),
    ],
)
def test_events_a_member_may_not_send_are_refused(room: Room, event: ev.Event) -> None:
    assert room.handle("a", event) == [
        Send("a", ev.Error(code="not_allowed", text=f"{event.TYPE!r} is not allowed here"))
    ]
    assert room.history() == ()


def test_routing_follows_a_rename(room: Room) -> None:
    room.handle("c", ev.Rename(nick="Caroline"))
    assert room.handle("a", ev.Say(id="m1", text="hi", to="carol"))[0].event.code == "no_such_member"
    assert room.handle("a", ev.Say(id="m2", text="hi", to="caroline"))[0].to == "c"


def test_nobody_receives_a_message_after_leaving(room: Room) -> None:
    room.leave("c")
    assert room.handle("a", ev.Say(id="m1", text="hi", to="Carol"))[0].event.code == "no_such_member"
    assert room.handle("c", ev.Say(id="m2", text="hi"))[0].event.code == "not_joined"
