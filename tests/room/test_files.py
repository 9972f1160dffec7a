"""The room passes file transfer steps on: stamped with the sender, never in its name."""

from __future__ import annotations

import pytest

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
