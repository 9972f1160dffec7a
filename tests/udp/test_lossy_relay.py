"""The issue's acceptance: ten members chat through a relay that loses 20 % of all datagrams.

The relay also duplicates 5 %, and delays every datagram by a random 1-11 ms so that many
overtake each other. Each member sends 200 messages (every tenth 10 KiB long, every
third Chinese); every member must receive every other member's messages exactly once and
in the order they were sent, in well under a minute.
"""

from __future__ import annotations

import logging
import time

import pytest

from net.api import ClientConfig, ClientState, Delivered, HostConfig
from net.protocol import events as ev
from net.room import RoomConfig
from net.udp.client import UdpClient
from net.udp.host import UdpHost
from tests.helpers import wait_until
from tests.identity import secure
from tests.udp.relay import LossyRelay

log = logging.getLogger(__name__)

MEMBERS = 10
MESSAGES = 200
TIME_LIMIT = 45.0


def _text(nick: str, number: int) -> str:
    head = f"{nick}#{number:03d} "
    if number % 10 == 0:
        return head + ("长消息" * 1200 + "x" * 7000)[: 10 * 1024 // 3]  # about 10 KiB of UTF-8
    if number % 3 == 0:
        return head + "你好，世界！今天的天气很好。"
    return head + "hello there"


@pytest.fixture
def lossy_chat():
    host = UdpHost(
        HostConfig(port=0, bind="127.0.0.1", room=RoomConfig(name="lossy", rate_per_second=0), **secure({}))
    )
    host.start()
    relay = LossyRelay(("127.0.0.1", host.port), loss=0.2, duplicate=0.05, delay=0.001, jitter=0.01).start()
    clients: list[UdpClient] = []
    inboxes: dict[str, list] = {}
    try:
        for index in range(MEMBERS):
            nick = f"m{index}"
            inbox: list = []
            inboxes[nick] = inbox
            clients.append(
                UdpClient(
                    ClientConfig(host="127.0.0.1", port=relay.port, nick=nick, connect_timeout=10),
                    on_event=inbox.append,
                )
            )
        yield host, relay, clients, inboxes
    finally:
        for client in clients:
            client.close()
        relay.stop()
        host.stop()


def test_ten_members_200_messages_each_through_a_lossy_relay(lossy_chat) -> None:
    host, relay, clients, inboxes = lossy_chat
    started = time.monotonic()
    for client in clients:
        client.start()
    wait_until(
        lambda: all(c.state is ClientState.CONNECTED for c in clients), timeout=15, message="all joined"
    )
    wait_until(lambda: host.member_count == MEMBERS, timeout=10, message="host sees everyone")
    for number in range(MESSAGES):
        for client in clients:
            client.send_message(_text(client.nick, number))

    def received(nick: str) -> list[ev.ChatMessage]:
        return [e for e in list(inboxes[nick]) if isinstance(e, ev.ChatMessage)]

    expected = (MEMBERS - 1) * MESSAGES
    wait_until(
        lambda: (
            all(len(received(c.nick)) >= expected for c in clients)
            and all(sum(isinstance(e, Delivered) for e in inboxes[c.nick]) == MESSAGES for c in clients)
        ),
        timeout=TIME_LIMIT - (time.monotonic() - started),
        interval=0.05,
        message="every message delivered everywhere",
    )
    elapsed = time.monotonic() - started

    for client in clients:
        messages = received(client.nick)
        assert len(messages) == expected, f"{client.nick} got {len(messages)} messages"
        by_sender: dict[str, list[str]] = {}
        for message in messages:
            by_sender.setdefault(message.sender, []).append(message.text)
        assert set(by_sender) == {c.nick for c in clients} - {client.nick}
        for sender, texts in by_sender.items():
            assert texts == [_text(sender, n) for n in range(MESSAGES)], (
                f"{sender} -> {client.nick} out of order"
            )
        assert client.state is ClientState.CONNECTED
        assert len(client.channel_stats()) == 1, "nobody reconnected: the channel alone recovered every loss"

    # Exactly once below the session's own dedupe: what the host's channels sent each member is
    # exactly what that member's channel delivered, and the other way round.
    def channels_agree() -> bool:
        host_side = host.peer_stats()
        return all(
            host_side[c.nick]["messages_sent"] == c.channel_stats()[-1].messages_received
            and host_side[c.nick]["messages_received"] == c.channel_stats()[-1].messages_sent
            and host_side[c.nick]["messages_acked"] == host_side[c.nick]["messages_sent"]
            for c in clients
        )

    wait_until(channels_agree, timeout=10, message="host and member channels agree")
    host_side = host.peer_stats()
    retransmissions = sum(s["retransmissions"] for s in host_side.values()) + sum(
        c.channel_stats()[-1].retransmissions for c in clients
    )
    duplicates = sum(s["duplicates_dropped"] for s in host_side.values()) + sum(
        c.channel_stats()[-1].duplicates_dropped for c in clients
    )
    fragments = sum(s["fragments_sent"] for s in host_side.values()) + sum(
        c.channel_stats()[-1].fragments_sent for c in clients
    )
    summary = (
        f"lossy relay: {MEMBERS}x{MESSAGES} messages in {elapsed:.1f} s; relay forwarded "
        f"{relay.stats.forwarded}, dropped {relay.stats.dropped}, duplicated {relay.stats.duplicated}; "
        f"fragments sent {fragments}, retransmissions {retransmissions}, duplicates dropped {duplicates}"
    )
    log.warning(summary)
    print(summary)
    assert relay.stats.dropped > 0.15 * (relay.stats.forwarded + relay.stats.dropped)
    assert elapsed < TIME_LIMIT
