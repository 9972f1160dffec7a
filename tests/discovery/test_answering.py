"""Jittered, deduplicated, rate-limited answers to probes, and remembering probers. Fake time."""

from __future__ import annotations

import random

from net.api import Transport
from net.discovery.answering import MAX_REMEMBERED_PROBERS, ProbeAnswerer, reply_delay
from net.discovery.wire import MAX_REPLY_DELAY, Announcement, Probe, RoomInfo, encode_datagram

PROBER = ("192.168.1.9", 50000)


def test_reply_delay_stays_within_what_the_probe_allows() -> None:
    rng = random.Random(1)
    delays = [reply_delay(0.25, rng) for _ in range(1000)]
    assert all(0.0 <= d <= 0.25 for d in delays)
    assert max(delays) > 0.2 and min(delays) < 0.05  # spread out, not constant
    assert all(reply_delay(3600.0, rng) <= MAX_REPLY_DELAY for _ in range(100))
    assert reply_delay(0.0, rng) == 0.0


def accept(answerer: ProbeAnswerer, probe: Probe, sender: tuple, now: float) -> bool:
    """What the announcer does with a datagram at its responder: accept, then schedule."""
    accepted = answerer.receive(encode_datagram(probe), sender, now)
    if accepted is not None:
        answerer.schedule(accepted, sender, now)
    return accepted is not None


def test_probe_is_answered_after_its_jitter() -> None:
    answerer = ProbeAnswerer(0.0, remember_for=10.0, rng=random.Random(7))
    assert accept(answerer, Probe("p1", max_delay=0.5), PROBER, now=10.0)
    due_at = answerer.next_due()
    assert due_at is not None and 10.0 <= due_at <= 10.5
    assert answerer.due(due_at - 0.001) == []
    assert answerer.due(due_at) == [(PROBER, "p1")]
    assert answerer.next_due() is None


def test_unicast_probe_is_answered_at_once() -> None:
    answerer = ProbeAnswerer(0.0, remember_for=10.0)
    assert answerer.receive(encode_datagram(Probe("p1")), PROBER, now=1.0) == Probe("p1")
    assert answerer.next_due() is None  # accepted, not scheduled: a UDP host answers at once
    accept(answerer, Probe("p2"), PROBER, now=1.0)
    assert answerer.due(1.0) == [(PROBER, "p2")]


def test_same_probe_by_two_routes_is_answered_once() -> None:
    answerer = ProbeAnswerer(0.0, remember_for=10.0)
    assert accept(answerer, Probe("p1"), PROBER, now=1.0)
    assert not accept(answerer, Probe("p1"), PROBER, now=1.0)
    assert accept(answerer, Probe("p1"), ("192.168.1.10", 50000), now=1.0)  # another browser, same id
    assert accept(answerer, Probe("p2"), PROBER, now=2.0)  # the next round
    assert len(answerer.due(2.0)) == 3


def test_non_probes_and_garbage_are_ignored() -> None:
    answerer = ProbeAnswerer(0.0, remember_for=10.0)
    info = RoomInfo("r", "n", Transport.TCP, 47800, "h", b"k" * 32)
    for data in (b"", b"\x00" * 2000, b"LANCHAT/DISCOVERY\n{", encode_datagram(Announcement(info))):
        assert answerer.receive(data, PROBER, now=1.0) is None
    assert answerer.next_due() is None
    assert answerer.recent_probers(1.0) == []


def test_answers_per_second_are_limited() -> None:
    answerer = ProbeAnswerer(0.0, remember_for=10.0, answers_per_second=10.0, burst=5)
    scheduled = sum(accept(answerer, Probe(f"p{n}"), PROBER, now=0.0) for n in range(50))
    assert scheduled == 5
    assert accept(answerer, Probe("later"), PROBER, now=0.2)  # two tokens back


def test_recent_probers_are_remembered_for_a_while_and_bounded() -> None:
    answerer = ProbeAnswerer(0.0, remember_for=5.0)
    answerer.receive(encode_datagram(Probe("a")), ("127.0.0.1", 1000), now=0.0)
    answerer.receive(encode_datagram(Probe("b")), ("::1", 1001, 0, 0), now=3.0)
    assert answerer.recent_probers(4.0) == [("127.0.0.1", 1000), ("::1", 1001, 0, 0)]
    assert answerer.recent_probers(7.0) == [("::1", 1001, 0, 0)]
    for n in range(200):
        answerer.receive(encode_datagram(Probe(f"q{n}")), ("10.0.0.1", 2000 + n), now=8.0)
    assert len(answerer.recent_probers(8.0)) == MAX_REMEMBERED_PROBERS
