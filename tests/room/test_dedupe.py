"""Client message ids: a repeat is acked again and never relayed twice, within bounded memory."""

from __future__ import annotations

import pytest

from net.protocol import events as ev
from net.room import Broadcast, Send
from net.room.dedupe import SeenMessages
from tests.room.fakes import T0, FakeClock, hello, join, make_room


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_repeated_id_is_acked_again_with_the_original_ack_and_not_relayed(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, "a", "alice")
    join(room, "b", "bob")
    first = room.handle("a", ev.Say(id="m1", text="once"))
    ack = ev.Ack(id="m1", msg_id="h-1", time=T0)
    assert first[1] == Send("a", ack)
    clock.advance(30)
    assert room.handle("a", ev.Say(id="m1", text="once")) == [Send("a", ack)]
    assert room.handle("a", ev.Say(id="m1", text="even with other text")) == [Send("a", ack)]
    assert len(room.history()) == 1
    assert room.handle("a", ev.Say(id="m2", text="next"))[0].event.id == "h-2"


def test_private_messages_are_deduplicated_too(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, "a", "alice")
    join(room, "b", "bob")
    assert room.handle("a", ev.Say(id="p1", text="psst", to="bob"))[0].to == "b"
    assert room.handle("a", ev.Say(id="p1", text="psst", to="bob")) == [
        Send("a", ev.Ack(id="p1", msg_id="h-1", time=T0))
    ]


def test_a_resend_after_a_reconnect_is_recognised(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, "old", "alice", "c-alice")
    join(room, "b", "bob")
    room.handle("old", ev.Say(id="m1", text="sent before the drop"))
    room.join("new", hello("alice", "c-alice"))  # the old connection is now a replaced ghost
    assert room.handle("new", ev.Say(id="m1", text="sent before the drop")) == [
        Send("new", ev.Ack(id="m1", msg_id="h-1", time=T0))
    ]
    outputs = room.handle("new", ev.Say(id="m2", text="typed while offline"))
    assert outputs[0] == Broadcast(
        ev.ChatMessage(id="h-2", sender="alice", text="typed while offline", time=T0), exclude="new"
    )


def test_a_resend_after_leaving_and_joining_again_is_recognised(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, 1, "alice", "c-alice")
    room.handle(1, ev.Say(id="m1", text="x"))
    room.leave(1, "connection lost")
    join(room, 2, "alice", "c-alice")
    assert room.handle(2, ev.Say(id="m1", text="x")) == [Send(2, ev.Ack(id="m1", msg_id="h-1", time=T0))]


def test_a_resend_is_not_rate_limited(clock: FakeClock) -> None:
    room = make_room(clock, rate_per_second=1, rate_burst=1)
    join(room, 1, "alice")
    room.handle(1, ev.Say(id="m1", text="x"))
    assert room.handle(1, ev.Say(id="m1", text="x")) == [Send(1, ev.Ack(id="m1", msg_id="h-1", time=T0))]


def test_the_same_id_from_another_client_is_a_different_message(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, 1, "alice")
    join(room, 2, "bob")
    room.handle(1, ev.Say(id="1", text="from alice"))
    assert room.handle(2, ev.Say(id="1", text="from bob"))[0].event.id == "h-2"


def test_refused_messages_are_not_remembered(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, 1, "alice")
    assert room.handle(1, ev.Say(id="m1", text="hi", to="bob"))[0].event.code == "no_such_member"
    join(room, 2, "bob")
    assert room.handle(1, ev.Say(id="m1", text="hi", to="bob"))[0] == Send(
        2, ev.ChatMessage(id="h-1", sender="alice", text="hi", time=T0, to="bob")
    )


def test_the_room_remembers_the_newest_1024_ids_per_client(clock: FakeClock) -> None:
    room = make_room(clock, rate_per_second=0)
    join(room, 1, "alice")
    for number in range(1025):
        room.handle(1, ev.Say(id=f"m{number}", text="x"))
    assert room.handle(1, ev.Say(id="m1", text="x")) == [Send(1, ev.Ack(id="m1", msg_id="h-2", time=T0))]
    assert isinstance(room.handle(1, ev.Say(id="m0", text="x"))[0], Broadcast)  # forgotten: the bound


# --- the memory on its own -------------------------------------------------------------------


def _ack(message_id: str) -> ev.Ack:
    return ev.Ack(id=message_id, msg_id=f"h-{message_id}", time=1.0)


def test_seen_messages_per_client_bound() -> None:
    seen = SeenMessages(per_client=3, max_clients=10)
    for number in range(5):
        seen.remember("c", _ack(str(number)))
    assert len(seen) == 3
    assert [seen.get("c", str(n)) for n in range(5)] == [None, None, _ack("2"), _ack("3"), _ack("4")]
    assert seen.get("other", "2") is None


def test_seen_messages_forget_the_least_recently_active_client() -> None:
    seen = SeenMessages(per_client=10, max_clients=2)
    seen.remember("a", _ack("1"))
    seen.remember("b", _ack("1"))
    seen.remember("a", _ack("2"))  # a is now the most recent
    seen.remember("c", _ack("1"))
    assert seen.get("b", "1") is None
    assert seen.get("a", "1") == _ack("1")
    assert seen.get("c", "1") == _ack("1")
    assert len(seen) == 3


def test_the_room_remembers_four_times_as_many_clients_as_it_has_seats(clock: FakeClock) -> None:
    room = make_room(clock, max_members=1)
    for number in range(5):
        join(room, number, f"user{number}")
        room.handle(number, ev.Say(id="m", text="x"))
        room.leave(number)
    join(room, "back0", "user0", "id-user0")
    assert isinstance(room.handle("back0", ev.Say(id="m", text="x"))[0], Broadcast)  # forgotten
    room.leave("back0")
    join(room, "back4", "user4", "id-user4")
    assert room.handle("back4", ev.Say(id="m", text="x")) == [
        Send("back4", ev.Ack(id="m", msg_id="h-5", time=T0))
    ]
