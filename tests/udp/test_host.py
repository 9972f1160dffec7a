"""The UDP host and client on real loopback sockets: lifecycle, membership, hostile input."""

from __future__ import annotations

import random
import socket
import time

import pytest

from net.api import (
    ClientState,
    Delivered,
    DeliveryFailed,
    FailureKind,
    HostStartError,
    HostStopped,
    StateChanged,
)
from net.protocol import events as ev
from net.protocol.limits import MAX_FRAME_BYTES
from net.room import RoomConfig
from net.udp.sockets import DatagramReader
from net.udp.tuning import HELLO_MAX_BYTES, UdpTuning
from net.udp.wire import (
    BUNDLE_PAYLOAD,
    FRAGMENT_PAYLOAD,
    MAGIC,
    MAX_FRAGMENTS,
    Datagram,
    Kind,
    ResetReason,
    encode,
    parse,
)
from tests.helpers import wait_until
from tests.udp.relay import LossyRelay


def _connected(*clients) -> None:
    wait_until(lambda: all(c.state is ClientState.CONNECTED for c in clients), timeout=5, message="connected")


def _texts(chat, nick: str) -> list[str]:
    return [m.text for m in chat.of_type(nick, ev.ChatMessage)]


def _stranger() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    return sock


def _validation_tokens(sock: socket.socket, conn_ids: list[int]) -> dict[int, bytes]:
    """The host's token for each of `conn_ids` from a non-blocking socket connected to it: an
    OPEN each (again while its RETRY has not come: a flood may lose some), and the RETRYs."""
    tokens: dict[int, bytes] = {}

    def ask_and_read() -> bool:
        for conn in conn_ids:
            if conn not in tokens:
                sock.send(encode(Datagram(Kind.ACK, conn, 0, 64, opening=True)))
        time.sleep(0.02)
        try:
            while True:
                datagram = parse(sock.recv(65535))
                if datagram.kind is Kind.RETRY:
                    tokens[datagram.conn_id] = datagram.token
        except BlockingIOError:
            return len(tokens) == len(conn_ids)

    wait_until(ask_and_read, message="a RETRY for every OPEN")
    return tokens


def _replies(sock: socket.socket) -> list[bytes]:
    out = []
    try:
        while True:
            out.append(sock.recv(65535))
    except (TimeoutError, BlockingIOError):
        return out


# -- lifecycle ------------------------------------------------------------------------------


def test_a_port_in_use_is_reported_as_a_sentence(chat) -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        taken.bind(("127.0.0.1", 0))
        with pytest.raises(HostStartError, match="already in use"):
            chat.host(port=taken.getsockname()[1])
    finally:
        taken.close()


def test_stop_says_bye_joins_quickly_and_frees_the_port(chat) -> None:
    host = chat.host()
    alice = chat.client(host.port, "alice")
    _connected(alice)
    started = time.monotonic()
    host.stop("closing time")
    assert time.monotonic() - started < 2.0
    assert host._threads and not any(thread.is_alive() for thread in host._threads)
    assert chat.host_events == [HostStopped("closing time")]
    wait_until(lambda: alice.state is ClientState.RECONNECTING, message="alice sees the host leave")
    change = chat.of_type("alice", StateChanged)[-1]
    assert change.failure is FailureKind.HOST_LEFT and change.reason == "closing time"
    again = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    again.bind(("127.0.0.1", host.port))  # the socket is closed: the port is free at once
    again.close()


def test_a_16k_chinese_message_and_a_big_history_arrive_whole(chat) -> None:
    host = chat.host()
    alice = chat.client(host.port, "alice")
    _connected(alice)
    big = "长" * 16 * 1024  # 48 KiB of UTF-8, 44 fragments
    for _ in range(2):  # two of these fill the welcome's history budget
        alice.send_message(big)
    wait_until(lambda: len(chat.of_type("alice", Delivered)) == 2, message="acked")
    bob = chat.client(host.port, "bob")
    _connected(bob)
    welcome = chat.of_type("bob", ev.Welcome)[0]
    assert [m.text for m in welcome.history] == [big] * 2
    alice.send_message(big[:-1] + "!")
    wait_until(lambda: _texts(chat, "bob") == [big[:-1] + "!"], message="bob receives the big message")


# -- membership -----------------------------------------------------------------------------


def test_a_vanished_member_is_seen_leaving_within_the_heartbeat_timeout(chat) -> None:
    host = chat.host(heartbeat_timeout=1.0)
    alice = chat.client(host.port, "alice")
    _connected(alice)
    ghost = chat.raw_peer(host.port)
    ghost.join("ghost")
    wait_until(
        lambda: any(j.nick == "ghost" for j in chat.of_type("alice", ev.Joined)), message="ghost joined"
    )
    vanished = time.monotonic()  # from now on the ghost sends nothing at all
    left = wait_until(
        lambda: next((e for e in chat.of_type("alice", ev.Left) if e.nick == "ghost"), None),
        timeout=3,
        message="alice sees the ghost leave",
    )
    assert time.monotonic() - vanished <= 1.0 + 0.5
    assert left.reason == "timed out"
    assert alice.state is ClientState.CONNECTED  # alice pings, so she stays


def test_a_member_that_stops_acknowledging_is_dropped_without_slowing_the_others(chat) -> None:
    tuning = UdpTuning(send_window=8, give_up_after=3.0, min_retransmits=2)
    host = chat.host(tuning=tuning, room=RoomConfig(name="udp", rate_per_second=0))
    alice, bob = chat.client(host.port, "alice"), chat.client(host.port, "bob")
    _connected(alice, bob)
    stuck = chat.raw_peer(host.port)
    stuck.join("stuck")
    wait_until(lambda: stuck.channel.idle, pump=stuck.pump, message="the welcome acknowledged")
    stuck.deaf = True  # takes nothing in, acknowledges nothing
    started = time.monotonic()
    for number in range(100):
        alice.send_message(f"m{number}")
    wait_until(lambda: len(_texts(chat, "bob")) == 100, timeout=3, message="bob gets everything")
    assert time.monotonic() - started < 2.0  # long before the stuck member's budget runs out
    left = wait_until(
        lambda: next((e for e in chat.of_type("bob", ev.Left) if e.nick == "stuck"), None),
        timeout=10,
        message="the stuck member is dropped",
    )
    assert "retry budget" in left.reason
    assert time.monotonic() - started >= 3.0


def test_a_member_whose_backlog_overflows_is_dropped_as_too_slow(chat) -> None:
    tuning = UdpTuning(send_window=4, max_backlog_bytes=256 * 1024)
    host = chat.host(tuning=tuning, room=RoomConfig(name="udp", rate_per_second=0))
    alice = chat.client(host.port, "alice")
    _connected(alice)
    stuck = chat.raw_peer(host.port)
    stuck.join("stuck")
    stuck.deaf = True
    for _ in range(20):
        alice.send_message("长" * 16 * 1024)  # 20 x 48 KiB > 256 KiB queued for the stuck member
    left = wait_until(
        lambda: next((e for e in chat.of_type("alice", ev.Left) if e.nick == "stuck"), None),
        timeout=4,
        message="the stuck member is dropped",
    )
    assert "does not keep up" in left.reason


def test_a_bye_is_announced_and_the_connection_id_cannot_be_replayed(chat) -> None:
    host = chat.host()
    alice = chat.client(host.port, "alice")
    _connected(alice)
    mallory = chat.raw_peer(host.port)
    mallory.join("mallory")
    mallory.send_event(ev.Say(id="s1", text="only once"))
    wait_until(lambda: _texts(chat, "alice") == ["only once"], pump=mallory.pump, message="relayed once")
    for data in mallory.sent * 3:  # replayed from the same address: duplicates, dropped
        mallory.sock.send(data)
    other = _stranger()
    try:
        for data in mallory.sent:  # replayed from elsewhere: someone else's connection id
            other.sendto(data, ("127.0.0.1", host.port))
        mallory.send_event(ev.Bye(reason="gone"))
        left = wait_until(
            lambda: next((e for e in chat.of_type("alice", ev.Left) if e.nick == "mallory"), None),
            pump=mallory.pump,
            message="alice sees mallory leave",
        )
        assert left.reason == "gone"
        wait_until(lambda: host.member_count == 1, message="mallory is gone")
        replies_before = len(mallory.received)
        for data in mallory.sent:  # the hello again, on a closed connection id
            mallory.sock.send(data)
        wait_until(
            lambda: any(parse(d).kind is Kind.RESET for d in mallory.received[replies_before:]),
            pump=mallory.pump,
            message="a reset for the closed connection",
        )
        time.sleep(0.1)  # give a wrong relay or join the chance to happen
        assert _texts(chat, "alice") == ["only once"]
        assert [j.nick for j in chat.of_type("alice", ev.Joined)] == ["mallory"]
        assert host.member_count == 1
        assert _replies(other) == []  # the other address got nothing at all
    finally:
        other.close()


# -- hostile input --------------------------------------------------------------------------


def test_garbage_and_foreign_datagrams_harm_nobody(chat) -> None:
    host = chat.host()
    alice, bob = chat.client(host.port, "alice"), chat.client(host.port, "bob")
    _connected(alice, bob)
    member_ids = list(host._loop._peers)
    rng = random.Random(7)
    stranger = _stranger()
    address = ("127.0.0.1", host.port)
    well_formed = 0
    try:
        stranger.sendto(b"", address)
        for _ in range(100):
            stranger.sendto(rng.randbytes(rng.randrange(1, 1500)), address)
            stranger.sendto(MAGIC + rng.randbytes(rng.randrange(0, 100)), address)
        valid = encode(Datagram(Kind.DATA, 99, 0, 8, seq=0, index=0, count=2, payload=b"x"))
        stranger.sendto(valid[:-3], address)  # truncated fragment
        stranger.sendto(valid[:4] + b"\x07" + valid[5:], address)  # a future version
        for conn_id in (12345, 67890):  # not OPEN: unknown connections
            stranger.sendto(
                encode(Datagram(Kind.DATA, conn_id, 0, 8, seq=3, index=0, count=1, payload=b"hi")), address
            )
            stranger.sendto(encode(Datagram(Kind.ACK, conn_id, 0, 8)), address)
            well_formed += 2
        for conn_id in member_ids:  # members' connection ids, from the wrong address
            stranger.sendto(encode(Datagram(Kind.RESET, conn_id, 0, 0, reason=ResetReason.CLOSED)), address)
            stranger.sendto(
                encode(Datagram(Kind.DATA, conn_id, 0, 8, seq=5, index=0, count=1, payload=b"{}")), address
            )
        replies = _replies(stranger)
        assert 0 < len(replies) <= well_formed
        assert all(parse(reply).kind is Kind.RESET for reply in replies)
        assert host._loop.counters["garbage"] >= 200
    finally:
        stranger.close()
    alice.send_message("still here?")
    bob.send_message("yes")
    wait_until(lambda: _texts(chat, "bob") == ["still here?"] and _texts(chat, "alice") == ["yes"])
    assert not chat.of_type("alice", ev.Left) and host.member_count == 2


def test_a_connection_that_skips_the_hello_is_refused_and_never_relayed(chat) -> None:
    host = chat.host()
    alice = chat.client(host.port, "alice")
    _connected(alice)
    intruder = chat.raw_peer(host.port)
    wait_until(lambda: intruder.channel.heard, pump=intruder.pump, message="probe answered")
    intruder.channel.send(b'{"type":"say","id":"x1","text":"let me in"}')
    wait_until(lambda: intruder.events, pump=intruder.pump, message="an answer")
    assert isinstance(intruder.events[0], ev.Error)
    wait_until(
        lambda: any(parse(d).kind is Kind.RESET for d in intruder.received),
        pump=intruder.pump,
        message="reset",
    )
    assert _texts(chat, "alice") == [] and host.member_count == 1


def test_connections_from_one_address_beyond_its_cap_are_reset_as_busy(chat) -> None:
    host = chat.host(max_connections_per_address=3)
    other = chat.raw_peer(host.port, source="127.0.0.4")  # saying hello, from elsewhere
    wait_until(lambda: other.channel.heard, pump=other.pump, message="the other's probe answered")
    crowd = [chat.raw_peer(host.port, source="127.0.0.3") for _ in range(8)]

    def answered() -> bool:
        for peer in crowd:
            peer.pump()
        return all(peer.channel.heard or peer.channel.failed for peer in crowd)

    wait_until(answered, message="every opening answered")
    busy = [peer for peer in crowd if peer.channel.failed]  # (a RESET counts as heard, too)
    assert len(busy) == 5 and all(peer.channel.failure.reset is ResetReason.BUSY for peer in busy)
    other.join("other")  # its handshake was not evicted for them
    assert host._loop.counters["crowded"] == 5
    leaving = next(peer for peer in crowd if not peer.channel.failed)
    leaving.send_event(ev.Bye(reason="done"))  # a place is free again once it has closed
    wait_until(lambda: leaving.channel.failed, pump=leaving.pump, message="closed")
    late = chat.raw_peer(host.port, source="127.0.0.3")
    assert late.join("late").nick == "late"


def test_reassembly_memory_stays_bounded_under_a_first_fragment_flood(chat) -> None:
    host = chat.host()
    alice = chat.client(host.port, "alice")
    _connected(alice)
    flooder = chat.raw_peer(host.port)
    flooder.join("flooder")
    conn_id = flooder.channel.conn_id
    base = flooder.channel.sender._next_new
    payload = b"\xee" * FRAGMENT_PAYLOAD
    rng = random.Random(3)
    for _ in range(3000):  # first fragments of huge messages, never the rest
        seq = base + 1 + rng.randrange(400)
        datagram = Datagram(Kind.DATA, conn_id, 0, 64, seq=seq, index=0, count=MAX_FRAGMENTS, payload=payload)
        flooder.sock.send(encode(datagram))
    # And many new connections that never finish their hello (opened properly: the flooder
    # echoes the tokens, as it may for its own address).
    tokens = _validation_tokens(flooder.sock, [rng.randrange(1, 2**64) for _ in range(300)])
    for number, (conn, token) in enumerate(tokens.items()):
        flooder.sock.send(encode(Datagram(Kind.ACK, conn, 0, 64, opening=True, token=token)))
        count = MAX_FRAGMENTS if number % 2 else 3  # too large for a hello, or plausible
        fields = {"seq": 1 + rng.randrange(3), "count": count, "payload": payload}
        flooder.sock.send(encode(Datagram(Kind.DATA, conn, 0, 64, **fields)))
    alice.send_message("unharmed")
    wait_until(lambda: any(e.msg_id for e in chat.of_type("alice", Delivered)), message="alice still served")
    stats = host.peer_stats()
    member = stats["flooder"]
    assert 0 < member["buffered_bytes"] <= member["buffer_bound"]
    assert member["buffer_bound"] == 127 * BUNDLE_PAYLOAD + MAX_FRAME_BYTES
    handshakes = [s for name, s in stats.items() if name not in ("alice", "flooder")]
    assert 0 < len(handshakes) <= UdpTuning().max_handshakes
    assert all(
        s["buffered_bytes"] <= s["buffer_bound"] == 3 * BUNDLE_PAYLOAD + HELLO_MAX_BYTES for s in handshakes
    )
    total = sum(s["buffered_bytes"] for s in stats.values())
    print(f"first-fragment flood: host holds {total} bytes for reassembly ({len(stats)} connections)")


def test_discovery_probes_on_the_chat_port_reach_the_handler(chat) -> None:
    host = chat.host()
    seen = []

    def answer(data: bytes, address: tuple) -> bytes | None:
        seen.append((data, address))
        return b"LANCHAT-HERE " + data[6:] if data.startswith(b"PROBE ") else None

    host.discovery_handler = answer
    asker = _stranger()
    try:
        asker.sendto(b"PROBE 42", ("127.0.0.1", host.port))
        asker.sendto(b"noise", ("127.0.0.1", host.port))
        assert _replies(asker) == [b"LANCHAT-HERE 42"]
        assert [data for data, _ in seen] == [b"PROBE 42", b"noise"]
        assert seen[0][1][1] == asker.getsockname()[1]
    finally:
        asker.close()


def test_the_reader_skips_connection_reset_errors_on_the_host_socket() -> None:
    class FakeSocket:
        def __init__(self) -> None:
            self.calls = [ConnectionResetError(), (b"data", ("1.2.3.4", 5)), BlockingIOError()]

        def recvfrom_into(self, buffer: bytearray):
            item = self.calls.pop(0)
            if isinstance(item, BaseException):
                raise item
            data, address = item
            buffer[: len(data)] = data
            return len(data), address

    assert list(DatagramReader(FakeSocket()).read_batch()) == [(b"data", ("1.2.3.4", 5))]
    with pytest.raises(ConnectionRefusedError):  # a client's socket: the host is not there
        list(DatagramReader(FakeSocket(), connected=True).read_batch())


# -- delivery across failures ---------------------------------------------------------------


def test_unacknowledged_messages_stay_pending_and_are_resent_after_rejoin(chat) -> None:
    host = chat.host(heartbeat_timeout=2.0)
    relay = LossyRelay(("127.0.0.1", host.port), loss=0.0, duplicate=0.0).start()
    try:
        alice = chat.client(relay.port, "alice", heartbeat_timeout=1.0, connect_timeout=0.5, backoff=(0.2,))
        bob = chat.client(host.port, "bob")
        _connected(alice, bob)
        relay.loss = 1.0  # the network between alice and the host goes dark
        local_id = alice.send_message("through the outage")
        wait_until(lambda: alice.state is ClientState.RECONNECTING, timeout=4, message="alice notices")
        assert alice.pending == [local_id]
        assert not chat.of_type("alice", DeliveryFailed)
        relay.loss = 0.0
        wait_until(lambda: chat.of_type("alice", Delivered), timeout=5, message="delivered after rejoin")
        assert alice.pending == []
        wait_until(lambda: _texts(chat, "bob") == ["through the outage"], message="bob gets it")
        time.sleep(0.2)
        assert _texts(chat, "bob") == ["through the outage"]  # exactly once
        assert [d.local_id for d in chat.of_type("alice", Delivered)] == [local_id]
    finally:
        for client in chat.clients:
            client.close()
        relay.stop()


def test_a_restarted_host_is_recognised_and_the_outbox_is_resent(chat) -> None:
    first = chat.host()
    relay = LossyRelay(("127.0.0.1", first.port), loss=0.0, duplicate=0.0).start()
    try:
        alice = chat.client(relay.port, "alice", backoff=(0.1,))
        _connected(alice)
        second = chat.host()
        bob = chat.client(second.port, "bob")
        _connected(bob)
        relay.retarget(("127.0.0.1", second.port))  # alice's host "restarted" (without a bye)
        local_id = alice.send_message("hello, new host")
        wait_until(
            lambda: _texts(chat, "bob") == ["hello, new host"], timeout=5, message="resent to the new host"
        )
        lost = [c for c in chat.of_type("alice", StateChanged) if c.state is ClientState.RECONNECTING]
        assert lost and "no longer knows this connection" in lost[0].reason
        wait_until(lambda: [d.local_id for d in chat.of_type("alice", Delivered)] == [local_id])
    finally:
        for client in chat.clients:
            client.close()
        relay.stop()
