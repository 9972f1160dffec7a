"""Bursts: a member's bundles of one round leave in one system call, padded, and arrive intact."""

from __future__ import annotations

import errno
import socket

import pytest

from net.udp.bundles import batch_messages
from net.udp.burst import MAX_SEGMENTS, BurstSender, is_bundle, plan
from net.udp.channel import Channel
from net.udp.receiver import Receiver
from net.udp.wire import (
    DATA_FIELDS,
    FIXED_HEADER_BYTES,
    MAX_DATAGRAM_BYTES,
    Datagram,
    Kind,
    WireError,
    encode,
    parse,
)
from tests.helpers import wait_until


def _datagrams(lines: list[bytes]) -> list[bytes]:
    channel = Channel(3, now=0.0, opener=False)
    channel.sender.peer_window = 256  # as if the peer had advertised its window
    channel.send_many(batch_messages(lines))
    channel.send(b"big" * 1000)  # pieces of a large message: never padded
    channel.send_many(batch_messages(lines[:20]))
    return channel.poll(0.0)


def test_runs_of_bundles_are_padded_to_one_size_and_everything_else_goes_alone() -> None:
    lines = [bytes([97 + n % 26]) * (150 + n % 50) for n in range(200)]
    datagrams = _datagrams(lines)
    calls = plan(datagrams)
    assert sum(len(batch) for size, batch in calls if size) >= len(datagrams) - 5  # nearly all in bursts
    assert [d for _, batch in calls for d in batch if not is_bundle(d)] == [
        d for d in datagrams if not is_bundle(d)
    ]
    for size, batch in calls:
        if size:
            assert 2 <= len(batch) <= MAX_SEGMENTS and size <= MAX_DATAGRAM_BYTES
            assert all(len(d) == size for d in batch[:-1]) and len(batch[-1]) <= size
        else:
            assert len(batch) == 1
    receiver = Receiver(window=256, max_message_bytes=1 << 20)
    for _, batch in calls:
        for data in batch:
            d = parse(data)  # padded datagrams are valid datagrams
            if d.kind is Kind.DATA:
                receiver.accept(d.seq, d.index, d.count, d.payload)
    assert receiver.take_messages() == [*lines, b"big" * 1000, *lines[:20]]
    assert receiver.messages == len(lines) + 21  # padding is not counted as messages


def test_padding_alone_delivers_nothing() -> None:
    receiver = Receiver(window=8, max_message_bytes=4096)
    receiver.accept(0, 0, 0, b"\n\n\n")
    receiver.accept(1, 0, 0, b"a\nb\n\n")
    assert receiver.take_stream() == b"a\nb\n" and receiver.messages == 2


@pytest.mark.parametrize("segmenting", [True, False])
def test_a_burst_arrives_as_the_datagrams_it_was_made_of(segmenting: bool) -> None:
    lines = [bytes([65 + n % 26]) * (120 + n % 90) for n in range(400)]
    datagrams = _datagrams(lines)
    _arrive_intact(datagrams, segmenting, lambda sender, address: sender.send(datagrams, address))


def _arrive_intact(datagrams: list[bytes], segmenting: bool, send) -> None:
    """`send(sender, address)` over real sockets delivers `datagrams` (padding aside), each
    within the datagram limit."""
    receiver_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        receiver_sock.bind(("127.0.0.1", 0))
        receiver_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        receiver_sock.settimeout(2.0)
        sender = BurstSender(sender_sock)
        sender.segmenting = sender.segmenting and segmenting
        send(sender, receiver_sock.getsockname())
        got: list[bytes] = []
        wait_until(lambda: got.append(receiver_sock.recv(65535)) or len(got) == len(datagrams), timeout=5)
        assert [d.rstrip(b"\n") if is_bundle(d) else d for d in got] == [
            d.rstrip(b"\n") if is_bundle(d) else d for d in datagrams
        ]
        assert all(len(d) <= MAX_DATAGRAM_BYTES for d in got)
    finally:
        sender_sock.close()
        receiver_sock.close()


@pytest.mark.parametrize("with_sack", [False, True])
def test_poll_burst_makes_the_calls_plan_makes_of_poll(with_sack: bool) -> None:
    lines = [bytes([97 + n % 26]) * (150 + n % 50) for n in range(300)]

    def channel() -> Channel:
        c = Channel(3, now=0.0, opener=False)
        c.sender.peer_window = 256
        if with_sack:  # a fragment behind a gap: every datagram carries a selective-ack bitmap
            c.receive(parse(_data_from_peer(seq=2)), 0.0)
        c.send_many(batch_messages(lines[:100], single=True))
        c.send(b"big" * 1000)
        c.send(b"alone")
        c.send_many(batch_messages(lines[100:], single=True))
        return c

    calls = channel().poll_burst(0.0)
    expected = [(size, b"".join(batch)) for size, batch in plan(channel().poll(0.0))]
    assert calls == expected
    assert sum(1 for size, _ in calls if size) == 2  # the bundles before and after the large message
    first_size, first_burst = next(call for call in calls if call[0])
    assert bool(parse(first_burst[:first_size]).sack) is with_sack
    assert all(
        len(data) <= size * MAX_SEGMENTS and size <= MAX_DATAGRAM_BYTES for size, data in calls if size
    )
    assert all(len(data) <= MAX_DATAGRAM_BYTES for size, data in calls if not size)


def _data_from_peer(seq: int) -> bytes:
    return encode(Datagram(Kind.DATA, 3, 0, 64, seq=seq, index=0, count=1, payload=b"x"))


def _twin_receivers() -> tuple[Channel, Channel]:
    """Two clients of connection 3 that have opened it (so they accept the host's data)."""
    return Channel(3, now=0.0, opener=True), Channel(3, now=0.0, opener=True)


def _apply_one_by_one(channel: Channel, data: bytes, segment: int, now: float) -> int:
    valid = 0
    for start in range(0, len(data), segment):
        try:
            datagram = parse(data[start : start + segment])
        except WireError:
            continue
        valid += 1
        channel.receive(datagram, now)
    return valid


def test_a_coalesced_burst_is_received_as_its_datagrams_one_by_one() -> None:
    lines = [bytes([97 + n % 26]) * (100 + n % 90) for n in range(500)]
    host = Channel(3, now=0.0, opener=False)
    host.sender.peer_window = 256
    host.send_many(batch_messages(lines, single=True))
    calls = host.poll_burst(0.0)
    fast, slow = _twin_receivers()
    for size, data in calls:
        segment = size or len(data)
        assert fast.receive_segments(data, segment, 0.01) == _apply_one_by_one(slow, data, segment, 0.01)
    assert fast.take_stream() == slow.take_stream() == b"\n".join(lines) + b"\n"
    assert fast.stats() == slow.stats() and fast.stats().messages_received == len(lines)
    assert fast.poll(0.02) == slow.poll(0.02)  # the same ack, window and echo


_FIELDS_END = FIXED_HEADER_BYTES + DATA_FIELDS.size


def _set(at: int, value: bytes):
    return lambda d: d[:at] + value + d[at + len(value) :]


@pytest.mark.parametrize(
    "mangle",
    [
        _set(_FIELDS_END - 2, b"\x00\x07"),  # a first piece of 7: accepted, then a bundle breaks it
        _set(_FIELDS_END - 4, b"\x00\x01"),  # index 1 of a bundle: refused by the parser
        _set(_FIELDS_END - 4, b"\x00\x09\x00\x02"),  # index beyond count
        _set(8, b"\xff"),  # another connection id: ignored by the channel
        _set(20, b"\xff\xff"),  # another window: parsed in full again
        lambda d: d[: _FIELDS_END - 1],  # truncated fragment fields (the last, shorter, segment)
        lambda d: d[:_FIELDS_END],  # no payload
    ],
)
def test_broken_datagrams_inside_a_burst_are_refused_as_alone(mangle) -> None:
    host = Channel(3, now=0.0, opener=False)
    host.sender.peer_window = 256
    host.send_many(batch_messages([b"m" * 300 for _ in range(30)], single=True))
    size, data = next(call for call in host.poll_burst(0.0) if call[0])
    segments = [data[start : start + size] for start in range(0, len(data), size)]
    mangled = b"".join([*segments[:2], mangle(segments[2]).ljust(size, b"\n"), *segments[3:]])
    if len(mangle(segments[2])) < _FIELDS_END:  # a shorter segment can only come last
        mangled = b"".join([*segments[:2], mangle(segments[2])])
    fast, slow = _twin_receivers()
    valid = fast.receive_segments(mangled, size, 0.01)
    assert valid == _apply_one_by_one(slow, mangled, size, 0.01) and valid >= 2
    assert fast.take_stream() == slow.take_stream()
    assert fast.failure == slow.failure and fast.stats() == slow.stats()


@pytest.mark.parametrize("segmenting", [True, False])
def test_the_calls_of_poll_burst_arrive_as_the_datagrams_of_poll(segmenting: bool) -> None:
    """With segmentation offload or without it (other systems: each segment sent alone)."""
    lines = [bytes([65 + n % 26]) * (120 + n % 90) for n in range(400)]

    def channel() -> Channel:
        c = Channel(3, now=0.0, opener=False)
        c.sender.peer_window = 256
        c.send_many(batch_messages(lines, single=True))
        c.send(b"big" * 1000)
        return c

    datagrams = channel().poll(0.0)
    _arrive_intact(
        datagrams, segmenting, lambda sender, address: sender.send_calls(channel().poll_burst(0.0), address)
    )


def test_a_refused_burst_switches_to_one_datagram_per_call_for_good() -> None:
    class RefusingSocket:
        def __init__(self) -> None:
            self.sent: list[bytes] = []
            self.bursts = 0

        def sendmsg(self, buffers, ancillary, flags, address) -> int:
            self.bursts += 1
            raise OSError(errno.EOPNOTSUPP, "not here")

        def sendto(self, data: bytes, address) -> int:
            self.sent.append(data)
            return len(data)

    sock = RefusingSocket()
    sender = BurstSender(sock)  # type: ignore[arg-type]
    sender.segmenting = True
    calls = [(0, b"alone"), (4, b"abcdefghij"), (3, b"xyzxyz")]
    sender.send_calls(calls, ("127.0.0.1", 9))
    assert sock.sent == [b"alone", b"abcd", b"efgh", b"ij", b"xyz", b"xyz"]
    assert sock.bursts == 1 and not sender.segmenting
