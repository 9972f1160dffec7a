"""File transfers end to end through a real host, over TCP and UDP rooms: the offer,
accept and grant go through the room, the bytes over the TLS side stream."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from net.api import ClientConfig, ClientState, HostConfig
from net.files import events as fe
from net.files.transfers import FileTransfers
from net.protocol import events as ev
from net.room import RoomConfig
from net.transports import make_client, make_host
from tests.helpers import wait_until
from tests.identity import secure, session_identity


class Member:
    """A chat client with its file transfers, and what it was told."""

    def __init__(self, transport: str, port: int, nick: str) -> None:
        self.events: list[object] = []
        config = ClientConfig(
            host="127.0.0.1", port=port, nick=nick, backoff=(0.1, 0.2), connect_timeout=2.0, files=True
        )
        self.client = make_client(transport, config, lambda event: self.transfers.deliver(event))
        self.transfers = FileTransfers(
            session_identity(),
            self.client.send_file_step,  # type: ignore[attr-defined]
            self.events.append,
            own_nick=lambda: self.client.nick,
            host_address="127.0.0.1",
            bind="127.0.0.1",
        )
        self.transfers.start()
        self.client.start()
        wait_until(lambda: self.client.state is ClientState.CONNECTED, message=f"{nick} connected")

    def of_type(self, kind: type) -> list:
        return [event for event in list(self.events) if isinstance(event, kind)]

    def close(self) -> None:
        self.transfers.close()
        self.client.close()


@pytest.fixture(params=("tcp", "udp"))
def room(request):
    host = make_host(
        request.param,
        HostConfig(port=0, bind="127.0.0.1", room=RoomConfig(name="files", rate_per_second=0), **secure({})),
    )
    host.start()
    members: list[Member] = []

    def join(nick: str) -> Member:
        member = Member(request.param, host.port, nick)
        members.append(member)
        return member

    try:
        yield join
    finally:
        for member in members:
            member.close()
        host.stop()


def test_a_folder_offered_to_the_room_is_fetched_through_the_host_by_each_member(
    room, tmp_path: Path
) -> None:
    alice, bob, carol = room("alice"), room("bob"), room("小红")
    source = tmp_path / "相册"
    (source / "空的").mkdir(parents=True)
    (source / "旅行" / "北京").mkdir(parents=True)
    (source / "旅行" / "北京" / "长城.jpg").write_bytes(os.urandom(300_000))
    (source / "说明.txt").write_text("你好", encoding="utf-8")

    offer = alice.transfers.offer([source])
    for member in (bob, carol):
        [received] = wait_until(lambda m=member: m.of_type(fe.OfferReceived), message="the offer")
        assert (received.offer, received.sender, received.names, received.count) == (
            offer,
            "alice",
            ("相册",),
            2,
        )
        assert received.size == 300_000 + len("你好".encode())
        assert not received.private
        member.transfers.accept("alice", offer, tmp_path / member.client.nick)
    for member in (bob, carol):
        [done] = wait_until(lambda m=member: m.of_type(fe.TransferFinished), message="the transfer")
        target = tmp_path / member.client.nick / "相册"
        assert (target / "旅行" / "北京" / "长城.jpg").read_bytes() == (
            source / "旅行" / "北京" / "长城.jpg"
        ).read_bytes()
        assert (target / "说明.txt").read_text(encoding="utf-8") == "你好"
        assert (target / "空的").is_dir()
        assert done.received == received.size and done.resumed == 0
    answered = wait_until(
        lambda: len(alice.of_type(fe.OfferAnswered)) == 2 and alice.of_type(fe.OfferAnswered)
    )
    assert {a.member for a in answered} == {"bob", "小红"} and all(a.accepted for a in answered)


def test_a_private_offer_reaches_only_its_member_and_a_decline_comes_back(room, tmp_path: Path) -> None:
    alice, bob, carol = room("alice"), room("bob"), room("carol")
    (tmp_path / "a.txt").write_bytes(b"x" * 10)
    offer = alice.transfers.offer([tmp_path / "a.txt"], to="bob")
    [received] = wait_until(lambda: bob.of_type(fe.OfferReceived))
    assert received.private
    bob.transfers.decline("alice", offer, "not now")
    [answer] = wait_until(lambda: alice.of_type(fe.OfferAnswered))
    assert (answer.member, answer.accepted, answer.reason) == ("bob", False, "not now")
    assert carol.of_type(fe.OfferReceived) == []


def test_a_cancelled_offer_cannot_be_fetched(room, tmp_path: Path) -> None:
    alice, bob = room("alice"), room("bob")
    (tmp_path / "a.txt").write_bytes(b"x" * 10)
    offer = alice.transfers.offer([tmp_path / "a.txt"])
    wait_until(lambda: bob.of_type(fe.OfferReceived))
    alice.transfers.cancel(offer)
    [cancelled] = wait_until(lambda: bob.of_type(fe.OfferCancelled))
    assert cancelled.sender == "alice"
    with pytest.raises(KeyError):
        bob.transfers.accept("alice", offer, tmp_path / "in")


def test_a_client_that_did_not_announce_files_gets_no_file_frames_and_offers_to_it_are_refused(
    room, tmp_path: Path
) -> None:
    """An older LanChat (protocol 2, before files) must not be sent the `file` kind it cannot
    read: the room-wide offer skips it, an offer to it is refused to the sender by name."""
    alice, bob = room("alice"), room("bob")
    older_events: list[object] = []
    older = make_client(
        alice.client.transport,  # type: ignore[attr-defined]
        ClientConfig(host="127.0.0.1", port=alice.client.config.port, nick="dave"),  # type: ignore[attr-defined]
        older_events.append,
    )  # no `files` in its hello
    older.start()
    try:
        wait_until(lambda: older.state is ClientState.CONNECTED, message="dave connected")
        source = tmp_path / "notes.txt"
        source.write_text("hello", encoding="utf-8")
        offer = alice.transfers.offer([source])
        wait_until(lambda: bob.of_type(fe.OfferReceived), message="bob's offer")
        private = alice.transfers.offer([source], to="dave")
        [refusal] = wait_until(
            lambda: [e for e in alice.events if isinstance(e, ev.Error) and e.ref == private],
            message="the refusal",
        )
        assert refusal.code == "files_unsupported"
        assert refusal.text.startswith("dave's LanChat cannot receive files")
        alice.transfers.cancel(offer)
        wait_until(lambda: bob.of_type(fe.OfferCancelled), message="bob told of the cancel")
        older.send_message("still here")  # its connection survived: no protocol errors
        wait_until(
            lambda: any(isinstance(e, ev.ChatMessage) and e.text == "still here" for e in bob.events),
            message="dave's message",
        )
        assert [e for e in older_events if isinstance(e, ev.FileNotice)] == []
        assert older.state is ClientState.CONNECTED
    finally:
        older.close()
