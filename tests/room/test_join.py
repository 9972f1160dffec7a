"""Joining and leaving: the welcome, join notices, every refusal, reconnects replacing ghosts."""

from __future__ import annotations

import pytest

from net.protocol import events as ev
from net.protocol.limits import PROTOCOL_VERSION
from net.room import Broadcast, Disconnect, Room, RoomConfig, Send
from tests.room.fakes import T0, FakeClock, hello, join, make_room


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_the_first_member_gets_a_welcome_and_nobody_to_tell(clock: FakeClock) -> None:
    room = make_room(clock, name="Lab")
    outputs = room.join("p1", hello("小明"))
    welcome = ev.Welcome(
        version=PROTOCOL_VERSION,
        nick="小明",
        room="Lab",
        members=(ev.MemberInfo(nick="小明", host=False, since=T0),),
        history=(),
        time=T0,
        heartbeat=10.0,
        rate=20.0,
        burst=60,
    )
    assert outputs == [Send("p1", welcome), Broadcast(ev.Joined(nick="小明", time=T0), exclude="p1")]
    assert len(room) == 1
    assert "p1" in room
    assert room.peers() == ["p1"]
    assert room.nick_of("p1") == "小明"
    assert room.peer_of("小明") == "p1"


def test_a_second_member_sees_both_and_the_first_is_told(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, 1, "alice")
    clock.advance(5)
    outputs = room.join(2, hello("bob"))
    assert outputs[0] == Send(
        2,
        ev.Welcome(
            version=PROTOCOL_VERSION,
            nick="bob",
            room="LanChat",
            members=(ev.MemberInfo("alice", since=T0), ev.MemberInfo("bob", since=T0 + 5)),
            time=T0 + 5,
            heartbeat=10.0,
            rate=20.0,
            burst=60,
        ),
    )
    assert outputs[1:] == [Broadcast(ev.Joined(nick="bob", time=T0 + 5), exclude=2)]


def test_the_welcome_carries_the_configured_heartbeat_and_no_rate_when_unlimited(clock: FakeClock) -> None:
    welcome = join(make_room(clock, heartbeat_interval=2.5, rate_per_second=0), 1, "a")
    assert (welcome.heartbeat, welcome.rate, welcome.burst) == (2.5, None, None)
    welcome = join(make_room(clock, rate_per_second=5, rate_burst=7), 1, "a")
    assert (welcome.rate, welcome.burst) == (5, 7)


def test_the_nickname_is_normalised_and_the_welcome_says_which_was_assigned(clock: FakeClock) -> None:
    room = make_room(clock)
    assert join(room, 1, "  Jose\u0301  ").nick == "José"
    assert room.peer_of("JOSÉ") == 1


def test_the_owner_is_marked_as_host(clock: FakeClock) -> None:
    room = make_room(clock, owner_client_id="owner-id")
    outputs = room.join(1, hello("boss", "owner-id"))
    assert outputs[1] == Broadcast(ev.Joined(nick="boss", time=T0, host=True), exclude=1)
    welcome = join(room, 2, "guest")
    assert welcome.members == (ev.MemberInfo("boss", host=True, since=T0), ev.MemberInfo("guest", since=T0))


def test_the_room_name_is_cut_to_the_limit(clock: FakeClock) -> None:
    room = make_room(clock, name="R" * 100)
    assert room.name == "R" * 48
    assert join(room, 1, "a").room == "R" * 48


# --- refusals ----------------------------------------------------------------------------


def _refusal(code: str, text: str, peer: object = 9) -> list:
    return [Send(peer, ev.Refuse(code=code, text=text)), Disconnect(peer, text)]


@pytest.mark.parametrize("version", [0, 1, 3, -1, 2**53])
def test_a_different_protocol_version_is_refused(clock: FakeClock, version: int) -> None:
    room = make_room(clock)
    outputs = room.join(9, ev.Hello(version=version, nick="a", client_id="c"))
    text = f"this host speaks protocol version 2, you speak {version}"
    assert outputs == _refusal("version_mismatch", text)
    assert len(room) == 0


@pytest.mark.parametrize(
    ("nick", "reason"),
    [
        ("", "the nickname is empty"),
        ("two words", "the nickname may not contain ' '"),
        ("a/b", "the nickname may not contain '/'"),
        ("bell\x07", "the nickname may not contain 'U+0007'"),
        ("n" * 25, "the nickname is longer than 24 characters"),
    ],
)
def test_an_invalid_nickname_is_refused(clock: FakeClock, nick: str, reason: str) -> None:
    room = make_room(clock)
    assert room.join(9, hello(nick, "c")) == _refusal("nick_invalid", f"invalid nickname: {reason}")


@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice", " alice "])
def test_a_taken_nickname_is_refused_case_insensitively(clock: FakeClock, taken: str) -> None:
    room = make_room(clock)
    join(room, 1, "Alice")
    text = f"the nickname {taken.strip()} is already taken"
    assert room.join(9, hello(taken, "another-client")) == _refusal("nick_taken", text)
    assert room.nick_of(1) == "Alice"
    assert len(room) == 1


def test_strasse_and_strasse_with_sharp_s_clash(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, 1, "Straße")
    assert room.join(9, hello("STRASSE"))[0] == Send(
        9, ev.Refuse(code="nick_taken", text="the nickname STRASSE is already taken")
    )


@pytest.mark.parametrize("look_alike", ["ａｌｉｃｅ", "𝐚lice", "ALICE", "Alice"])
def test_a_folded_form_of_a_present_nickname_is_taken(clock: FakeClock, look_alike: str) -> None:
    room = make_room(clock)
    join(room, 1, "alice")
    assert room.join(9, hello(look_alike))[0].event.code == "nick_taken"
    assert len(room) == 1


@pytest.mark.parametrize(
    ("present", "look_alike"),
    [("peace", "реасе"), ("TOM", "ТОМ"), ("ABE", "ΑΒΕ"), ("Ian", "lan"), ("mary", "rnary"), ("BOB", "B0B")],
)
def test_a_look_alike_of_a_present_member_is_taken(clock: FakeClock, present: str, look_alike: str) -> None:
    room = make_room(clock)
    join(room, 1, present)
    assert room.join(9, hello(look_alike)) == _refusal(
        "nick_taken", f"the nickname {look_alike} looks too much like {present}, who is already here"
    )
    assert len(room) == 1
    room.leave(1)
    assert join(room, 9, look_alike).nick == look_alike  # free once the original has gone


@pytest.mark.parametrize("nick", ["аlice", "αlice", "\u3164", "al\u200bice", "ali\u3164ce"])
def test_mixed_script_and_invisible_nicknames_are_refused(clock: FakeClock, nick: str) -> None:
    room = make_room(clock)
    assert room.join(9, hello(nick))[0].event.code == "nick_invalid"
    assert len(room) == 0


def test_a_full_room_refuses_and_makes_room_again_after_a_leave(clock: FakeClock) -> None:
    room = make_room(clock, max_members=2)
    join(room, 1, "a")
    join(room, 2, "b")
    assert room.join(9, hello("c")) == _refusal("room_full", "the room is full (2 members)")
    room.leave(1)
    assert join(room, 9, "c").nick == "c"


@pytest.mark.parametrize("password", [None, "", "wrong", "S3CRET"])
def test_a_wrong_or_missing_password_is_refused(clock: FakeClock, password: str | None) -> None:
    room = make_room(clock, password="s3cret")
    outputs = room.join(9, hello("a", password=password))
    assert outputs == _refusal("bad_password", "wrong or missing password")


def test_the_right_password_lets_in(clock: FakeClock) -> None:
    room = make_room(clock, password="s3cret")
    assert room.join(1, hello("a", password="s3cret"))[0].event.nick == "a"


def test_the_checks_come_in_order_version_password_nickname_room(clock: FakeClock) -> None:
    room = make_room(clock, password="pw", max_members=1)
    assert room.join(1, hello("a", password="pw"))[0].event.nick == "a"
    bad_everything = ev.Hello(version=7, nick="a", client_id="x", password="no")
    assert room.join(9, bad_everything)[0].event.code == "version_mismatch"
    assert room.join(9, hello("a", password="no"))[0].event.code == "bad_password"
    assert room.join(9, hello("a/b", password="pw"))[0].event.code == "nick_invalid"
    assert room.join(9, hello("A", password="pw"))[0].event.code == "nick_taken"
    assert room.join(9, hello("b", password="pw"))[0].event.code == "room_full"


def test_joining_twice_on_one_connection_is_an_error_not_a_refusal(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, 1, "a")
    assert room.join(1, hello("b")) == [Send(1, ev.Error(code="not_allowed", text="already joined"))]
    assert room.nick_of(1) == "a"


# --- leaving -----------------------------------------------------------------------------


def test_leaving_tells_the_others_and_frees_the_nickname(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, 1, "alice")
    join(room, 2, "bob")
    clock.advance(3)
    assert room.leave(1, "connection lost") == [
        Broadcast(ev.Left(nick="alice", time=T0 + 3, reason="connection lost", cause="lost"))
    ]
    assert room.peers() == [2]
    assert room.peer_of("alice") is None
    assert join(room, 3, "ALICE").nick == "ALICE"


def test_leaving_twice_or_without_joining_is_harmless(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, 1, "a")
    assert room.leave(1) == [Broadcast(ev.Left(nick="a", time=T0, reason="", cause="lost"))]
    assert room.leave(1) == []
    assert room.leave("never") == []


def test_the_cause_of_a_leave_goes_to_the_others(clock: FakeClock) -> None:
    """Issue 15, 5: the others are told what happened, not only "left"."""
    room = make_room(clock)
    for peer, nick in enumerate(("a", "b", "c")):
        join(room, peer, nick)
    [timed_out] = room.leave(0, "timed out", ev.LeaveCause.TIMED_OUT)
    [lost] = room.leave(1, "connection lost (Connection reset by peer)")  # the transport's default
    assert (timed_out.event.cause, lost.event.cause) == ("timed_out", "lost")


def test_a_long_leave_reason_is_cut(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, 1, "a")
    [left] = room.leave(1, "r" * 1000)
    assert left.event.reason == "r" * 300


def test_bye_leaves_and_disconnects(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, 1, "a")
    assert room.handle(1, ev.Bye(reason="see you")) == [
        Broadcast(ev.Left(nick="a", time=T0, reason="see you", cause="quit")),
        Disconnect(1, "see you", "quit"),
    ]
    join(room, 2, "b")
    assert room.handle(2, ev.Bye()) == [
        Broadcast(ev.Left(nick="b", time=T0, reason="left", cause="quit")),
        Disconnect(2, "left", "quit"),
    ]
    assert len(room) == 0


# --- reconnecting ------------------------------------------------------------------------


def test_a_reconnect_with_the_same_client_id_replaces_the_ghost_quietly(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, "old", "alice", "c-alice")
    join(room, "bob", "bob")
    clock.advance(60)
    outputs = room.join("new", hello("alice", "c-alice"))
    assert outputs == [
        Disconnect("old", "replaced by a new connection", "replaced"),
        Send(
            "new",
            ev.Welcome(
                version=PROTOCOL_VERSION,
                nick="alice",
                room="LanChat",
                members=(ev.MemberInfo("bob", since=T0), ev.MemberInfo("alice", since=T0)),
                time=T0 + 60,
                heartbeat=10.0,
                rate=20.0,
                burst=60,
            ),
        ),
    ]
    assert room.peers() == ["bob", "new"]
    assert room.peer_of("alice") == "new"
    assert room.leave("old") == []  # the transport closing the ghost later tells nobody


def test_a_reconnect_under_a_new_nickname_is_a_rename_sent_after_the_welcome(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, "old", "alice", "c-alice")
    join(room, "bob", "bob")
    outputs = room.join("new", hello("alicia", "c-alice"))
    assert [type(o) for o in outputs] == [Disconnect, Broadcast, Send]
    assert outputs[1] == Broadcast(ev.Renamed(old="alice", new="alicia", time=T0), exclude="new")
    assert outputs[2].to == "new"
    assert outputs[2].event.nick == "alicia"
    assert room.peer_of("alice") is None


def test_a_reconnect_may_not_take_someone_elses_nickname(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, "old", "alice", "c-alice")
    join(room, "bob", "bob")
    outputs = room.join("new", hello("bob", "c-alice"))
    assert outputs[0] == Send("new", ev.Refuse(code="nick_taken", text="the nickname bob is already taken"))
    assert room.peer_of("alice") == "old"


def test_a_reconnect_gets_in_even_when_the_room_is_full(clock: FakeClock) -> None:
    room = make_room(clock, max_members=2)
    join(room, "old", "alice", "c-alice")
    join(room, "bob", "bob")
    assert join(room, "new", "alice", "c-alice").nick == "alice"
    assert len(room) == 2


def test_a_message_resent_to_a_restarted_host_keeps_its_id(clock: FakeClock) -> None:
    """Ids derive from (client id, the client's message id), so receivers can drop the repeat."""
    ids = []
    for _ in range(2):  # a host restart builds a new room
        room = Room(RoomConfig(), wall_clock=clock.wall, monotonic=clock.mono)
        join(room, 1, "a")
        outputs = room.handle(1, ev.Say(id="m1", text="hi"))
        ids.append(outputs[0].event.id)
    assert ids[0] == ids[1]
    assert len(ids[0]) == 12 and "id-a" not in ids[0]


def test_derived_ids_differ_per_message_and_per_client(clock: FakeClock) -> None:
    room = Room(RoomConfig(rate_per_second=0), wall_clock=clock.wall, monotonic=clock.mono)
    join(room, 1, "a")
    join(room, 2, "b")
    ids = {room.handle(peer, ev.Say(id=say_id, text="x"))[0].event.id for peer in (1, 2) for say_id in "pq"}
    assert len(ids) == 4
