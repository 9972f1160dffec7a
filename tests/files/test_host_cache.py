"""A room-wide picture goes up to the host once and every member fetches it from there
(`net.files.host_cache`), over real sockets through a real TLS host; and the cache's
bounds and tokens hold against hostile uploads and fetches."""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from net.api import HostConfig
from net.files import events as fe
from net.files import relay as relay_module
from net.files.fetch import Fetch, FetchError, Ticket
from net.files.host_cache import CacheRefused, HostCache
from net.files.limits import CACHE_MEMBER, TOKEN_LIFETIME
from net.files.manifest import build_manifest
from net.files.relay import HostRelay
from net.files.relay_leg import RelayRoute
from net.files.server import Served, TransferServer
from net.files.stream import RELAY, encode_record
from net.room import RoomConfig
from net.secure.tls import client_context
from net.transports import make_host
from tests.files.test_room_transfers import Member
from tests.helpers import wait_until
from tests.identity import secure, session_identity


@pytest.fixture
def cached_room(request, monkeypatch) -> Iterator[Callable[..., Member]]:
    """A TLS room (TCP) whose host's cache takes `cache=dict(...)` limits; join(nick)."""
    limits = getattr(request, "param", {})
    monkeypatch.setattr(relay_module, "HostCache", functools.partial(HostCache, **limits))
    host = make_host(
        "tcp",
        HostConfig(port=0, bind="127.0.0.1", room=RoomConfig(name="files", rate_per_second=0), **secure({})),
    )
    host.start()
    members: list[Member] = []

    def join(nick: str) -> Member:
        members.append(Member("tcp", host.port, nick))
        return members[-1]

    try:
        yield join
    finally:
        for member in members:
            member.close()
        host.stop()


def _fetch_everywhere(sender: Member, members: list[Member], source: Path, folder: Path) -> str:
    offer = sender.transfers.offer([source])
    for member in members:
        wait_until(
            lambda m=member: [o for o in m.of_type(fe.OfferReceived) if o.offer == offer], message="the offer"
        )
        member.transfers.accept(sender.client.nick, offer, folder / member.client.nick)
    return offer


def test_a_room_wide_picture_leaves_the_sender_once_and_each_member_gets_it_from_the_host(
    cached_room, tmp_path: Path
) -> None:
    alice = cached_room("alice")
    members = [cached_room(nick) for nick in ("bob", "carol", "小红")]
    picture = tmp_path / "screenshot.png"
    picture.write_bytes(os.urandom(1_500_000))
    _fetch_everywhere(alice, members, picture, tmp_path)
    for member in members:
        [done] = wait_until(lambda m=member: m.of_type(fe.TransferFinished), message="the fetch", timeout=20)
        assert done.route == "cache" and done.received == 1_500_000
        assert (tmp_path / member.client.nick / "screenshot.png").read_bytes() == picture.read_bytes()
        assert member.of_type(fe.TransferFailed) == []
    answered = wait_until(
        lambda: len(alice.of_type(fe.OfferAnswered)) == 3 and alice.of_type(fe.OfferAnswered)
    )
    assert {a.member for a in answered} == {"bob", "carol", "小红"} and all(a.accepted for a in answered)
    [upload] = alice.of_type(fe.TransferServed)  # the sender's upload counter: one upload
    assert (upload.member, upload.sent, upload.error, upload.route) == (
        CACHE_MEMBER,
        1_500_000,
        None,
        "cache",
    )
    assert alice.transfers.bytes_sent == 1_500_000


@pytest.mark.parametrize("cached_room", [{"max_bytes": 2_000_000}], indirect=True)
def test_a_full_cache_sends_the_next_picture_the_direct_way(cached_room, tmp_path: Path) -> None:
    alice, bob = cached_room("alice"), cached_room("bob")
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    first.write_bytes(os.urandom(1_500_000))
    second.write_bytes(os.urandom(1_000_000))
    _fetch_everywhere(alice, [bob], first, tmp_path)
    wait_until(lambda: bob.of_type(fe.TransferFinished), message="the first picture", timeout=20)
    _fetch_everywhere(alice, [bob], second, tmp_path)  # 2.5 MB would not fit
    done = wait_until(lambda: len(bob.of_type(fe.TransferFinished)) == 2 and bob.of_type(fe.TransferFinished))
    assert [d.route for d in done] == ["cache", "direct"]
    assert (tmp_path / "bob" / "b.png").read_bytes() == second.read_bytes()
    served = wait_until(
        lambda: len(alice.of_type(fe.TransferServed)) == 2 and alice.of_type(fe.TransferServed)
    )
    assert [s.member for s in served] == [CACHE_MEMBER, "bob"]


@pytest.mark.parametrize("cached_room", [{"upload_wait": 0.5}], indirect=True)
def test_when_the_hosts_copy_never_comes_the_member_fetches_from_the_sender(
    cached_room, tmp_path: Path
) -> None:
    alice, bob = cached_room("alice"), cached_room("bob")
    alice.transfers._upload = lambda notice: None  # type: ignore[method-assign]  (an upload that never starts)
    picture = tmp_path / "a.png"
    picture.write_bytes(os.urandom(300_000))
    _fetch_everywhere(alice, [bob], picture, tmp_path)
    [done] = wait_until(lambda: bob.of_type(fe.TransferFinished), message="the fetch", timeout=20)
    assert done.route == "direct"
    assert (tmp_path / "bob" / "a.png").read_bytes() == picture.read_bytes()
    [routed] = bob.of_type(fe.TransferRouted)
    assert routed.route == "direct" and "sender" in routed.text


# -- the cache and its legs, hostile ---------------------------------------------------------


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[HostRelay]:
    relay = HostRelay(
        session_identity(), bind="127.0.0.1", idle_timeout=2.0, cache=HostCache(upload_wait=1.0)
    )
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()


@pytest.fixture
def sender() -> Iterator[TransferServer]:
    reports: list[Served] = []
    server = TransferServer(session_identity(), bind="127.0.0.1", on_served=reports.append)
    server.reports = reports  # type: ignore[attr-defined]
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _upload(relay: HostRelay, sender: TransferServer, offer: str, ticket: str) -> Served:
    token = sender.grant(offer, CACHE_MEMBER)
    route = RelayRoute("127.0.0.1", relay.port, session_identity().fingerprint, ticket, token)
    assert sender.serve_relayed(route, CACHE_MEMBER, offer)
    [served] = wait_until(lambda: sender.reports, message="the upload's end")  # type: ignore[attr-defined]
    return served


def _cached_files(relay: HostRelay) -> list[Path]:
    root = relay.cache._root
    return [path for path in root.rglob("*") if path.is_file()] if root else []


def test_an_upload_bigger_than_offered_is_refused_before_a_byte_is_kept(
    relay: HostRelay, sender: TransferServer, tmp_path: Path
) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(os.urandom(2_000_000))
    sender.add_offer("o1", build_manifest([big]).entries)
    ticket = relay.cache.open_upload("alice", "o1", 1_000_000)  # what the sender asked room for
    served = _upload(relay, sender, "o1", ticket)
    assert served.sent == 0 and served.error is not None and "too_big" in served.error
    wait_until(lambda: len(relay.cache) == 0, message="the entry dropped")
    assert _cached_files(relay) == [] and relay.cache.bytes_held == 0
    assert relay.cache.grant("alice", "o1", "bob") is None  # nothing to fetch: accepts go to the sender


def test_the_cache_keeps_to_its_bounds_and_its_folder_goes_with_the_host(tmp_path: Path) -> None:
    now = [0.0]
    cache = HostCache(max_offer_bytes=1_000, max_bytes=1_500, max_offers=2, lifetime=60, clock=lambda: now[0])
    cache.open_upload("alice", "a", 1_000)
    with pytest.raises(CacheRefused, match="more than the cache takes"):
        cache.open_upload("alice", "b", 1_001)
    with pytest.raises(CacheRefused, match="full"):
        cache.open_upload("alice", "b", 600)
    cache.open_upload("alice", "c", 500)
    with pytest.raises(CacheRefused, match="2 offers"):
        cache.open_upload("bob", "d", 1)
    with pytest.raises(CacheRefused, match="already"):
        cache.open_upload("alice", "c", 1)
    root = cache._root
    assert root is not None and len(list(root.iterdir())) == 2
    now[0] = 61.0  # expired: room again, and their folders are gone
    cache.open_upload("bob", "d", 1_000)
    assert len(cache) == 1 and len(list(root.iterdir())) == 1
    cache.close()
    assert not root.exists()
    with pytest.raises(CacheRefused):
        cache.open_upload("bob", "e", 1)


def test_upload_steps_alone_cannot_fill_the_cache(tmp_path: Path) -> None:
    now = [0.0]
    cache = HostCache(max_bytes=2_000, lifetime=3600, clock=lambda: now[0])
    try:
        cache.open_upload("mallory", "x", 1_000)  # asked for, never uploaded
        begun = cache.open_upload("alice", "a", 1_000)
        cache.take_upload(begun)  # alice's upload is under way
        with pytest.raises(CacheRefused, match="full"):
            cache.open_upload("bob", "b", 1)
        now[0] = TOKEN_LIFETIME + 1  # mallory's ticket expired unused: its room is free again
        assert len(cache) == 1 and cache.bytes_held == 1_000
        cache.open_upload("bob", "b", 1_000)
    finally:
        cache.close()


def test_fetches_without_a_valid_token_and_legs_without_a_ticket_are_refused(
    relay: HostRelay, sender: TransferServer, tmp_path: Path
) -> None:
    picture = tmp_path / "a.png"
    picture.write_bytes(os.urandom(100_000))
    sender.add_offer("o1", build_manifest([picture]).entries)
    served = _upload(relay, sender, "o1", relay.cache.open_upload("alice", "o1", 100_000))
    assert served.error is None and served.sent == 100_000
    key = session_identity().fingerprint

    def fetch(member: str, token: str) -> FetchError:
        ticket = Ticket("127.0.0.1", relay.port, key, "o1", member, token)
        with pytest.raises(FetchError) as failed:
            Fetch(ticket, tmp_path / member).run()
        return failed.value

    assert fetch("bob", "").code == "refused"  # no token at all
    assert fetch("bob", "a-guess").code == "refused"
    token = relay.cache.grant("alice", "o1", "bob")
    assert token is not None
    assert (
        relay.cache.grant("alice", "o1", "bob") is None
    )  # one grant per member: the next accept goes direct
    assert fetch("carol", token).code == "refused"  # bob's token in carol's name (and now used)
    assert not (tmp_path / "bob").exists() and not (tmp_path / "carol").exists()
    good = relay.cache.grant("alice", "o1", "carol")
    assert good is not None
    result = Fetch(Ticket("127.0.0.1", relay.port, key, "o1", "carol", good), tmp_path / "carol").run()
    assert result.received == 100_000 and (tmp_path / "carol" / "a.png").read_bytes() == picture.read_bytes()
    # a leg whose first record is an unknown ticket is closed without a word
    raw = socket.create_connection(("127.0.0.1", relay.port), timeout=5)
    with client_context().wrap_socket(raw) as tls:
        tls.sendall(encode_record(RELAY, {"v": 1, "ticket": "made-up", "token": "x"}))
        assert tls.recv(100) == b""
    assert relay.cache.uploads_done == 1 and len(sender.reports) == 1  # type: ignore[attr-defined]
