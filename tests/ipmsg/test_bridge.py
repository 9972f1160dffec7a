"""The threaded shell on real loopback sockets: a hand-driven peer talks with a running bridge."""

from __future__ import annotations

import os
import queue
import socket
from collections.abc import Iterator

import pytest

from net.ipmsg import codec as c
from net.ipmsg.bridge import IpmsgBridge
from net.ipmsg.engine import BROADCAST, Identity
from net.ipmsg.events import IpmsgDelivered, IpmsgMessage, IpmsgStatus, IpmsgUndelivered, IpmsgUsers
from tests.helpers import wait_until
from tests.ipmsg import peer as make
from tests.ipmsg.rawpeer import RawPeer, mode, raw_peer


class Events:
    def __init__(self) -> None:
        self.queue: queue.Queue[object] = queue.Queue()
        self.seen: list[object] = []

    def post(self, event: object) -> None:
        self.queue.put(event)

    def wait_for(self, accept, timeout: float = 5.0) -> object:  # type: ignore[no-untyped-def]
        def found() -> object:
            while not self.queue.empty():
                self.seen.append(self.queue.get_nowait())
            return next((event for event in self.seen if accept(event)), None)

        return wait_until(found, timeout, message="an event from the bridge")


@pytest.fixture
def peer() -> Iterator[RawPeer]:
    with raw_peer() as created:
        yield created


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def bridge(peer: RawPeer, events: Events) -> Iterator[IpmsgBridge]:
    assert os.environ.get("LANCHAT_LOOPBACK_ONLY") == "1"
    created = IpmsgBridge(
        Identity("小王", "LanChat", "wang", "wang-pc"), events.post, port=0, broadcast_ports=(peer.port,)
    )
    created.start()
    try:
        yield created
    finally:
        created.stop()
        created.join()
    assert not created.running


def test_entry_message_both_ways_and_exit(bridge: IpmsgBridge, peer: RawPeer, events: Events) -> None:
    entry = peer.expect(mode(c.BR_ENTRY))  # the "broadcast", confined to 127.0.0.1
    assert entry.has(c.CAPUTF8OPT)
    peer.send(make.feiq_entry("张三", "研发部", user=b"zhangsan", host=b"ZHANG-PC"), bridge.port)
    peer.expect(mode(c.ANSENTRY))
    listed = events.wait_for(lambda e: isinstance(e, IpmsgUsers) and e.users)
    assert isinstance(listed, IpmsgUsers) and listed.users[0].nick == "张三"
    assert listed.users[0].address == peer.address and bridge.users == listed

    peer.send(make.message("你好，LanChat", number=4321), bridge.port)
    ack = peer.expect(mode(c.RECVMSG))
    assert c.acknowledged_number(ack.extra) == 4321
    shown = events.wait_for(lambda e: isinstance(e, IpmsgMessage))
    assert isinstance(shown, IpmsgMessage) and shown.text == "你好，LanChat" and shown.nick == "张三"

    message_id = bridge.send_message(peer.address, "来自 LanChat 的中文消息")
    sent = peer.expect(mode(c.SENDMSG))
    assert c.message_text_bytes(sent.extra).decode("gbk") == "来自 LanChat 的中文消息"
    peer.send(make.packet(c.RECVMSG, b"%d" % sent.packet_no), bridge.port)
    assert events.wait_for(lambda e: isinstance(e, IpmsgDelivered)) == IpmsgDelivered(
        peer.address, message_id
    )

    bridge.stop()
    bridge.join()
    peer.expect(mode(c.BR_EXIT))
    assert events.wait_for(lambda e: isinstance(e, IpmsgStatus) and not e.running)


def test_a_message_to_someone_who_left_is_reported_undelivered(
    bridge: IpmsgBridge, peer: RawPeer, events: Events
) -> None:
    message_id = bridge.send_message("127.0.0.1:9", "hello")
    event = events.wait_for(lambda e: isinstance(e, IpmsgUndelivered))
    assert isinstance(event, IpmsgUndelivered) and event.message_id == message_id and event.reason
    with pytest.raises(ValueError):
        bridge.send_message(peer.address, " ")


def test_loopback_only_confines_broadcasts_and_binding(bridge: IpmsgBridge, peer: RawPeer) -> None:
    assert bridge._destinations(BROADCAST) == [("127.0.0.1", peer.port)]
    assert bridge._socket is not None and bridge._socket.getsockname()[0] == "127.0.0.1"


def test_a_taken_port_is_a_clear_error(events: Events) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        taken = holder.getsockname()[1]
        bridge = IpmsgBridge(Identity("x"), events.post, port=taken)
        with pytest.raises(OSError, match="not free"):
            bridge.start()
        bridge.join()
    status = events.wait_for(lambda e: isinstance(e, IpmsgStatus))
    assert isinstance(status, IpmsgStatus) and not status.running and "IP Messenger" in status.problem


def test_garbage_giant_and_flood_leave_it_working(bridge: IpmsgBridge, peer: RawPeer, events: Events) -> None:
    with raw_peer() as attacker:
        for data in (b"", b"\xff" * 100, b"1:2:3", b"1:x:u:h:32:", b"9:1:u:h:4294967296:"):
            attacker.send(data, bridge.port)
        attacker.send(b"1:1:u:h:32:" + b"A" * 40_000, bridge.port)  # bigger than IP Messenger allows
        for number in range(2000):
            attacker.send(make.message("flood", number=number + 1, user=b"u", host=b"h"), bridge.port)
        wait_until(lambda: bridge.giant == 1, message="the giant datagram refused")
        attacker.drain(0.3)
        answers = [size for size, packet in zip(attacker.sizes, attacker.received, strict=True)
                   if packet.mode == c.RECVMSG]  # fmt: skip
        assert len(answers) <= 40  # the per-source burst, not 2000
    peer.send(make.feiq_entry("still here"), bridge.port)
    listed = events.wait_for(
        lambda e: isinstance(e, IpmsgUsers) and any(u.nick == "still here" for u in e.users)
    )
    assert listed
    assert bridge.running
