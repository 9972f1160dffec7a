"""Per-member rate limiting with a fake clock: token bucket, retry_after, flood disconnects."""

from __future__ import annotations

import pytest

from net.protocol import events as ev
from net.protocol.limits import FLOOD_STRIKES, FLOOD_WINDOW_SECONDS
from net.room import Broadcast, Disconnect, Room, Send
from net.room.ratelimit import TokenBucket
from tests.room.fakes import FakeClock, join, make_room

# --- the bucket on its own -----------------------------------------------------------------


def test_a_bucket_allows_a_burst_then_one_per_interval() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == 0.5
    assert bucket.take(0.25) == 0.25
    assert bucket.take(0.5) == 0.0
    assert bucket.take(0.5) == 0.5


def test_a_bucket_refills_up_to_the_burst_only() -> None:
    bucket = TokenBucket(rate=1.0, burst=2, now=0.0)
    bucket.take(0.0)
    bucket.take(0.0)
    assert [bucket.take(1000.0) for _ in range(3)] == [0.0, 0.0, 1.0]


def test_a_rate_of_zero_is_no_limit() -> None:
    bucket = TokenBucket(rate=0, burst=1, now=0.0)
    assert all(bucket.take(0.0) == 0.0 for _ in range(10_000))


def test_a_burst_below_one_still_allows_one_message() -> None:
    bucket = TokenBucket(rate=1.0, burst=0, now=0.0)
    assert (bucket.burst, bucket.take(0.0), bucket.take(0.0)) == (1.0, 0.0, 1.0)


def test_a_clock_going_backwards_does_not_add_tokens() -> None:
    bucket = TokenBucket(rate=1.0, burst=1, now=100.0)
    bucket.take(100.0)
    assert bucket.take(50.0) == 1.0


# --- in the room -----------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _limited_room(clock: FakeClock, rate: float = 2.0, burst: int = 3) -> Room:
    room = make_room(clock, rate_per_second=rate, rate_burst=burst)
    join(room, "a", "alice")
    join(room, "b", "bob")
    return room


def _say(room: Room, number: int, peer: str = "a") -> list:
    return room.handle(peer, ev.Say(id=f"m{number}", text=f"text {number}"))


def test_messages_over_the_limit_are_refused_with_retry_after(clock: FakeClock) -> None:
    room = _limited_room(clock)
    for number in range(3):
        assert isinstance(_say(room, number)[0], Broadcast)
    assert _say(room, 3) == [
        Send(
            "a",
            ev.Error(code="rate_limited", text="too many messages; wait 0.50 s", ref="m3", retry_after=0.5),
        )
    ]
    clock.advance(0.25)
    assert _say(room, 3)[0].event.retry_after == 0.25
    clock.advance(0.25)
    assert _say(room, 3)[0] == Broadcast(
        ev.ChatMessage(id="h-4", sender="alice", text="text 3", time=clock.now_wall), exclude="a"
    )


def test_each_member_has_its_own_bucket(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=1, burst=1)
    assert isinstance(_say(room, 0, "a")[0], Broadcast)
    assert _say(room, 1, "a")[0].event.code == "rate_limited"
    assert isinstance(_say(room, 2, "b")[0], Broadcast)


def test_a_quiet_member_gets_its_full_burst_back(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=1, burst=5)
    results = [_say(room, n)[0] for n in range(6)]
    assert [type(r) for r in results] == [Broadcast] * 5 + [Send]
    clock.advance(3600)
    results = [_say(room, n)[0] for n in range(10, 16)]
    assert [type(r) for r in results] == [Broadcast] * 5 + [Send]


def test_a_rate_of_zero_switches_the_limit_off(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=0)
    for number in range(10_000):
        assert isinstance(_say(room, number)[0], Broadcast)


def test_a_refused_message_may_be_sent_again_with_the_same_id_later(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=1, burst=1)
    _say(room, 0)
    assert _say(room, 1)[0].event.code == "rate_limited"
    clock.advance(1)
    outputs = _say(room, 1)
    assert outputs[0].event.text == "text 1"
    assert outputs[1] == Send("a", ev.Ack(id="m1", msg_id="h-2", time=clock.now_wall))


def test_a_flood_beyond_the_strike_limit_disconnects_the_member(clock: FakeClock) -> None:
    assert (FLOOD_STRIKES, FLOOD_WINDOW_SECONDS) == (500, 10.0)
    room = _limited_room(clock, rate=1, burst=1)
    _say(room, 0)
    for number in range(1, FLOOD_STRIKES + 1):
        assert _say(room, number)[0].event.code == "rate_limited"
    reason = "flooding: too many messages too fast"
    clock.advance(0.001)
    assert _say(room, 9999) == [
        Broadcast(ev.Left(nick="alice", time=clock.now_wall, reason=reason)),
        Disconnect("a", reason),
    ]
    assert "a" not in room


def test_strikes_are_forgotten_after_the_window(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=1, burst=1)
    _say(room, 0)
    for number in range(1, 401):
        assert _say(room, number)[0].event.code == "rate_limited"
    clock.advance(FLOOD_WINDOW_SECONDS + 1)
    assert isinstance(_say(room, 1000)[0], Broadcast)  # the bucket refilled meanwhile
    for number in range(FLOOD_STRIKES):
        assert _say(room, 2000 + number)[0].event.code == "rate_limited"
    assert "a" in room
    assert isinstance(_say(room, 3000)[1], Disconnect)


# --- renames and member lists ----------------------------------------------------------------


def _rename(room: Room, nick: str, peer: str = "a") -> list:
    return room.handle(peer, ev.Rename(nick=nick))


def test_renames_over_the_limit_are_refused_and_announce_nothing(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=2.0, burst=3)
    for old, new in [("alice", "alice0"), ("alice0", "alice1"), ("alice1", "alice2")]:
        assert _rename(room, new) == [Broadcast(ev.Renamed(old=old, new=new, time=clock.now_wall))]
    assert _rename(room, "alice9") == [
        Send("a", ev.Error(code="rate_limited", text="too many renames; wait 0.50 s", retry_after=0.5))
    ]
    assert room.nick_of("a") == "alice2"
    assert room.peer_of("alice9") is None
    clock.advance(0.5)
    assert _rename(room, "alice9")[0].event == ev.Renamed(old="alice2", new="alice9", time=clock.now_wall)


def test_member_list_requests_over_the_limit_are_refused(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=1.0, burst=2)
    for _ in range(2):
        [answer] = room.handle("a", ev.Who())
        assert isinstance(answer.event, ev.Members) and len(answer.event.members) == 2
    assert room.handle("a", ev.Who()) == [
        Send(
            "a",
            ev.Error(code="rate_limited", text="too many member list requests; wait 1.00 s", retry_after=1.0),
        )
    ]
    assert isinstance(room.handle("b", ev.Who())[0].event, ev.Members)  # bob's bucket is his own


def test_renames_and_member_lists_spend_the_same_tokens_as_messages(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=1.0, burst=3)
    assert isinstance(_rename(room, "alicia")[0], Broadcast)
    assert isinstance(room.handle("a", ev.Who())[0].event, ev.Members)
    assert isinstance(_say(room, 0)[0], Broadcast)
    assert _say(room, 1)[0].event.code == "rate_limited"
    assert _rename(room, "ally")[0].event.code == "rate_limited"


def test_a_refused_rename_to_a_taken_nickname_still_costs_a_token(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=1.0, burst=2)
    assert _rename(room, "BOB")[0].event.code == "nick_taken"
    assert _rename(room, "bad\nname")[0].event.code == "nick_invalid"
    assert _rename(room, "BOB")[0].event.code == "rate_limited"


def test_a_rename_flood_disconnects_like_a_message_flood(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=1, burst=1)
    _rename(room, "first")
    for number in range(FLOOD_STRIKES):
        outputs = _rename(room, f"n{number}") if number % 2 else room.handle("a", ev.Who())
        assert outputs[0].event.code == "rate_limited"
    reason = "flooding: too many messages too fast"
    assert _rename(room, "last") == [
        Broadcast(ev.Left(nick="first", time=clock.now_wall, reason=reason)),
        Disconnect("a", reason),
    ]
    assert "a" not in room


def test_a_rate_of_zero_leaves_renames_and_member_lists_unlimited(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=0)
    for number in range(2_000):
        assert isinstance(_rename(room, f"a{number}")[0], Broadcast)
        assert isinstance(room.handle("a", ev.Who())[0].event, ev.Members)
