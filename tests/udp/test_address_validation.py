"""Reflection and amplification: the host sends an address it has not validated at most 3x
what that address sent it (QUIC's rule), whatever the datagrams claim.

A forged source is emulated on loopback by a socket bound to 127.0.0.2, the address the
attacker claims. The attacker only writes to it, blindly, as a real forger would (it never
sees the replies, so it cannot echo a token); everything that arrives on that socket is
what the victim, whoever owns 127.0.0.2 at that port, would receive.
"""

from __future__ import annotations

import secrets
import socket
import time

import pytest

from net.api import ClientState, Transport
from net.discovery.wire import (
    PROBE_MIN_BYTES,
    Probe,
    RoomInfo,
    decode_datagram,
    encode_datagram,
    encode_probe,
    handle_discovery_datagram,
    new_host_id,
    new_probe_id,
)
from net.protocol import Connection, Role
from net.protocol import events as ev
from net.protocol.limits import MAX_ROOM_NAME_CHARS, PROTOCOL_VERSION
from net.room import RoomConfig
from net.udp.channel import Channel
from net.udp.tuning import UdpTuning
from net.udp.wire import NO_TOKEN, OPEN_FLAG, Datagram, Kind, encode, encode_retry, parse
from tests.helpers import wait_until

#: QUIC's limit (RFC 9000, section 8): before validation, at most 3x the bytes received.
LIMIT = 3

VICTIM = "127.0.0.2"


class ForgedSource:
    """Datagrams that claim to come from (`address`, a fixed port), and the victim's count of
    what the host sent back there."""

    def __init__(self, host_port: int, address: str = VICTIM) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 0))
        self.sock.setblocking(False)
        self.host = ("127.0.0.1", host_port)
        self.sent_bytes = 0
        self.arrived: list[bytes] = []

    @property
    def address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.host)
        self.sent_bytes += len(data)

    def collect(self) -> list[bytes]:
        """What the victim has received so far (the attacker never reads it)."""
        while True:
            try:
                self.arrived.append(self.sock.recv(65535))
            except (BlockingIOError, ConnectionRefusedError):
                return self.arrived

    @property
    def arrived_bytes(self) -> int:
        return sum(len(data) for data in self.collect())

    def close(self) -> None:
        self.sock.close()


def _opening_probe(conn_id: int) -> bytes:
    """The OPEN probe a client's channel sends first (before it has heard anything)."""
    return Channel(conn_id, now=time.monotonic(), opener=True).poll(time.monotonic())[0]


def _hello(conn_id: int, nick: str) -> bytes:
    """A complete hello as the first DATA datagram of `conn_id`, with a wide-open window."""
    frame = Connection(Role.CLIENT).send(
        ev.Hello(version=PROTOCOL_VERSION, nick=nick, client_id=secrets.token_hex(8))
    )
    return encode(Datagram(Kind.DATA, conn_id, 0, 0xFFFF, seq=0, index=0, count=1, payload=frame[:-1]))


def _blind_attack(source: ForgedSource, conn_id: int, *, acks: int = 20) -> None:
    """OPEN + hello from the forged address, then acks that guess the host's sequence numbers
    (they start at 0) and advertise the largest window, to keep the host sending."""
    source.send(_opening_probe(conn_id))
    source.send(_hello(conn_id, f"ghost{conn_id % 1000}"))
    for number in range(acks):
        time.sleep(0.01)
        source.send(encode(Datagram(Kind.ACK, conn_id, number, 0xFFFF)))


def _fill_history(chat, port: int, messages: int = 40, size: int = 1000) -> None:
    alice = chat.client(port, "alice")
    wait_until(lambda: alice.state is ClientState.CONNECTED, message="alice connected")
    for n in range(messages):
        alice.send_message(f"{n:03} " + "h" * size)
    wait_until(lambda: len(chat.hosts[0]._loop.room._history) >= messages, message="history filled")


@pytest.mark.parametrize("acks", [0, 20], ids=["open-and-hello", "and-blind-acks"])
def test_a_forged_open_and_hello_are_not_amplified_into_the_history(chat, acks: int) -> None:
    host = chat.host(room=RoomConfig(name="udp", rate_per_second=0))
    _fill_history(chat, host.port)
    source = ForgedSource(host.port)
    try:
        _blind_attack(source, secrets.randbits(64) | 1, acks=acks)
        time.sleep(1.0)  # retransmissions would come too
        received, sent = source.arrived_bytes, source.sent_bytes
        print(
            f"forged OPEN + hello: host sent {received} bytes in {len(source.arrived)} datagrams "
            f"for {sent} bytes received (x{received / sent:.1f})"
        )
        assert received <= LIMIT * sent
        assert host.member_count == 1  # the ghost never joined
    finally:
        source.close()


def _answering_host(chat, room: str = "Lobby", nick: str = "alice"):
    """A UDP host that answers discovery probes on its chat port (as `hosting` sets one up)."""
    host = chat.host()
    info = RoomInfo(
        room=room, nick=nick, transport=Transport.UDP, port=host.port, host_id=new_host_id(), key=b"\x7f" * 32
    )
    host.discovery_handler = lambda data, address: handle_discovery_datagram(data, info)
    return host


def test_discovery_answers_on_the_chat_port_are_at_most_three_times_the_probe(chat) -> None:
    host = _answering_host(chat)
    source = ForgedSource(host.port)
    try:
        source.send(encode_datagram(Probe(new_probe_id())))  # as small as a probe gets
        time.sleep(0.2)
        print(f"a {source.sent_bytes}-byte probe drew {[len(a) for a in source.collect()]} bytes")
        assert source.arrived_bytes <= LIMIT * source.sent_bytes
    finally:
        source.close()


def test_a_padded_probe_is_answered_within_three_times_its_size(chat) -> None:
    # The longest room name and nickname, in 4-byte characters: about the largest answer.
    host = _answering_host(chat, room="\U0001f3e0" * MAX_ROOM_NAME_CHARS, nick="\U0001f600" * 96)
    probe = encode_probe(Probe("p1"))
    assert len(probe) == PROBE_MIN_BYTES and decode_datagram(probe) == Probe("p1")
    source = ForgedSource(host.port)
    try:
        source.send(probe)
        answers = wait_until(source.collect, message="an answer")
        assert decode_datagram(answers[0]).answer_to == "p1" and len(answers[0]) > len(probe)
        assert source.arrived_bytes <= LIMIT * source.sent_bytes
    finally:
        source.close()


def _token(sock: socket.socket, host_port: int, conn_id: int) -> bytes:
    """Ask for a token from `sock`'s own address, as a client does (it may: it is its address)."""
    sock.sendto(_opening_probe(conn_id), ("127.0.0.1", host_port))
    sock.settimeout(2)
    datagram = parse(sock.recv(65535))
    assert datagram.kind is Kind.RETRY and datagram.conn_id == conn_id
    return datagram.token


def _open_with(token: bytes, conn_id: int) -> bytes:
    return encode(Datagram(Kind.ACK, conn_id, 0, 0xFFFF, opening=True, token=token))


def test_a_genuine_client_joins_with_one_retry_and_chats(chat) -> None:
    host = chat.host()
    alice = chat.client(host.port, "alice")
    wait_until(lambda: alice.state is ClientState.CONNECTED, message="alice connected")
    peer = chat.raw_peer(host.port)
    peer.join("bob")
    opens = [parse(data) for data in peer.sent if parse(data).opening]
    assert opens[0].token == NO_TOKEN and opens[1].token != NO_TOKEN  # answered the RETRY at once
    assert peer.channel.retries == 1
    peer.send_event(ev.Say(id="s1", text="validated"))
    wait_until(lambda: [m.text for m in chat.of_type("alice", ev.ChatMessage)] == ["validated"])
    assert host._loop.counters["retries_sent"] >= 2  # alice's and bob's


def test_a_token_is_refused_from_another_address_for_another_connection_and_late(chat) -> None:
    host = chat.host(tuning=UdpTuning(retry_token_lifetime=0.3))
    loop = host._loop
    genuine = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    genuine.bind(("127.0.0.1", 0))
    source = ForgedSource(host.port)
    try:
        conn_id = secrets.randbits(64) | 1
        token = _token(genuine, host.port, conn_id)
        source.send(_open_with(token, conn_id))  # seen, and replayed from another address
        source.send(_hello(conn_id, "thief"))
        other = secrets.randbits(64) | 1
        genuine.sendto(_open_with(token, other), ("127.0.0.1", host.port))
        assert parse(genuine.recv(65535)).kind is Kind.RETRY  # another connection id: a new RETRY
        time.sleep(0.5)
        genuine.sendto(_open_with(token, conn_id), ("127.0.0.1", host.port))  # expired
        assert parse(genuine.recv(65535)).kind is Kind.RETRY
        assert conn_id not in loop._peers and other not in loop._peers and not loop._handshakes
        replies = [parse(data) for data in source.collect()]
        assert [d.kind for d in replies] == [Kind.RETRY, Kind.RESET]  # nothing but the smaller answers
        assert source.arrived_bytes <= source.sent_bytes
        fresh = _token(genuine, host.port, conn_id)  # and the same, done right, opens it
        genuine.sendto(_open_with(fresh, conn_id), ("127.0.0.1", host.port))
        answer = parse(genuine.recv(65535))
        assert answer.kind is Kind.ACK and not answer.opening and conn_id in loop._peers
    finally:
        genuine.close()
        source.close()


def test_a_flood_of_forged_opens_keeps_no_state_and_harms_no_member(chat) -> None:
    host = chat.host()
    alice, bob = chat.client(host.port, "alice"), chat.client(host.port, "bob")
    wait_until(lambda: alice.state is bob.state is ClientState.CONNECTED, message="connected")
    loop = host._loop
    members = set(loop._peers)
    sources = [ForgedSource(host.port, f"127.0.0.{n}") for n in range(2, 42)]
    try:
        for _ in range(25):
            for source in sources:
                conn_id = secrets.randbits(64) | 1
                source.send(_opening_probe(conn_id))
                source.send(_open_with(secrets.token_bytes(16), conn_id))  # a guessed token
                source.send(_hello(conn_id, "ghost"))
                source.send(encode(Datagram(Kind.ACK, conn_id, 1, 0xFFFF)))  # a window opened blindly
        alice.send_message("still here?")
        wait_until(
            lambda: [m.text for m in chat.of_type("bob", ev.ChatMessage)] == ["still here?"],
            message="relayed",
        )
        assert set(loop._peers) == members and not loop._handshakes and not loop._closed_ids
        for source in sources:
            assert 0 < source.arrived_bytes <= source.sent_bytes
        print(
            f"flood: {sum(s.sent_bytes for s in sources)} bytes from {len(sources)} forged addresses drew "
            f"{sum(s.arrived_bytes for s in sources)} bytes"
        )
        assert host.member_count == 2
    finally:
        for source in sources:
            source.close()


def test_an_old_version_open_gets_no_answer(chat) -> None:
    host = chat.host()
    source = ForgedSource(host.port)
    try:
        probe = bytearray(encode(Datagram(Kind.ACK, 77, 0, 256)))
        probe[4] = 2  # a version 2 client's OPEN probe (30 bytes): it has no token field
        probe[6] = OPEN_FLAG
        source.send(bytes(probe))
        time.sleep(0.2)
        assert source.collect() == [] and host._loop.counters["garbage"] == 1
    finally:
        source.close()


def test_a_reset_to_a_stranger_is_never_larger_than_what_drew_it(chat) -> None:
    host = chat.host()
    source = ForgedSource(host.port)
    try:
        smallest = encode(Datagram(Kind.DATA, 5, 0, 0, seq=0, index=0, count=1, payload=b"x"))
        source.send(smallest)
        for kind in (Kind.ACK, Kind.RESET):  # these draw nothing at all
            source.send(encode(Datagram(kind, 6, 0, 0xFFFF)))
        source.send(encode_retry(8, bytes(16)))
        replies = wait_until(source.collect, message="a reset")
        time.sleep(0.1)
        assert [parse(data).kind for data in source.collect()] == [Kind.RESET]
        assert len(replies[0]) <= len(smallest)
    finally:
        source.close()
