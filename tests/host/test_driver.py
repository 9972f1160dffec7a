"""The host engine's rules, tested once for both transports: no sockets, no threads.

A `RecordingIO` stands in for a transport: it records what the driver has it do, and
decodes what it queued so the tests read events, not bytes.
"""

from __future__ import annotations

import logging

import pytest

from net.host.driver import RoomDriver
from net.host.peer import HostPeer
from net.protocol import Connection, Role
from net.protocol import events as ev
from net.protocol.codec import decode_frame, encode_event
from net.protocol.connection import MAX_REMOTE_ERRORS
from net.protocol.limits import MAX_FRAME_BYTES
from net.protocol.textmode import TextConnection
from net.room import Relay, Room
from tests.room.fakes import FakeClock, hello, make_room

HEARTBEAT, HANDSHAKE, GRACE = 30.0, 10.0, 2.0


class FakePeer(HostPeer):
    def __init__(
        self, name: str, now: float, *, verified: bool = True, text: bool = False, port: int = 1
    ) -> None:
        super().__init__((name, port), now)
        self.conn = TextConnection() if text else Connection(Role.HOST)
        self.is_text = text
        self.address_verified = verified
        self.failed = False

    @property
    def link_failed(self) -> bool:
        return self.failed


class RecordingIO:
    """A transport that only remembers what it was asked to do."""

    def __init__(self) -> None:
        self.connections: list[FakePeer] = []
        self.queued: dict[FakePeer, list[bytes]] = {}
        self.broadcasts: list[tuple[ev.Event, object]] = []
        self.relays: list[tuple[Relay, bytes | None]] = []
        self.welcomed_peers: list[FakePeer] = []
        self.detached: list[tuple[FakePeer, bool]] = []
        self.finished: list[FakePeer] = []
        self.read_before_judging: list[FakePeer] = []
        self.relay_takes_acks = True
        self.on_read_waiting = lambda peer: None

    def peers(self) -> list[FakePeer]:
        return [peer for peer in self.connections if peer not in self.finished]

    def queue(self, peer: FakePeer, data: bytes) -> None:
        if data:
            self.queued.setdefault(peer, []).append(data)

    queue_reply = queue

    def broadcast(self, event: ev.Event, exclude: object) -> None:
        self.broadcasts.append((event, exclude))

    def relay(self, run: Relay, acks: bytes | None) -> bool:
        self.relays.append((run, acks))
        return acks is not None and self.relay_takes_acks

    def welcomed(self, peer: FakePeer) -> None:
        self.welcomed_peers.append(peer)

    def detach(self, peer: FakePeer, *, deliver: bool) -> None:
        self.detached.append((peer, deliver))

    def finish(self, peer: FakePeer) -> None:
        self.finished.append(peer)

    def read_waiting(self, peer: FakePeer) -> None:
        self.read_before_judging.append(peer)
        self.on_read_waiting(peer)

    def events_to(self, peer: FakePeer) -> list[ev.Event]:
        lines = b"".join(self.queued.get(peer, [])).splitlines()
        return [decode_frame(line, from_host=True) for line in lines]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def io() -> RecordingIO:
    return RecordingIO()


def make_driver(clock: FakeClock, io: RecordingIO, **room_config: object) -> RoomDriver:
    room: Room = make_room(clock, **{"name": "Lab", "rate_per_second": 0, **room_config})
    return RoomDriver(
        room,
        io,
        heartbeat_timeout=HEARTBEAT,
        handshake_timeout=HANDSHAKE,
        close_grace=GRACE,
        clock=clock.mono,
    )


@pytest.fixture
def driver(clock: FakeClock, io: RecordingIO) -> RoomDriver:
    return make_driver(clock, io)


def connect(io: RecordingIO, clock: FakeClock, name: str, **kwargs: object) -> FakePeer:
    peer = FakePeer(name, clock.mono(), **kwargs)  # type: ignore[arg-type]
    io.connections.append(peer)
    return peer


def member(driver: RoomDriver, io: RecordingIO, clock: FakeClock, nick: str) -> FakePeer:
    peer = connect(io, clock, nick)
    driver.receive(peer, peer.decode(encode_event(hello(nick))))
    assert peer in driver.room, io.events_to(peer)
    return peer


def test_a_hello_is_welcomed_and_the_others_are_told(driver, io, clock) -> None:
    alice = member(driver, io, clock, "alice")
    bob = member(driver, io, clock, "bob")
    assert isinstance(io.events_to(bob)[0], ev.Welcome)
    assert bob.joined and io.welcomed_peers == [alice, bob]
    assert (ev.Joined(nick="bob", time=clock.wall(), plaintext=True), bob) in io.broadcasts  # no TLS here


def test_a_run_of_messages_is_relayed_once_with_its_acks(driver, io, clock) -> None:
    alice = member(driver, io, clock, "alice")
    member(driver, io, clock, "bob")
    says = b"".join(encode_event(ev.Say(id=f"a{n}", text=f"hi {n}")) for n in range(3))
    driver.receive(alice, alice.decode(says))
    [(run, acks)] = io.relays
    assert [m.text for m in run.messages] == ["hi 0", "hi 1", "hi 2"] and run.sender is alice
    assert acks is not None and acks.count(b'"type":"ack"') == 3
    assert not any(isinstance(e, ev.Ack) for e in io.events_to(alice))  # the transport took them


def test_acks_go_one_by_one_when_the_transport_cannot_splice_them(driver, io, clock) -> None:
    alice = member(driver, io, clock, "alice")
    io.relay_takes_acks = False
    driver.receive(alice, alice.decode(encode_event(ev.Say(id="a1", text="hi"))))
    assert [e.id for e in io.events_to(alice) if isinstance(e, ev.Ack)] == ["a1"]


def test_bad_input_is_answered_in_place_and_a_flood_of_it_closes_the_connection(driver, io, clock) -> None:
    alice = member(driver, io, clock, "alice")
    driver.receive(alice, alice.decode(b'{"type":"nonsense"}\n' + encode_event(ev.Say(id="a1", text="ok"))))
    errors = [e for e in io.events_to(alice) if isinstance(e, ev.Error)]
    assert [e.code for e in errors] == ["unknown_type"] and not alice.closing
    assert io.relays, "the good message after the bad frame still went through"
    driver.receive(alice, alice.decode(b'{"type":"nonsense"}\n' * MAX_REMOTE_ERRORS))
    assert alice.closing and alice not in driver.room
    assert isinstance(io.events_to(alice)[-1], ev.Bye) or alice.conn.state.value == "closed"


def test_a_fatal_error_closes_after_flushing_and_tells_the_room(driver, io, clock) -> None:
    alice = member(driver, io, clock, "alice")
    bob = member(driver, io, clock, "bob")
    driver.receive(bob, bob.decode(b"x" * (MAX_FRAME_BYTES + 2)))  # no frame end in sight
    assert bob.closing and bob not in driver.room and bob not in io.finished
    assert (bob, True) in io.detached
    assert any(isinstance(e, ev.Left) and e.nick == "bob" for e, _ in io.broadcasts)
    assert alice in driver.room


@pytest.mark.parametrize(("verified", "level"), [(True, logging.WARNING), (False, logging.DEBUG)])
def test_a_strangers_mistakes_are_logged_quietly_when_its_address_may_be_forged(
    driver, io, clock, caplog, verified, level
) -> None:
    stranger = connect(io, clock, "stranger", verified=verified)
    with caplog.at_level(logging.DEBUG, logger="net.host.driver"):
        driver.receive(stranger, stranger.decode(b'{"type":"say","id":"x","text":"hi"}\n'))
    [record] = [r for r in caplog.records if r.getMessage().startswith("bad input")]
    assert record.levelno == level


def test_a_handshake_that_takes_too_long_is_closed_with_a_bye(driver, io, clock) -> None:
    slow = connect(io, clock, "slow")
    clock.advance(HANDSHAKE - 0.1)
    driver.check_timers(clock.mono())
    assert not slow.closing
    clock.advance(0.2)
    driver.check_timers(clock.mono())
    assert slow.closing and io.read_before_judging == [slow]
    [bye] = io.events_to(slow)
    assert isinstance(bye, ev.Bye) and "handshake" in bye.reason


def test_a_silent_member_times_out_but_waiting_input_saves_it(driver, io, clock) -> None:
    alice = member(driver, io, clock, "alice")
    bob = member(driver, io, clock, "bob")
    clock.advance(HEARTBEAT + 1)
    io.on_read_waiting = lambda peer: setattr(peer, "last_heard", clock.mono()) if peer is alice else None
    driver.check_timers(clock.mono())
    assert not alice.closing, "its input was waiting unread: the host was behind, not the member"
    assert bob.closing and ev.Left(nick="bob", reason="timed out", time=clock.wall(), cause="timed_out") in [
        e for e, _ in io.broadcasts
    ]


def test_plain_text_members_cannot_ping_and_are_never_timed_out(driver, io, clock) -> None:
    typist = connect(io, clock, "typist", text=True)
    driver.receive(typist, typist.decode("小明\n".encode()))
    assert typist in driver.room
    clock.advance(HEARTBEAT * 10)
    driver.check_timers(clock.mono())
    assert not typist.closing


def test_a_plain_text_connection_that_never_sends_its_nickname_times_out(driver, io, clock) -> None:
    silent = connect(io, clock, "silent", text=True)
    blank = connect(io, clock, "blank", text=True)
    partial = connect(io, clock, "partial", text=True)
    driver.receive(blank, blank.decode(b"\n  \r\n\n"))  # empty lines are no nickname
    driver.receive(partial, partial.decode(b"alic"))  # a nickname without its line end
    clock.advance(HANDSHAKE - 0.1)
    driver.receive(blank, blank.decode(b"\n"))  # input does not postpone the deadline
    driver.check_timers(clock.mono())
    assert not any(peer.closing for peer in (silent, blank, partial))
    clock.advance(0.2)
    driver.check_timers(clock.mono())
    assert silent.closing and blank.closing and partial.closing
    assert b"Goodbye (no hello in time (handshake timed out))\n" in io.queued[silent]
    assert not driver.room.peers()


def test_members_from_one_address_share_a_budget(clock, io) -> None:
    driver = make_driver(clock, io, rate_per_second=1, rate_burst=2, address_rate_multiple=1.5)
    peers = []
    for number, host in enumerate(["10.0.0.9", "10.0.0.9", "::ffff:10.0.0.9", "10.0.0.7"]):
        peer = FakePeer(host, clock.mono(), port=1000 + number)
        io.connections.append(peer)
        driver.receive(peer, peer.decode(encode_event(hello(f"n{number}"))))
        peers.append(peer)
    says = b"".join(encode_event(ev.Say(id=f"s{n}", text="hi")) for n in range(5))
    for peer in peers:
        driver.receive(peer, peer.decode(says))
    relayed = {run.sender: len(run.messages) for run, _ in io.relays}
    assert [relayed.get(peer, 0) for peer in peers] == [2, 1, 0, 2]  # 10.0.0.9 shares 3


def test_a_closing_connection_is_finished_after_its_grace(driver, io, clock) -> None:
    alice = member(driver, io, clock, "alice")
    driver.receive(alice, alice.decode(encode_event(ev.Bye(reason="done"))))
    assert alice.closing and alice not in io.finished
    clock.advance(GRACE + 0.1)
    driver.check_timers(clock.mono())
    assert io.finished == [alice]


def test_a_failed_link_is_finished_at_once(driver, io, clock) -> None:
    alice = member(driver, io, clock, "alice")
    alice.failed = True
    driver.begin_close(alice, "connection lost", cause=ev.LeaveCause.LOST, flush=True)
    assert io.finished == [alice]


@pytest.mark.allow_error_logs
def test_a_bug_in_the_room_costs_one_connection_only(driver, io, clock, monkeypatch) -> None:
    alice = member(driver, io, clock, "alice")
    bob = member(driver, io, clock, "bob")

    def broken(*_args: object) -> list:
        raise RuntimeError("bug")

    monkeypatch.setattr(driver.room, "handle", broken)
    driver.receive(alice, alice.decode(encode_event(ev.Who())))
    assert alice.closing and not bob.closing and bob in driver.room


def test_stopping_says_bye_once_without_telling_the_room(driver, io, clock) -> None:
    alice = member(driver, io, clock, "alice")
    broadcasts = len(io.broadcasts)
    driver.say_bye(alice, "host stopped")
    driver.say_bye(alice, "host stopped")
    byes = [e for e in io.events_to(alice) if isinstance(e, ev.Bye)]
    assert byes == [ev.Bye(reason="host stopped", cause="stopped")]
    assert len(io.broadcasts) == broadcasts and alice.closing


def test_a_replaced_session_stops_receiving_before_the_rename_is_broadcast(driver, io, clock) -> None:
    first = member(driver, io, clock, "alice")
    second = connect(io, clock, "alice-again")
    driver.receive(second, second.decode(encode_event(hello("alice"))))
    assert second in driver.room and first not in driver.room and first.closing
    assert io.detached[0] == (first, True)
