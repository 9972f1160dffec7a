"""The shared broadcast log: each receiver gets its share of a round, in order, minus its own messages."""

from __future__ import annotations

import selectors
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from net.protocol import events as ev
from net.room import Room, RoomConfig
from net.secure.tls import TlsSession, client_context, server_context
from net.tcp.fanout import Fanout
from net.tcp.inbox import Inbox
from net.tcp.peer import Peer
from net.tcp.router import Router
from net.tcp.tuning import HostTuning
from tests.identity import session_identity


def make_peer(name: str, *, text: bool = False) -> Peer:
    peer = Peer(None, (name, 0))  # type: ignore[arg-type]  (no socket needed here)
    peer.is_text = text
    return peer


@contextmanager
def router_over_a_small_socket() -> Iterator[tuple[Router, Peer, socket.socket]]:
    """A router (not started) and a receiver on one end of a socket pair whose send buffer
    is small, so that a share is only partly taken; yields the other end to read from."""
    ours, theirs = socket.socketpair()
    inbox = Inbox()
    router = Router(Room(RoomConfig()), inbox, HostTuning(), heartbeat_timeout=30, handshake_timeout=10)
    router._selector = selectors.DefaultSelector()
    try:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        ours.setblocking(False)
        yield router, Peer(ours, ("receiver", 0)), theirs
    finally:
        router._selector.close()
        inbox.close()
        ours.close()
        theirs.close()


def serve_round(fanout: Fanout) -> list[Peer]:
    """What the router does with a round: each share appended to the receiver's output."""
    served = []
    for peer, segments in fanout.take_round():
        for segment in segments:
            peer.outbound += segment
        served.append(peer)
    return served


def test_every_receiver_gets_the_round_in_order_without_its_own_messages() -> None:
    fanout = Fanout()
    alice, bob, carol = make_peer("alice"), make_peer("bob"), make_peer("carol")
    for peer in (alice, bob, carol):
        fanout.add(peer)
    fanout.broadcast(b"a1\n", None, exclude=alice)
    fanout.broadcast(b"a2\n", None, exclude=alice)
    fanout.broadcast(b"b1\n", None, exclude=bob)
    fanout.broadcast(b"a3\n", None, exclude=alice)
    fanout.broadcast(b"all\n", None)
    assert set(serve_round(fanout)) == {alice, bob, carol}
    assert bytes(alice.outbound) == b"b1\nall\n"
    assert bytes(bob.outbound) == b"a1\na2\na3\nall\n"
    assert bytes(carol.outbound) == b"a1\na2\nb1\na3\nall\n"
    assert fanout.round_bytes == 0
    assert serve_round(fanout) == []


def test_catch_up_before_a_private_send_keeps_the_order() -> None:
    fanout = Fanout()
    bob = make_peer("bob")
    fanout.add(bob)
    fanout.broadcast(b"one\n", None)
    assert fanout.catch_up(bob)
    bob.outbound += b"private\n"
    fanout.broadcast(b"two\n", None)
    serve_round(fanout)
    assert bytes(bob.outbound) == b"one\nprivate\ntwo\n"


def test_a_receiver_added_mid_round_gets_only_what_follows() -> None:
    fanout = Fanout()
    early, late = make_peer("early"), make_peer("late")
    fanout.add(early)
    fanout.broadcast(b"before\n", None)
    fanout.add(late)
    fanout.broadcast(b"after\n", None, exclude=early)
    serve_round(fanout)
    assert bytes(early.outbound) == b"before\n"
    assert bytes(late.outbound) == b"after\n"


def test_removal_delivers_the_share_so_far_or_drops_it() -> None:
    fanout = Fanout()
    leaving, cut, staying = make_peer("leaving"), make_peer("cut"), make_peer("staying")
    for peer in (leaving, cut, staying):
        fanout.add(peer)
    fanout.broadcast(b"hello\n", None)
    fanout.remove(leaving)
    fanout.remove(cut, deliver=False)
    fanout.broadcast(b"left\n", None)
    serve_round(fanout)
    assert bytes(leaving.outbound) == b"hello\n"
    assert bytes(cut.outbound) == b""
    assert bytes(staying.outbound) == b"hello\nleft\n"
    assert len(fanout) == 1 and staying in fanout


def test_text_receivers_get_the_text_lines() -> None:
    fanout = Fanout()
    robot, person = make_peer("robot"), make_peer("person", text=True)
    assert not fanout.wants_text
    fanout.add(robot)
    fanout.add(person)
    assert fanout.wants_text
    fanout.broadcast(b'{"type":"message"}\n', "[12:00] bob: 你好\n".encode(), exclude=person)
    fanout.broadcast(b'{"type":"typing"}\n', None)  # nothing a person needs to see
    fanout.broadcast(b'{"type":"joined"}\n', b"--> carol joined\n")
    serve_round(fanout)
    assert bytes(robot.outbound) == b'{"type":"message"}\n{"type":"typing"}\n{"type":"joined"}\n'
    assert bytes(person.outbound) == b"--> carol joined\n"
    fanout.remove(person)
    assert not fanout.wants_text


def test_private_message_between_broadcasts_arrives_in_order(start_host, connect) -> None:
    host = start_host()
    alice, bob = connect(host.port, "alice"), connect(host.port, "bob")
    alice.wait_for(lambda e: isinstance(e, ev.Joined))
    frames = b"".join(
        alice.conn.send(ev.Say(id=f"s{i}", text=f"{i}", to="bob" if i % 3 == 1 else None)) for i in range(30)
    )
    alice.send_raw(frames)  # one write: the host handles them in one round
    bob.wait_for(lambda e: isinstance(e, ev.ChatMessage) and e.text == "29")
    assert [m.text for m in bob.messages()] == [str(i) for i in range(30)]
    assert [m.to for m in bob.messages()][:3] == [None, "bob", None]


def test_a_reply_takes_the_place_of_the_message_it_answers() -> None:
    fanout = Fanout()
    alice, bob = make_peer("alice"), make_peer("bob")
    for peer in (alice, bob):
        fanout.add(peer)
    fanout.broadcast(b"b1\n", None, exclude=bob)
    fanout.broadcast(b"a1\n", None, exclude=alice)
    assert fanout.reply(alice, b"ack1\n")
    fanout.broadcast(b"a2\n", None, exclude=alice)
    assert fanout.reply(alice, b"ack2\n")
    fanout.broadcast(b"b2\n", None, exclude=bob)
    assert not fanout.reply(alice, b"late\n")  # not right after alice's own message
    assert fanout.reply(bob, b"ackb2\n")
    assert set(serve_round(fanout)) == {alice, bob}
    assert bytes(alice.outbound) == b"b1\nack1\nack2\nb2\n"
    assert bytes(bob.outbound) == b"a1\na2\nackb2\n"


def test_a_reply_is_delivered_when_its_receiver_leaves_or_catches_up() -> None:
    fanout = Fanout()
    alice, bob = make_peer("alice"), make_peer("bob")
    for peer in (alice, bob):
        fanout.add(peer)
    fanout.broadcast(b"a1\n", None, exclude=alice)
    assert fanout.reply(alice, b"ack1\n")
    assert fanout.catch_up(alice)
    assert bytes(alice.outbound) == b"ack1\n"
    fanout.broadcast(b"b1\n", None, exclude=bob)
    assert fanout.reply(bob, b"ackb1\n")
    fanout.remove(bob)
    assert bytes(bob.outbound) == b"a1\nackb1\n"
    assert not fanout.reply(make_peer("stranger"), b"x\n")
    assert not fanout.reply(make_peer("texter", text=True), b"x\n")


def test_a_share_the_socket_takes_only_in_part_keeps_the_rest_in_order() -> None:
    """The router writes a share as slices with one system call; what the kernel refuses is
    kept, in order, and written later."""
    with router_over_a_small_socket() as (router, peer, theirs):
        segments = [bytes([65 + n]) * 100_000 for n in range(3)]
        shared = memoryview(b"".join(segments))
        router._write_share(peer, [shared[:150_000], b"ack\n", shared[150_000:]])
        first, second, third = segments
        expected = first + second[:50_000] + b"ack\n" + second[50_000:] + third
        assert 0 < len(peer.outbound) < len(expected), "the socket took part of the share"
        assert peer.watching_writes
        received = bytearray()
        theirs.settimeout(5)
        while len(received) < len(expected):
            if peer.outbound:
                router._flush(peer)
            received += theirs.recv(1 << 20)
        assert bytes(received) == expected


def test_an_encrypted_receiver_gets_its_rounds_and_private_bytes_in_order_through_a_full_socket() -> None:
    """An encrypted receiver's share is sealed straight from the round's slices; what its
    socket refuses waits as records, and later rounds and private bytes (sealed on the way
    out) follow them in order."""
    with router_over_a_small_socket() as (router, peer, theirs):
        peer.tls = TlsSession(server_context(session_identity()), server=True)
        member = TlsSession(client_context(), server=False)
        for _ in range(3):  # the handshake, in memory
            if member.output_pending:
                peer.tls.receive(member.take_output())
            if peer.tls.output_pending:
                member.receive(peer.tls.take_output())
        assert peer.tls.handshake_done and member.handshake_done
        other = make_peer("sender")
        router._fanout.add(peer)
        router._fanout.add(other)
        rounds = [bytes([65 + n]) * 150_000 + b"\n" for n in range(3)]
        router._fanout.broadcast(rounds[0], None, other)
        router._flush_dirty()
        assert peer.sealed and not peer.outbound and peer.watching_writes, "the socket took part"
        router._fanout.broadcast(rounds[1], None, other)
        router._flush_dirty()  # sealed after the records still waiting
        router.queue(peer, b"private\n")
        router._fanout.broadcast(rounds[2], None, other)
        router._flush_dirty()
        expected = rounds[0] + rounds[1] + b"private\n" + rounds[2]
        received = bytearray()
        theirs.settimeout(5)
        while len(received) < len(expected):
            if peer.backlog:
                router._flush(peer)
            received += member.receive(theirs.recv(1 << 20))
        assert bytes(received) == expected
        assert not peer.backlog


def test_input_that_arrived_meanwhile_joins_the_round_before_it_is_written() -> None:
    """Before a round is written, sockets that became readable meanwhile are read into it
    (without waiting, a bounded number of passes): fewer, larger shares to write."""
    inbox = Inbox()
    router = Router(
        Room(RoomConfig()), inbox, HostTuning(extra_read_passes=3), heartbeat_timeout=30, handshake_timeout=10
    )
    calls: list[object] = []
    ready = [True, True, False]

    def serve_ready(timeout: float) -> bool:
        calls.append(timeout)
        return ready.pop(0) if ready else True

    router._serve_ready = serve_ready  # type: ignore[method-assign]
    router._flush_dirty = lambda: calls.append("flush")  # type: ignore[method-assign]
    try:
        router._write(0.0, False)
        assert calls == ["flush"], "an empty round waits for nothing"
        router._fanout.add(make_peer("receiver"))
        router._fanout.broadcast(b"message\n", None, None)
        calls.clear()
        router._write(0.0, False)
        assert calls == [0.0, 0.0, 0.0, "flush"], "read until nothing is ready, then write"
        ready[:] = [True] * 10
        calls.clear()
        router._write(0.0, False)
        assert calls == [0.0, 0.0, 0.0, "flush"], "at most extra_read_passes passes"
    finally:
        inbox.close()
