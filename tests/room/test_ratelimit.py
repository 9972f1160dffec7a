"""Per-member rate limiting with a fake clock: token bucket, retry_after, flood disconnects."""

from __future__ import annotations

import pytest

from net.protocol import events as ev
from net.protocol.limits import FLOOD_STRIKES, FLOOD_WINDOW_SECONDS
from net.room import Broadcast, Disconnect, Relay, Room, Send
from net.room.ratelimit import Buckets, TokenBucket
from tests.room.fakes import FakeClock, hello, join, make_room

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
        Broadcast(ev.Left(nick="alice", time=clock.now_wall, reason=reason, cause="removed")),
        Disconnect("a", reason, "removed"),
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
        Broadcast(ev.Left(nick="first", time=clock.now_wall, reason=reason, cause="removed")),
        Disconnect("a", reason, "removed"),
    ]
    assert "a" not in room


def test_a_rate_of_zero_leaves_renames_and_member_lists_unlimited(clock: FakeClock) -> None:
    room = _limited_room(clock, rate=0)
    for number in range(2_000):
        assert isinstance(_rename(room, f"a{number}")[0], Broadcast)
        assert isinstance(room.handle("a", ev.Who())[0].event, ev.Members)


# --- budgets that survive reconnects ---------------------------------------------------------


def _spend(room: Room, peer: str, count: int, first: int = 0) -> int:
    """Messages `peer` got through out of `count` said at once."""
    says = [ev.Say(id=f"{peer}{first + n}", text="x") for n in range(count)]
    outputs = room.handle_says(peer, says)
    return sum(len(o.messages) for o in outputs if isinstance(o, Relay))


def _joins(room: Room, peer: str, nick: str, client_id: str, address: str | None = None) -> None:
    outputs = room.join(peer, hello(nick, client_id), **({} if address is None else {"address": address}))
    welcome = next(o.event for o in outputs if isinstance(o, Send) and o.to == peer)
    assert isinstance(welcome, ev.Welcome), outputs


def test_a_members_budget_survives_leaving_and_joining_again_with_its_client_id(clock: FakeClock) -> None:
    room = make_room(clock, rate_per_second=1, rate_burst=5)
    for attempt in range(10):
        _joins(room, f"p{attempt}", "alice", "client-a")
        expected = 5 if attempt == 0 else 0
        assert _spend(room, f"p{attempt}", 20) == expected, f"attempt {attempt}"
        room.leave(f"p{attempt}")
    clock.advance(2)
    _joins(room, "later", "alice", "client-a")
    assert _spend(room, "later", 20) == 2  # what refilled meanwhile, not a fresh burst


def test_a_connection_replacing_its_ghost_keeps_the_ghosts_budget(clock: FakeClock) -> None:
    room = make_room(clock, rate_per_second=1, rate_burst=5)
    _joins(room, "old", "alice", "client-a")
    assert _spend(room, "old", 5) == 5
    _joins(room, "new", "alice", "client-a")  # the old connection still looks alive
    assert "old" not in room
    assert _spend(room, "new", 5) == 0


def test_another_client_id_has_its_own_budget(clock: FakeClock) -> None:
    room = make_room(clock, rate_per_second=1, rate_burst=5)
    _joins(room, "a", "alice", "client-a")
    assert _spend(room, "a", 10) == 5
    _joins(room, "b", "bob", "client-b")
    assert _spend(room, "b", 10) == 5


# --- the budget an address's members share ----------------------------------------------------


def test_members_from_one_address_share_the_budget_of_a_few_members(clock: FakeClock) -> None:
    room = make_room(clock, rate_per_second=1, rate_burst=5, address_rate_multiple=3)
    for number in range(10):
        _joins(room, f"m{number}", f"m{number}", f"id{number}", address="10.0.0.9")
    _joins(room, "other", "other", "id-other", address="10.0.0.7")
    got = [_spend(room, f"m{number}", 20) for number in range(10)]
    assert got == [5, 5, 5, 0, 0, 0, 0, 0, 0, 0]  # three members' worth of burst, 15
    assert _spend(room, "other", 20) == 5  # another address has a budget of its own
    clock.advance(1)
    assert sum(_spend(room, f"m{number}", 20, first=100) for number in range(10)) == 3


def test_a_flooder_alone_cannot_use_up_its_addresss_budget(clock: FakeClock) -> None:
    room = make_room(clock, rate_per_second=10, rate_burst=10, address_rate_multiple=4)
    _joins(room, "flooder", "flooder", "id-f", address="10.0.0.9")
    _joins(room, "colleague", "colleague", "id-c", address="10.0.0.9")
    for second in range(5):
        _spend(room, "flooder", 100, first=100 * second)
        assert _spend(room, "colleague", 10, first=10 * second) == 10, f"second {second}"
        clock.advance(1)


def test_an_addresss_budget_survives_its_members_reconnecting_under_new_client_ids(
    clock: FakeClock,
) -> None:
    room = make_room(clock, rate_per_second=1, rate_burst=5, address_rate_multiple=2)
    got = []
    for attempt in range(10):
        _joins(room, f"p{attempt}", f"n{attempt}", f"fresh-{attempt}", address="10.0.0.9")
        got.append(_spend(room, f"p{attempt}", 20))
        room.leave(f"p{attempt}")
    assert got == [5, 5] + [0] * 8


def test_without_an_address_or_with_a_multiple_of_zero_nothing_is_shared(clock: FakeClock) -> None:
    for address, multiple in ((None, 3.0), ("10.0.0.9", 0.0)):
        room = make_room(clock, rate_per_second=1, rate_burst=5, address_rate_multiple=multiple)
        for number in range(6):
            _joins(room, f"m{number}", f"m{number}", f"id{number}", address=address)
        assert [_spend(room, f"m{number}", 10) for number in range(6)] == [5] * 6


def test_renames_member_lists_and_typing_draw_on_the_shared_budget_too(clock: FakeClock) -> None:
    room = make_room(clock, rate_per_second=1, rate_burst=2, address_rate_multiple=1)
    _joins(room, "a", "alice", "id-a", address="10.0.0.9")
    _joins(room, "b", "bob", "id-b", address="10.0.0.9")
    assert isinstance(room.handle("a", ev.Who())[0].event, ev.Members)
    assert isinstance(_rename(room, "alicia")[0], Broadcast)
    assert room.handle("b", ev.Who())[0].event.code == "rate_limited"
    assert room.handle("b", ev.Typing(active=True)) == []


# --- what is remembered, and for how long ------------------------------------------------------


def test_buckets_are_shared_by_key_and_kept_until_they_have_refilled() -> None:
    buckets = Buckets(rate=1.0, burst=4, max_idle=100)
    first = buckets.acquire("k", now=0.0)
    assert buckets.acquire("k", now=0.0) is first  # two holders, one bucket
    assert first.take_up_to(3, now=0.0) == 3
    buckets.release("k", now=0.0)
    buckets.release("k", now=0.0)
    assert buckets.acquire("k", now=1.0) is first  # still short of full: remembered
    buckets.release("k", now=1.0)
    buckets.acquire("other", now=10.0)  # anything later sweeps the refilled ones
    assert buckets.idle == 0
    assert buckets.acquire("k", now=10.0) is not first  # a fresh one is the same as a full one


def test_remembered_buckets_are_bounded() -> None:
    buckets = Buckets(rate=1.0, burst=1000, max_idle=3)
    for number in range(10):
        buckets.acquire(f"k{number}", now=0.0).take_up_to(10, now=0.0)
        buckets.release(f"k{number}", now=0.0)
    assert buckets.idle == 3
    assert buckets.acquire("k9", now=0.0).take_up_to(1000, now=0.0) == 990  # the newest are kept
    assert buckets.acquire("k0", now=0.0).take_up_to(1000, now=0.0) == 1000  # the oldest were not


def test_buckets_without_a_rate_are_never_remembered() -> None:
    buckets = Buckets(rate=0.0, burst=1, max_idle=100)
    for number in range(50):
        buckets.acquire(f"k{number}", now=0.0)
        buckets.release(f"k{number}", now=0.0)
    assert buckets.idle == 0


def test_taking_several_tokens_at_once_is_taking_them_one_by_one() -> None:
    together, single = TokenBucket(rate=3.0, burst=7, now=0.0), TokenBucket(rate=3.0, burst=7, now=0.0)
    for now, count in ((0.0, 5), (0.1, 5), (0.37, 1), (0.9, 9), (5.0, 3), (5.01, 20)):
        taken = together.take_up_to(count, now)
        assert taken == sum(single.take(now) == 0.0 for _ in range(count)), now
        assert together.wait(now) == single.wait(now)
    together.give_back(2)
    assert together.take_up_to(5, 5.01) == 2
    assert TokenBucket(rate=0, burst=1, now=0.0).take_up_to(10**6, 0.0) == 10**6
