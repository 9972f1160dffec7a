"""Transfers through the host's relay when the sender's transfer port refuses connections
(a firewall on the sender's side): the receiver asks the host, both connect out to it, the
host splices the two legs; tokens still decide; and hostile legs are refused."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from net.files import events as fe
from net.files.fetch import Fetch, FetchError, Ticket
from net.files.manifest import build_manifest
from net.files.relay import HostRelay
from net.files.relay_leg import RelayKeyMismatch, RelayRoute, connect, open_leg
from net.files.server import Served, TransferServer
from net.files.stream import RELAY, encode_record
from net.secure.tls import client_context
from tests.files.test_room_transfers import room  # noqa: F401  (the fixture)
from tests.helpers import wait_until
from tests.identity import session_identity


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port where connections are refused (bound, never listening): a firewall's REJECT."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_fetch_goes_through_the_host_when_the_senders_port_refuses(
    room,  # noqa: F811  (the fixture imported above)
    refused_port: int,
    tmp_path: Path,
) -> None:
    alice, bob = room("alice"), room("bob")
    alice.transfers._server.port = refused_port  # what the offer names: the firewall refuses it
    source = tmp_path / "photo.jpg"
    source.write_bytes(os.urandom(3_000_000))
    offer = alice.transfers.offer([source], to="bob")
    wait_until(lambda: bob.of_type(fe.OfferReceived), message="the offer")
    bob.transfers.accept("alice", offer, tmp_path / "in")
    [done] = wait_until(lambda: bob.of_type(fe.TransferFinished), message="the relayed transfer", timeout=20)
    assert done.route == "host"
    assert sha256(tmp_path / "in" / "photo.jpg") == sha256(source)
    [routed] = bob.of_type(fe.TransferRouted)
    assert routed.route == "host" and "port" in routed.text
    assert bob.of_type(fe.TransferFailed) == []
    [served] = wait_until(lambda: alice.of_type(fe.TransferServed))
    assert (served.member, served.sent, served.error, served.route) == ("bob", 3_000_000, None, "host")


@pytest.fixture
def relay() -> Iterator[HostRelay]:
    relay = HostRelay(session_identity(), bind="127.0.0.1", idle_timeout=1.0, max_relays=2)
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


def _routes(relay: HostRelay, offer: str = "o1") -> tuple[RelayRoute, RelayRoute]:
    fetch_ticket, send_ticket = relay.desk.open(offer, "bob", "alice")
    key = session_identity().fingerprint
    return (
        RelayRoute("127.0.0.1", relay.port, key, fetch_ticket),
        RelayRoute("127.0.0.1", relay.port, key, send_ticket),
    )


def _closed_by_relay(route: RelayRoute, record: bytes | None = None) -> bool:
    """Open a leg with `record` (default: the route's ticket) and see the relay end it."""
    raw = connect(route, 5.0)
    tls = client_context().wrap_socket(raw)
    try:
        tls.sendall(record if record is not None else encode_record(RELAY, {"v": 1, "ticket": route.ticket}))
        return tls.recv(100) == b""
    except OSError:
        return True
    finally:
        tls.close()


def test_relayed_bytes_reach_the_receiver_and_the_token_still_decides(
    relay: HostRelay, sender: TransferServer, tmp_path: Path
) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(os.urandom(5_000_000))
    sender.add_offer("o1", build_manifest([source]).entries)
    fetch_route, send_route = _routes(relay)
    assert sender.serve_relayed(send_route, "bob", "o1")
    ticket = Ticket("127.0.0.1", 1, b"", "o1", "bob", sender.grant("o1", "bob"), relay=fetch_route)
    result = Fetch(ticket, tmp_path / "in").run()
    assert result.received == 5_000_000 and sha256(tmp_path / "in" / "a.bin") == sha256(source)
    wait_until(lambda: relay.relays_done == 1)
    # a relayed leg with a token the sender never granted gets nothing
    fetch_route, send_route = _routes(relay)
    assert sender.serve_relayed(send_route, "bob", "o1")
    guessed = Ticket("127.0.0.1", 1, b"", "o1", "bob", "guess" * 6, relay=fetch_route)
    with pytest.raises(FetchError) as refused:
        Fetch(guessed, tmp_path / "again").run()
    assert refused.value.code == "refused"
    assert not (tmp_path / "again" / "a.bin").exists()


def test_a_relay_ticket_works_once_and_a_guessed_one_not_at_all(relay: HostRelay) -> None:
    fetch_route, _send_route = _routes(relay)
    guessed = RelayRoute("127.0.0.1", relay.port, fetch_route.key, "guess" * 6)
    assert _closed_by_relay(guessed)
    assert _closed_by_relay(fetch_route)  # redeemed, then alone past the idle timeout
    assert _closed_by_relay(fetch_route)  # used: refused at once
    assert relay.relays_done == 0


@pytest.mark.parametrize(
    "record",
    [
        b"\x00" * 64,
        encode_record(RELAY, {"v": 99, "ticket": "x"}),
        b"R\xff\xff\xff\xff",
        b"GET / HTTP/1.0\r\n\r\n",
    ],
)
def test_a_malformed_first_record_is_refused(relay: HostRelay, record: bytes) -> None:
    fetch_route, _ = _routes(relay)
    assert _closed_by_relay(fetch_route, record)
    assert len(relay.desk) == 2  # the real tickets are untouched


def test_a_leg_whose_partner_never_comes_is_closed_and_stop_joins_everything(relay: HostRelay) -> None:
    fetch_route, _ = _routes(relay)
    started = time.monotonic()
    assert _closed_by_relay(fetch_route)
    assert time.monotonic() - started < 5
    extra = [t for t in threading.enumerate() if t.name.startswith("relay leg")]
    wait_until(lambda: not any(t.is_alive() for t in extra))


def test_the_relay_key_is_checked(relay: HostRelay, tmp_path: Path) -> None:
    fetch_route, _ = _routes(relay)
    wrong = RelayRoute(
        fetch_route.address, fetch_route.port, hashlib.sha256(b"x").digest(), fetch_route.ticket
    )
    ticket = Ticket("127.0.0.1", 1, b"", "o1", "bob", "t", relay=wrong)
    with pytest.raises(FetchError) as failed:
        Fetch(ticket, tmp_path / "in").run()
    assert failed.value.code == "key_mismatch"
    with pytest.raises(RelayKeyMismatch):
        open_leg(wrong, connect(wrong, 5.0))
