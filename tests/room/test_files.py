"""The room passes file transfer steps on: stamped with the sender, never in its name."""

from __future__ import annotations

import pytest

from net.files.host_cache import HostCache
from net.files.relay_desk import RelayDesk
from net.protocol import events as ev
from net.protocol.limits import PROTOCOL_VERSION
from net.room import Broadcast, Room, Send
from tests.room.fakes import T0, FakeClock, make_room


@pytest.fixture
def room() -> Room:
    room = make_room(FakeClock())
    for peer, nick in (("a", "alice"), ("b", "小明"), ("c", "carol")):
        room.join(
            peer,
            ev.Hello(version=PROTOCOL_VERSION, nick=nick, client_id=f"id-{nick}"),
            address=f"10.0.0.{peer}",
        )
    return room


def test_a_room_wide_offer_goes_to_the_others_with_the_senders_name_and_address(room: Room) -> None:
    offer = ev.FileControl(
        op="offer", offer="f1", names=("照片",), count=3, size=10, port=4000, key="ab" * 32
    )
    notice = ev.FileNotice(
        op="offer",
        offer="f1",
        sender="alice",
        time=T0,
        names=("照片",),
        count=3,
        size=10,
        port=4000,
        key="ab" * 32,
        address="10.0.0.a",
    )
    assert room.handle("a", offer) == [Broadcast(notice, exclude="a")]


def test_an_accept_goes_to_the_sender_alone_named_by_the_host(room: Room) -> None:
    outputs = room.handle("b", ev.FileControl(op="accept", offer="f1", to="ALICE"))
    assert outputs == [Send("a", ev.FileNotice(op="accept", offer="f1", sender="小明", time=T0, to="alice"))]


def test_a_grant_reaches_only_its_member_and_carries_no_address(room: Room) -> None:
    outputs = room.handle("a", ev.FileControl(op="grant", offer="f1", to="小明", token="t" * 32))
    assert outputs == [
        Send("b", ev.FileNotice(op="grant", offer="f1", sender="alice", time=T0, to="小明", token="t" * 32))
    ]


@pytest.mark.parametrize(
    ("step", "code"),
    [
        (ev.FileControl(op="steal", offer="f1", to="alice"), "bad_field"),
        (ev.FileControl(op="grant", offer="f1"), "bad_field"),  # a grant to the whole room
        (ev.FileControl(op="accept", offer="f1", to="nobody"), "no_such_member"),
    ],
)
def test_bad_steps_are_refused_to_their_sender_only(room: Room, step: ev.FileControl, code: str) -> None:
    [refusal] = room.handle("b", step)
    assert isinstance(refusal, Send) and refusal.to == "b"
    assert isinstance(refusal.event, ev.Error) and refusal.event.code == code


def _notices(outputs: list) -> list[tuple[str, ev.FileNotice]]:
    assert all(isinstance(output, Send) for output in outputs)
    return [(output.to, output.event) for output in outputs]


def test_without_a_relay_an_upload_is_answered_with_why_and_no_ticket(room: Room) -> None:
    [(peer, notice)] = _notices(room.handle("a", ev.FileControl(op="upload", offer="f1", size=1000)))
    assert peer == "a" and (notice.op, notice.to, notice.token, notice.port) == (
        "upload",
        "alice",
        None,
        None,
    )
    assert notice.reason and "plain-text" in notice.reason


def test_accepts_of_a_cached_offer_are_granted_by_the_room_once_per_member(room: Room) -> None:
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
