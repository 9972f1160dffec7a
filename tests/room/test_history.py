"""History: the newest messages are replayed to a joiner, and a welcome always fits one frame."""

from __future__ import annotations

import pytest

from net.protocol import events as ev
from net.protocol.codec import decode_frame, encode_event
from net.protocol.limits import DEFAULT_HISTORY_SIZE, MAX_FRAME_BYTES, MAX_HISTORY_IN_WELCOME, MAX_TEXT_CHARS
from net.room import Room
from tests.room.fakes import FakeClock, join, make_room


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _say_many(room: Room, peer: object, count: int, text: str = "m{}") -> None:
    for number in range(count):
        room.handle(peer, ev.Say(id=f"s{number}", text=text.format(number)))


def test_the_default_history_keeps_the_newest_200(clock: FakeClock) -> None:
    assert DEFAULT_HISTORY_SIZE == 200
    room = make_room(clock, rate_per_second=0)
    join(room, 1, "alice")
    _say_many(room, 1, 250)
    history = room.history()
    assert [m.text for m in history] == [f"m{n}" for n in range(50, 250)]
    welcome = join(room, 2, "bob")
    assert welcome.history == history
    assert [m.id for m in welcome.history][:2] == ["h-51", "h-52"]


def test_a_configured_history_size(clock: FakeClock) -> None:
    room = make_room(clock, history_size=3, rate_per_second=0)
    join(room, 1, "alice")
    _say_many(room, 1, 10)
    assert [m.text for m in join(room, 2, "bob").history] == ["m7", "m8", "m9"]


def test_no_history_at_all(clock: FakeClock) -> None:
    room = make_room(clock, history_size=0, rate_per_second=0)
    join(room, 1, "alice")
    _say_many(room, 1, 5)
    assert join(room, 2, "bob").history == ()


def test_the_history_keeps_order_and_every_field(clock: FakeClock) -> None:
    room = make_room(clock)
    join(room, 1, "alice")
    room.handle(1, ev.Say(id="a", text="first"))
    clock.advance(2)
    room.handle(1, ev.Say(id="b", text="waves", action=True))
    assert join(room, 2, "bob").history == (
        ev.ChatMessage(id="h-1", sender="alice", text="first", time=clock.now_wall - 2),
        ev.ChatMessage(id="h-2", sender="alice", text="waves", time=clock.now_wall, action=True),
    )


def _assert_fits(welcome: ev.Welcome) -> int:
    frame = encode_event(welcome)
    assert len(frame) <= MAX_FRAME_BYTES
    assert decode_frame(frame[:-1], from_host=True) == welcome
    return len(frame)


@pytest.mark.parametrize("char", ["a", "中", "😀"])
def test_huge_messages_are_replayed_newest_first_until_the_frame_is_full(clock: FakeClock, char: str) -> None:
    room = make_room(clock, rate_per_second=0)
    join(room, 1, "alice")
    _say_many(room, 1, 30, text="{}" + char * (MAX_TEXT_CHARS - 2))
    welcome = join(room, 2, "bob")
    size = _assert_fits(welcome)
    # The bound allows 4 bytes a character: two 16 Ki texts fit the 160 KiB budget, a third not.
    assert [m.text[:2] for m in welcome.history] == ["28", "29"]
    assert size > 2 * MAX_TEXT_CHARS * len(char.encode())


def test_a_welcome_fits_with_a_thousand_long_nicknames_and_huge_history() -> None:
    clock = FakeClock(wall=1_763_790_240.123456)  # fractional times: the longest numbers
    room = make_room(clock, rate_per_second=0, max_members=1000)
    for number in range(999):
        # 24 characters of CJK Extension B: 4 bytes each, the longest a nickname can encode.
        nick = "".join(chr(0x20000 + number * 24 + offset) for offset in range(24))
        join(room, number, nick)
        clock.advance(0.001)
    _say_many(room, 0, 20, text="{}" + "😀" * (MAX_TEXT_CHARS - 2))
    welcome = join(room, "last", "last")
    assert len(welcome.members) == 1000
    _assert_fits(welcome)
    assert len(welcome.history) >= 1
    assert welcome.history[-1].text.startswith("19")


def test_a_welcome_never_replays_more_than_the_codec_accepts(clock: FakeClock) -> None:
    room = make_room(clock, rate_per_second=0, history_size=5000)
    join(room, 1, "a")
    _say_many(room, 1, 3000, text="x")
    welcome = join(room, 2, "b")
    assert len(welcome.history) <= MAX_HISTORY_IN_WELCOME
    assert welcome.history[-1].id == "h-3000"
    _assert_fits(welcome)
