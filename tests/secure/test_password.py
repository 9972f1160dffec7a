"""A room keeps its password only as a salted hash; the check is exact and constant-time."""

from __future__ import annotations

from net.protocol import events as ev
from net.protocol.limits import PROTOCOL_VERSION
from net.room import Room, RoomConfig, Send
from net.secure.password import PasswordHash


def test_the_hash_is_salted_and_matches_only_the_password() -> None:
    first, second = PasswordHash.of("门口"), PasswordHash.of("门口")
    assert first.salt != second.salt and first.digest != second.digest
    assert first.matches("门口") and not first.matches("门") and not first.matches(None)


def test_the_room_forgets_the_password_itself_and_still_checks_it() -> None:
    config = RoomConfig(name="r", password="s3cret")
    room = Room(config)
    assert config.password == "s3cret", "the caller's config is left as it was"
    assert room.config.password is None and "s3cret" not in repr(vars(room))
    wrong = room.join("p1", ev.Hello(version=PROTOCOL_VERSION, nick="a", client_id="c", password="nope"))
    assert [o.event.code for o in wrong if isinstance(o, Send)] == ["bad_password"]
    right = room.join("p2", ev.Hello(version=PROTOCOL_VERSION, nick="b", client_id="d", password="s3cret"))
    assert isinstance(right[0], Send) and isinstance(right[0].event, ev.Welcome)
