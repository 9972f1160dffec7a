"""Renaming and typing notices."""

from __future__ import annotations

import pytest

from net.protocol import events as ev
from net.room import Broadcast, Room, Send
from tests.room.fakes import T0, FakeClock, hello, join, make_room


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def room(clock: FakeClock) -> Room:
    room = make_room(clock)
    join(room, "a", "alice")
    join(room, "b", "bob")
    return room


def test_a_rename_is_announced_to_everyone_including_the_renamer(room: Room, clock: FakeClock) -> None:
    clock.advance(4)
    assert room.handle("a", ev.Rename(nick="  小明 ")) == [
        Broadcast(ev.Renamed(old="alice", new="小明", time=T0 + 4))
    ]
    assert room.nick_of("a") == "小明"
    assert room.peer_of("小明") == "a"
    assert room.peer_of("alice") is None
    assert room.handle("a", ev.Who())[0].event.members[0] == ev.MemberInfo("小明", since=T0)


def test_the_old_nickname_is_free_after_a_rename(room: Room) -> None:
    room.handle("a", ev.Rename(nick="alicia"))
    assert join(room, "c", "alice").nick == "alice"


@pytest.mark.parametrize("taken", ["bob", "BOB", "Bob"])
def test_renaming_to_a_taken_nickname_is_refused_case_insensitively(room: Room, taken: str) -> None:
    assert room.handle("a", ev.Rename(nick=taken)) == [
        Send("a", ev.Error(code="nick_taken", text=f"the nickname {taken} is already taken"))
    ]
    assert room.nick_of("a") == "alice"


@pytest.mark.parametrize(
    ("nick", "reason"),
    [
        ("", "the nickname is empty"),
        ("a b", "the nickname may not contain ' '"),
        ("x" * 25, "the nickname is longer than 24 characters"),
    ],
)
def test_renaming_to_an_invalid_nickname_is_refused(room: Room, nick: str, reason: str) -> None:
    assert room.handle("a", ev.Rename(nick=nick)) == [
        Send("a", ev.Error(code="nick_invalid", text=f"invalid nickname: {reason}"))
    ]


def test_a_case_only_change_is_a_rename(room: Room) -> None:
    assert room.handle("a", ev.Rename(nick="Alice")) == [
        Broadcast(ev.Renamed(old="alice", new="Alice", time=T0))
    ]
    assert room.nick_of("a") == "Alice"
    assert room.peer_of("ALICE") == "a"


@pytest.mark.parametrize("look_alike", ["B0B", "ｂｏｂ", "𝐛ob"])
def test_renaming_to_a_look_alike_of_a_present_member_is_refused(room: Room, look_alike: str) -> None:
    outputs = room.handle("a", ev.Rename(nick=look_alike))
    assert [o.event.code for o in outputs if isinstance(o, Send)] == ["nick_taken"]
    assert room.nick_of("a") == "alice"
    assert room.peer_of("bob") == "b"


def test_renaming_to_a_look_alike_of_oneself_is_fine(room: Room) -> None:
    assert room.handle("a", ev.Rename(nick="a1ice")) == [
        Broadcast(ev.Renamed(old="alice", new="a1ice", time=T0))
    ]
    assert room.handle("a", ev.Rename(nick="ALICE")) == [
        Broadcast(ev.Renamed(old="a1ice", new="ALICE", time=T0))
    ]
    assert room.nick_of("a") == "ALICE"
    assert room.peer_of("alice") == "a"


def test_the_old_look_is_free_after_a_rename(room: Room) -> None:
    room.handle("a", ev.Rename(nick="robin"))
    assert join(room, "c", "a1ice").nick == "a1ice"


def test_a_look_alike_is_free_once_its_original_renamed_away(room: Room) -> None:
    room.handle("b", ev.Rename(nick="robert"))
    assert room.handle("a", ev.Rename(nick="B0B")) == [Broadcast(ev.Renamed(old="alice", new="B0B", time=T0))]


def test_renaming_to_the_same_nickname_does_nothing(room: Room) -> None:
    assert room.handle("a", ev.Rename(nick="alice")) == []
    assert room.handle("a", ev.Rename(nick=" alice ")) == []


def test_messages_after_a_rename_carry_the_new_name(room: Room) -> None:
    room.handle("a", ev.Rename(nick="alicia"))
    assert room.handle("a", ev.Say(id="m", text="hi"))[0].event.sender == "alicia"


def test_a_renamed_member_that_reconnects_keeps_its_new_name(room: Room) -> None:
    room.handle("a", ev.Rename(nick="alicia"))
    assert room.join("a2", hello("alicia", "id-alice"))[0].peer == "a"  # the ghost is replaced


# --- typing ------------------------------------------------------------------------------


def test_typing_in_the_room_is_told_to_the_others(room: Room) -> None:
    assert room.handle("a", ev.Typing(active=True)) == [
        Broadcast(ev.TypingNotice(nick="alice", active=True), exclude="a")
    ]
    assert room.handle("a", ev.Typing(active=False)) == [
        Broadcast(ev.TypingNotice(nick="alice", active=False), exclude="a")
    ]


def test_typing_privately_is_told_to_the_recipient_only(room: Room) -> None:
    assert room.handle("a", ev.Typing(active=True, to="BOB")) == [
        Send("b", ev.TypingNotice(nick="alice", active=True, to="bob"))
    ]


@pytest.mark.parametrize("to", ["nobody", "alice", "ALICE"])
def test_typing_to_an_unknown_member_or_oneself_is_dropped(room: Room, to: str) -> None:
    assert room.handle("a", ev.Typing(active=True, to=to)) == []


def test_typing_notices_over_the_rate_limit_are_skipped_but_stops_always_pass(clock: FakeClock) -> None:
    room = make_room(clock, rate_per_second=1, rate_burst=1)
    join(room, "a", "alice")
    join(room, "b", "bob")
    assert len(room.handle("a", ev.Typing(active=True))) == 1
    assert room.handle("a", ev.Typing(active=True)) == []
    assert room.handle("a", ev.Typing(active=False)) == [
        Broadcast(ev.TypingNotice(nick="alice", active=False), exclude="a")
    ]
