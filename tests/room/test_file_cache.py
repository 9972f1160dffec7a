"""The room and the host's cache of room-wide offers (`net.room.file_cache`): it answers
`upload` steps itself and grants a cached offer to each member once, telling the sender."""

from __future__ import annotations

from net.files.host_cache import HostCache
from net.files.relay_desk import RelayDesk
from net.protocol import events as ev
from net.room import Room, Send
from tests.room.fakes import T0
from tests.room.test_files import room  # noqa: F401  (the fixture: alice, 小明 and carol)


def _notices(outputs: list) -> list[tuple[str, ev.FileNotice]]:
    assert all(isinstance(output, Send) for output in outputs)
    return [(output.to, output.event) for output in outputs]


def test_without_a_relay_an_upload_is_answered_with_why_and_no_ticket(room: Room) -> None:  # noqa: F811
    [(peer, notice)] = _notices(room.handle("a", ev.FileControl(op="upload", offer="f1", size=1000)))
    assert peer == "a" and (notice.op, notice.to, notice.token, notice.port) == (
        "upload",
        "alice",
        None,
        None,
    )
    assert notice.reason and "plain-text" in notice.reason


def test_accepts_of_a_cached_offer_are_granted_by_the_room_once_per_member(room: Room) -> None:  # noqa: F811
    desk = RelayDesk()
    desk.port, desk.key, desk.cache = 47900, "cd" * 32, HostCache()
    room.file_relay = desk
    try:
        [(_, upload)] = _notices(room.handle("a", ev.FileControl(op="upload", offer="f1", size=1000)))
        assert upload.token and (upload.port, upload.key) == (47900, "cd" * 32)
        outputs = room.handle("b", ev.FileControl(op="accept", offer="f1", to="alice"))
        [(to_member, grant), (to_sender, told)] = _notices(outputs)
        assert (to_member, grant.op, grant.sender, grant.to, grant.port) == (
            "b",
            "grant",
            "alice",
            "小明",
            47900,
        )
        assert grant.token and grant.token != upload.token
        assert (to_sender, told.op, told.sender, told.port) == ("a", "accept", "小明", 47900)
        again = room.handle("b", ev.FileControl(op="accept", offer="f1", to="alice"))  # the copy failed it
        direct = ev.FileNotice(op="accept", offer="f1", sender="小明", time=T0, to="alice")
        assert again == [Send("a", direct)]
        room.handle("a", ev.FileControl(op="cancel", offer="f1"))
        assert len(desk.cache) == 0  # the sender's cancel drops the copy
    finally:
        desk.cache.close()
