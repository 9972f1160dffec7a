"""The pure reliability layer over a simulated lossy link (fake clock, seeded randomness)."""

from __future__ import annotations

import itertools
import random

import pytest

from net.protocol.limits import MAX_FRAME_BYTES
from net.udp.bundles import Batch, batch_messages
from net.udp.channel import Channel, ChannelConfig
from net.udp.receiver import ReceiveError, Receiver
from net.udp.rtt import RttConfig, RttEstimator
from net.udp.sender import Sender, SenderConfig
from net.udp.wire import (
    BUNDLE_PAYLOAD,
    FRAGMENT_PAYLOAD,
    MAX_DATAGRAM_BYTES,
    MAX_FRAGMENTS,
    NO_TOKEN,
    TOKEN_BYTES,
    Datagram,
    Kind,
    ResetReason,
    encode_retry,
    parse,
)
from tests.udp.simlink import LinkProfile, SimLink

HOSTILE = LinkProfile(loss=0.2, duplicate=0.05, delay=0.002, jitter=0.02)


def _pair(
    config: ChannelConfig | None = None, peer_config: ChannelConfig | None = None
) -> tuple[Channel, Channel]:
    return (
        Channel(0xABCDEF, now=0.0, opener=True, config=config),
        Channel(0xABCDEF, now=0.0, opener=False, config=peer_config or config),
    )


def _messages(rng: random.Random, count: int) -> list[bytes]:
    sizes = [1, 50, FRAGMENT_PAYLOAD, FRAGMENT_PAYLOAD + 1, 10 * 1024, 16 * 1024 * 4]
    out = [rng.randbytes(rng.choice(sizes)) for _ in range(count)]
    out.append(rng.randbytes(MAX_FRAME_BYTES))  # the largest frame the protocol allows
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_message_arrives_exactly_once_in_order_over_a_hostile_link(seed: int) -> None:
    a, b = _pair()
    link = SimLink(a, b, HOSTILE, seed=seed)
    rng = random.Random(seed)
    to_b, to_a = _messages(rng, 120), _messages(rng, 40)
    for message in to_b:
        a.send(message)
    for message in to_a:
        b.send(message)
    link.run_until(lambda: len(link.received["b"]) >= len(to_b) and len(link.received["a"]) >= len(to_a))
    link.run_until(lambda: a.idle and b.idle)
    assert link.received["b"] == to_b
    assert link.received["a"] == to_a
    assert not a.failed and not b.failed
    stats = a.stats()
    assert stats.retransmissions > 0 and b.stats().duplicates_dropped > 0  # the link really was hostile
    assert link.largest_datagram <= 1200


def test_a_clean_link_needs_no_retransmission() -> None:
    a, b = _pair()
    link = SimLink(a, b, LinkProfile(delay=0.001))
    for number in range(200):
        a.send(f"message {number}".encode())
    link.run_until(lambda: len(link.received["b"]) == 200 and a.idle)
    assert a.stats().retransmissions == 0
    assert link.received["b"] == [f"message {n}".encode() for n in range(200)]


def test_sequence_numbers_wrap_around_32_bits() -> None:
    a, b = _pair()
    start = 2**32 - 7
    a.sender.base = a.sender._next_new = start
    b.receiver.next_seq = start
    link = SimLink(a, b, HOSTILE, seed=9)
    messages = [bytes([n]) * (n * 97 + 1) for n in range(40)]
    for message in messages:
        a.send(message)
    link.run_until(lambda: len(link.received["b"]) == len(messages) and a.idle)
    assert link.received["b"] == messages
    assert b.receiver.next_seq > 2**32


def test_rto_converges_to_the_measured_round_trip() -> None:
    a, b = _pair()
    link = SimLink(a, b, LinkProfile(delay=0.05))  # 100 ms round trip
    for number in range(300):
        a.send(b"x" * 100)
        link.run_until(lambda n=number: len(link.received["b"]) == n + 1 and a.idle)
    rtt = a.sender.rtt
    assert rtt.srtt == pytest.approx(0.1, abs=0.01)
    assert 0.1 <= rtt.rto <= 0.15
    # The path slows down: the timeout follows.
    link.profile = LinkProfile(delay=0.3)
    for _ in range(100):
        a.send(b"y")
        link.run_until(lambda: a.idle)
    assert rtt.srtt == pytest.approx(0.6, abs=0.05)
    assert 0.6 <= rtt.rto <= 0.9


def test_rto_backs_off_and_karn_ignores_retransmitted_samples() -> None:
    estimator = RttEstimator(RttConfig(initial_rto=0.5, min_rto=0.1, max_rto=4.0))
    assert estimator.rto == 0.5
    estimator.back_off()
    estimator.back_off()
    assert estimator.rto == 2.0
    for _ in range(10):
        estimator.back_off()
    assert estimator.rto == 4.0
    estimator.sample(0.01)
    assert estimator.rto == pytest.approx(0.1)  # clamped to the minimum

    a, b = _pair()
    link = SimLink(a, b, LinkProfile(delay=0.01, loss=0.2), seed=5)
    for _ in range(50):
        a.send(b"z" * 3000)
    link.run_until(lambda: a.idle)
    # Every sample came from a fragment sent once, so no sample mixes up two copies.
    assert a.sender.rtt.samples <= a.stats().fragments_sent - a.stats().retransmissions


def test_the_window_bounds_what_is_in_flight() -> None:
    small = ChannelConfig(receive_window=8)
    a, b = _pair(ChannelConfig(sender=SenderConfig(send_window=32)), small)
    link = SimLink(a, b, LinkProfile(loss=0.1, delay=0.01, jitter=0.01), seed=3)
    for _ in range(200):
        a.send(b"w" * 3000)  # 3 fragments each
    peak = 0

    def done() -> bool:
        nonlocal peak
        sender = a.sender
        peak = max(peak, sender.in_flight)
        assert sender._next_new - sender.base <= sender.window
        return len(link.received["b"]) == 200

    link.run_until(done)
    assert a.sender.window == 8  # the receiver's advertised window, smaller than our 32
    assert peak == 8


def test_reassembly_memory_is_bounded_when_a_sender_sends_only_first_fragments() -> None:
    channel = Channel(1, now=0.0, opener=False)
    receiver = channel.receiver
    rng = random.Random(4)
    payload = b"\xff" * FRAGMENT_PAYLOAD
    for seq in [*range(1, 300), *(rng.randrange(2**32) for _ in range(20_000))]:
        channel.receive(
            Datagram(Kind.DATA, 1, 0, 64, seq=seq, index=0, count=MAX_FRAGMENTS, payload=payload), 0.0
        )
        assert receiver.buffered_bytes <= receiver.memory_bound
    assert receiver.buffered_bytes == (receiver.window - 1) * FRAGMENT_PAYLOAD
    assert receiver.memory_bound == (receiver.window - 1) * BUNDLE_PAYLOAD + MAX_FRAME_BYTES
    assert not channel.failed and channel.take_messages() == []
    # Now the gap at 0 fills with another first fragment: the stream is inconsistent.
    channel.receive(Datagram(Kind.DATA, 1, 0, 64, seq=0, index=0, count=MAX_FRAGMENTS, payload=payload), 0.0)
    assert channel.failed and "invalid fragments" in channel.failure.reason


def test_small_messages_sent_together_share_datagrams() -> None:
    a, b = _pair()
    link = SimLink(a, b, LinkProfile(delay=0.001))
    lines = [f"line {n} 你好".encode() for n in range(300)] + [b"z" * 3000] + [b"after"] * 3
    for line in lines:
        a.send(line)
    link.run_until(lambda: len(link.received["b"]) == len(lines) and a.idle)
    assert link.received["b"] == lines
    assert a.stats().fragments_sent <= 10  # 300 lines in a handful of bundles, 3 for the big one
    assert a.stats().messages_acked == len(lines)


@pytest.mark.parametrize("payload", [b"\nabc", b"ab\n\ncd", b"abc\n", b"\n"])
def test_empty_messages_in_a_bundle_are_skipped(payload: bytes) -> None:
    channel = Channel(1, now=0.0, opener=False)
    channel.receive(Datagram(Kind.DATA, 1, 0, 64, seq=0, index=0, count=0, payload=payload), 0.0)
    assert not channel.failed
    assert channel.take_messages() == [m for m in payload.split(b"\n") if m]


def test_a_bundle_inside_a_fragmented_message_breaks_the_channel() -> None:
    channel = Channel(1, now=0.0, opener=False)
    channel.receive(Datagram(Kind.DATA, 1, 0, 64, seq=0, index=0, count=2, payload=b"x"), 0.0)
    channel.receive(Datagram(Kind.DATA, 1, 0, 64, seq=1, index=0, count=0, payload=b"a\nb"), 0.0)
    assert channel.failed and channel.failure.broken and channel.take_messages() == []


def test_messages_holding_a_line_feed_travel_alone_and_arrive_unchanged() -> None:
    a = Channel(7, now=0.0, opener=True)
    b = Channel(7, now=0.0, opener=False)
    link = SimLink(a, b, LinkProfile(delay=0.001))
    lines = [b"one", b"two\nhalves", b"three", b"four", b"\n", b"five\n", b"six"]
    for line in lines:
        a.send(line)
    link.run_until(lambda: len(link.received["b"]) == len(lines) and a.idle)
    assert link.received["b"] == lines
    assert a.stats().messages_acked == len(lines)


def test_a_full_bundle_uses_the_whole_datagram_and_the_sack_shrinks_to_fit() -> None:
    channel = Channel(9, now=0.0, opener=False)
    for seq in range(2, 2 + 2 * 8 * 32, 2):  # every other fragment held: a 32-byte sack
        channel.receive(Datagram(Kind.DATA, 9, 0, 64, seq=seq, index=0, count=1, payload=b"x"), 0.0)
    assert len(channel.receiver.sack()) == 32
    lines = [b"m" * 190] * 6  # 6 * 190 + 5 LFs = 1,145 bytes: more than FRAGMENT_PAYLOAD
    channel.send_many(lines)
    (datagram,) = [d for d in channel.poll(0.01) if parse(d).kind is Kind.DATA]
    assert len(datagram) <= MAX_DATAGRAM_BYTES
    parsed = parse(datagram)
    assert (
        parsed.count == 0 and parsed.payload == b"\n".join(lines) and len(parsed.payload) > FRAGMENT_PAYLOAD
    )
    assert 0 < len(parsed.sack) < 32 and channel.receiver.sack().startswith(parsed.sack)
    receiver = Receiver(window=16, max_message_bytes=4096)
    receiver.accept(0, 0, 0, parsed.payload)
    assert receiver.take_stream() == b"\n".join(lines) + b"\n" and receiver.messages == 6


def test_take_stream_is_take_messages_joined_with_line_feeds() -> None:
    receiver = Receiver(window=16, max_message_bytes=4096)
    receiver.accept(0, 0, 0, b"a\nbb")
    receiver.accept(1, 0, 1, b"whole")
    receiver.accept(2, 0, 0, b"ccc")
    assert receiver.take_stream() == b"a\nbb\nwhole\nccc\n" and receiver.take_stream() == b""
    receiver.accept(3, 0, 0, b"d\ne")
    assert receiver.take_messages() == [b"d", b"e"] and receiver.messages == 6


def test_a_message_larger_than_the_limit_is_refused_early() -> None:
    receiver = Receiver(window=16, max_message_bytes=4096)
    with pytest.raises(ReceiveError, match="fragments exceeds"):
        receiver.accept(0, 0, 5, b"x" * FRAGMENT_PAYLOAD)
    receiver = Receiver(window=16, max_message_bytes=2000)
    receiver.accept(0, 0, 2, b"x" * FRAGMENT_PAYLOAD)
    with pytest.raises(ReceiveError, match="exceeds 2000 bytes"):
        receiver.accept(1, 1, 2, b"x" * FRAGMENT_PAYLOAD)
    assert receiver.buffered_bytes <= receiver.memory_bound


def test_replayed_datagrams_are_not_delivered_twice() -> None:
    a, b = _pair()
    sent: list[bytes] = []
    for message in (b"one", b"two" * 1000, b"three"):
        a.send(message)
    delivered = []
    for now in (0.0, 0.001, 0.002, 0.003):
        for data in a.poll(now):
            sent.append(data)
            b.receive(parse(data), now)
        delivered += b.take_messages()
        for data in b.poll(now):
            a.receive(parse(data), now)
    for data in sent * 3:  # replay everything, three times
        b.receive(parse(data), 1.0)
    assert delivered + b.take_messages() == [b"one", b"two" * 1000, b"three"]
    fragments = [data for data in sent if parse(data).kind is Kind.DATA]  # the rest: the OPEN probe
    assert b.stats().duplicates_dropped == 3 * len(fragments) == 15


def test_acks_for_data_never_sent_are_ignored() -> None:
    _, a = _pair()  # the side that does not open: it sends at once
    a.send(b"hello")
    a.poll(0.0)
    a.receive(Datagram(Kind.ACK, a.conn_id, ack=50, window=64, sack=b"\xff" * 4), 0.01)
    assert not a.idle and a.sender.in_flight == 1


def test_giving_up_reports_every_undelivered_message_in_order() -> None:
    config = ChannelConfig(sender=SenderConfig(give_up_after=5.0, min_retransmits=3))
    a, b = _pair(config)
    link = SimLink(a, b, LinkProfile(delay=0.01))
    a.send(b"early", tag="m1")
    link.run_until(lambda: a.idle)
    link.profile = LinkProfile(loss=1.0)  # the peer vanishes
    for number in range(2, 6):
        a.send(b"late" * 500, tag=f"m{number}")
    link.run_until(lambda: a.failed, limit=60.0)
    assert a.failure.undelivered == ("m2", "m3", "m4", "m5")
    assert "retry budget" in a.failure.reason
    assert 5.0 <= link.now <= 5.0 + 2 * 4.0  # after the budget, within one backed-off RTO
    assert a.sender.retransmissions >= 3
    assert a.poll(link.now) == [] and a.next_deadline() is None


def test_a_reset_from_the_peer_ends_the_channel() -> None:
    a, b = _pair()
    a.send(b"pending", tag="p")
    a.receive(parse(b.reset_datagram(ResetReason.UNKNOWN_CONNECTION)), 0.0)
    assert a.failure.reset is ResetReason.UNKNOWN_CONNECTION
    assert a.failure.undelivered == ("p",)


def test_an_opener_probes_with_backoff_until_the_peer_answers() -> None:
    a = Channel(5, now=1.0, opener=True)
    probes = []
    now = 1.0
    for _ in range(6):
        out = a.poll(now)
        assert len(out) == 1 and parse(out[0]).opening and parse(out[0]).kind is Kind.ACK
        probes.append(now)
        now = a.next_deadline()
    gaps = [round(later - earlier, 6) for earlier, later in itertools.pairwise(probes)]
    assert gaps == [0.2, 0.4, 0.8, 1.0, 1.0]
    b = Channel(5, now=now, opener=False)
    b.receive(parse(a.poll(now)[0]), now)
    answer = b.poll(now + 0.003)
    assert len(answer) == 1 and not parse(answer[0]).opening
    a.receive(parse(answer[0]), now + 0.006)
    assert not a.opening and a.heard and a.next_deadline() is None
    assert a.sender.rtt.srtt == pytest.approx(0.006, abs=0.0002)  # the probe was timed


def test_an_opener_holds_its_data_and_echoes_the_token_of_the_first_retry_at_once() -> None:
    a = Channel(5, now=0.0, opener=True)
    a.send(b"hello")
    assert [_shape(d) for d in a.poll(0.0)] == [(Kind.ACK, True, NO_TOKEN)]  # a probe, no DATA yet
    token, newer = bytes(range(TOKEN_BYTES)), bytes([7] * TOKEN_BYTES)
    a.receive(parse(encode_retry(5, token)), 0.001)
    assert a.opening and not a.heard and a.next_deadline() == 0.001
    assert [_shape(d) for d in a.poll(0.001)] == [(Kind.ACK, True, token)]
    # A later RETRY (the token expired while OPENs got lost) waits for the probe timer.
    a.receive(parse(encode_retry(5, newer)), 0.002)
    assert a.poll(0.002) == [] and a.next_deadline() == pytest.approx(0.401)
    probe = a.poll(0.401)
    assert [_shape(d) for d in probe] == [(Kind.ACK, True, newer)] and a.retries == 2
    b = Channel(5, now=0.0, opener=False)
    b.receive(parse(probe[0]), 0.5)
    for data in b.poll(0.5):
        a.receive(parse(data), 0.5)
    assert a.heard and not a.opening
    sent = a.poll(0.5)
    assert [_shape(d) for d in sent] == [(Kind.DATA, False, b"")]
    b.receive(parse(sent[0]), 0.5)
    assert b.take_messages() == [b"hello"]
    a.receive(parse(encode_retry(5, token)), 0.6)  # the connection is open: ignored
    assert a.token == newer and not a.failed and a.poll(0.6) == []


def test_a_retry_for_another_connection_or_to_the_host_side_changes_nothing() -> None:
    host = Channel(5, now=0.0, opener=False)
    host.receive(parse(encode_retry(5, bytes(TOKEN_BYTES))), 0.0)
    assert host.poll(0.0) == [] and not host.heard
    a = Channel(5, now=0.0, opener=True)
    a.poll(0.0)
    a.receive(parse(encode_retry(6, bytes(range(TOKEN_BYTES)))), 0.0)
    assert a.token == NO_TOKEN and a.retries == 0


def _shape(data: bytes) -> tuple[Kind, bool, bytes]:
    datagram = parse(data)
    return datagram.kind, datagram.opening, datagram.token


def test_undelivered_lists_bundled_pieced_and_unsent_messages_once_each_in_order() -> None:
    sender = Sender(SenderConfig(send_window=2), peer_window=2)
    sender.queue(b"a", tag="a")
    sender.queue(b"b")  # untagged: listed as None
    sender.queue(b"L" * (2 * FRAGMENT_PAYLOAD + 10), tag="L")  # three fragments
    sender.queue(b"c", tag="c")
    first = sender.due(0.0)
    assert [(f.count, f.index) for f in first] == [(0, 0), (3, 0)]  # a bundle, then L's first piece
    assert sender.undelivered() == ["a", None, "L", "c"]
    sender.on_ack(1, b"", 2, 0.01)  # the bundle arrived
    assert sender.undelivered() == ["L", "c"] and sender.messages_acked == 2
    sender.due(0.01)  # L's second piece
    sender.on_ack(2, b"", 2, 0.02)  # L's first piece arrived, the second is on its way
    assert sender.undelivered() == ["L", "c"] and sender.messages_acked == 2
    sender.on_ack(3, b"", 2, 0.03)  # L's first two pieces arrived; the third is not cut yet
    assert sender.undelivered() == ["L", "c"]
    rest = sender.due(0.03)
    assert [(f.count, f.index) for f in rest] == [(3, 2), (1, 0)]
    sender.on_ack(5, b"", 2, 0.04)
    assert sender.undelivered() == [] and sender.idle and sender.messages_acked == 4
    assert sender.backlog_bytes == 0


def test_messages_batched_ahead_of_time_arrive_like_any_others() -> None:
    rng = random.Random(11)
    lines = [
        rng.choice([b"x" * rng.randrange(1, 400), b"lf\nin it", b"y" * 3000, b"z" * 1130, b"\n"])
        for _ in range(400)
    ]
    chunks = batch_messages(lines)
    assert any(isinstance(c, Batch) for c in chunks)
    assert sum(c.whole if isinstance(c, Batch) else 1 for c in chunks) == len(lines)
    a = Channel(5, now=0.0, opener=True)
    b = Channel(5, now=0.0, opener=False)
    link = SimLink(a, b, LinkProfile(delay=0.001, loss=0.1))
    a.send(b"first")
    a.send_many(chunks[:200])
    a.send_many(chunks[200:])
    link.run_until(lambda: len(link.received["b"]) == len(lines) + 1 and a.idle)
    assert link.received["b"] == [b"first", *lines]
    assert a.stats().messages_acked == len(lines) + 1 and a.stats().backlog_bytes == 0


def test_undelivered_counts_the_messages_of_a_batch() -> None:
    sender = Sender(SenderConfig(send_window=1), peer_window=1)
    sender.queue(b"tagged", tag="T")
    sender.queue_many(batch_messages([b"a", b"b", b"c"]))
    sender.queue(b"with\nLF", tag="F")
    sender.queue(b"last", tag="L")
    assert sender.undelivered() == ["T", None, None, None, "F", "L"]
    (first,) = sender.due(0.0)
    assert (first.count, first.whole, first.payload) == (0, 4, b"tagged\na\nb\nc")  # merged whole
    sender.on_ack(1, b"", 1, 0.01)
    assert sender.undelivered() == ["F", "L"]
    (second,) = sender.due(0.02)
    assert (second.count, second.payload) == (1, b"with\nLF")  # an LF keeps a message out of bundles
    sender.on_ack(2, b"", 1, 0.03)
    (third,) = sender.due(0.04)
    assert (third.count, third.payload) == (1, b"last") and sender.undelivered() == ["L"]


def test_a_batch_is_cut_into_datagrams_as_full_as_single_messages_would_make_them() -> None:
    lines = [bytes([65 + n % 26]) * (150 + n % 60) for n in range(40)]
    alone = Sender(SenderConfig(), peer_window=128)
    for line in lines:
        alone.queue(line)
    batched = Sender(SenderConfig(), peer_window=128)
    batched.queue(b"x" * 100)
    batched.queue_many(batch_messages(lines[:25]))
    batched.queue_many(batch_messages(lines[25:]))
    alone_fragments = alone.due(0.0)
    batched_fragments = batched.due(0.0)
    assert all(len(f.payload) <= BUNDLE_PAYLOAD for f in batched_fragments)
    assert len(batched_fragments) <= len(alone_fragments) + 1
    receiver = Receiver(window=64, max_message_bytes=4096)
    for f in batched_fragments:
        receiver.accept(f.seq, f.index, f.count, f.payload)
    assert receiver.take_messages() == [b"x" * 100, *lines]
    assert sum(f.whole for f in batched_fragments) == 41 and batched.backlog_bytes == 100 + sum(
        map(len, lines)
    )


def _cuts(sender: Sender, now: float) -> list[tuple[int, int, int, int, bytes]]:
    return [(f.seq, f.count, f.first, f.whole, f.payload) for f in sender.due(now)]


def test_senders_sharing_batches_cut_them_as_they_would_alone() -> None:
    """The host's fan-out: every member's sender gets the same batches, minus its own, in small
    windows; the cuts one sender remembers in a batch must never change another's fragments."""
    rng = random.Random(5)
    runs = [
        (
            rng.randrange(6),
            [bytes([97 + n % 26]) * rng.randrange(20, 700) for n in range(rng.randrange(1, 9))],
        )
        for _ in range(60)
    ]
    runs.insert(30, (0, [b"with\nLF", b"w" * 3000, b"x" * 1130]))  # never bundled, pieces, one alone
    shared = [Sender(SenderConfig(), peer_window=rng.choice([3, 8, 200])) for _ in range(6)]
    fresh = [Sender(SenderConfig(), peer_window=sender.peer_window) for sender in shared]
    reused = 0
    for round_start in range(0, len(runs), 10):
        for sender_index, lines in runs[round_start : round_start + 10]:
            chunks = batch_messages(lines, single=True)
            for member in range(6):
                if member != sender_index:
                    shared[member].queue_many(chunks)
                    fresh[member].queue_many(batch_messages(lines, single=True))  # cut alone
        seen: set[int] = set()
        for member in rng.sample(range(6), 6):  # in any order
            now = round_start / 100
            cuts = _cuts(shared[member], now)
            assert cuts == _cuts(fresh[member], now)
            reused += sum(id(cut[-1]) in seen for cut in cuts if cut[1] == 0)
            seen.update(id(cut[-1]) for cut in cuts)
            for sender in (shared[member], fresh[member]):
                sender.on_ack(sender.base + len(sender._in_flight) // 2, b"", sender.peer_window, now)
    assert reused > 50  # most bundles were cut once for several senders


def test_the_timer_runs_from_the_oldest_transmission_of_first_sends_and_resends_alike() -> None:
    sender = Sender(SenderConfig(send_window=8), peer_window=8)
    for n in range(3):
        sender.queue(b"alone\n%d" % n)  # an LF: one fragment each
    assert [f.seq for f in sender.due(0.0)] == [0, 1, 2]
    rto = sender.rtt.rto
    assert sender._oldest_transmission().seq == 0 and sender.next_deadline() == rto
    assert [f.seq for f in sender.due(rto)] == [0]  # the timer ran out: the first one again
    assert sender._oldest_transmission().seq == 1  # sent at 0, before the resend at `rto`
    sender.on_ack(0, b"\x03", 8, rto + 0.001)  # 1 and 2 arrived (no time sample: only 0 was resent)
    assert sender._oldest_transmission().seq == 0  # the resend is all that is left
    sender.queue(b"alone\n3")
    assert [f.seq for f in sender.due(rto + 0.002)] == [3]
    assert sender._oldest_transmission().seq == 0  # resent at `rto`, before 3 was first sent
    sender.on_ack(1, b"", 8, rto + 0.003)
    assert sender._oldest_transmission().seq == 3
