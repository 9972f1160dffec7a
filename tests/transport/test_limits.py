"""Limits per address and per client, the same over TCP and UDP (issue 14, items 4 and 5).

One computer must not be able to fill the room, nor buy itself a fresh rate budget by
reconnecting or by opening more connections; people at other addresses keep chatting
meanwhile. Other computers are other loopback addresses (127.0.0.2, ...).
"""

from __future__ import annotations

import time

from net.api import Delivered
from net.protocol import events as ev
from net.room import RoomConfig
from tests.helpers import wait_until


def _chatting(chat, alice_key: str = "alice", bob_key: str = "bob") -> None:
    """alice and bob (from 127.0.0.1) exchange a message each way."""
    alice, bob = chat.clients[alice_key], chat.clients[bob_key]
    alice.send_message("hello bob")
    bob.send_message("hello alice")
    chat.wait_event(bob_key, ev.ChatMessage, lambda m: m.text == "hello bob")
    chat.wait_event(alice_key, ev.ChatMessage, lambda m: m.text == "hello alice")
    wait_until(lambda: not alice.pending and not bob.pending, message="both acknowledged")


def test_a_crowd_from_one_address_cannot_fill_the_room(chat) -> None:
    host = chat.host(
        room=RoomConfig(name="suite", rate_per_second=0, max_members=10), max_connections_per_address=4
    )
    welcomed = chat.crowd(host.port, "127.0.0.2", 12)
    assert len(welcomed) == 4
    chat.joined(host.port, "alice", "bob")  # the room still has places for everyone else
    _chatting(chat)
    assert len(chat.crowd(host.port, "127.0.0.3", 3)) == 3  # another address has its own cap
    wait_until(lambda: host.member_count == 9, message="nine members")
    chat.leave(welcomed[0])  # one from the crowd's address leaves: its place is free again
    wait_until(lambda: host.member_count == 8, message="one left")
    wait_until(lambda: len(chat.crowd(host.port, "127.0.0.2", 1)) == 1, message="its place taken again")
    assert chat.crowd(host.port, "127.0.0.2", 2) == []


def _say_many(chat, member, prefix: str, count: int) -> None:
    for number in range(count):
        event = ev.Say(id=f"{prefix}-{number}", text=f"{prefix} {number}")
        if chat.transport == "tcp":
            member.send(event)
        else:
            member.send_event(event)


def _answers(chat, member, prefix: str, count: int) -> int:
    """Waits until the host answered all `count` messages; returns how many it took."""

    def tally() -> tuple[int, int]:
        chat.pump(member)
        taken = sum(isinstance(e, ev.Ack) and e.id.startswith(f"{prefix}-") for e in member.events)
        refused = sum(
            isinstance(e, ev.Error) and e.code == "rate_limited" and (e.ref or "").startswith(f"{prefix}-")
            for e in member.events
        )
        return taken, refused

    wait_until(lambda: sum(tally()) == count, message=f"answers to {prefix}")
    return tally()[0]


def test_reconnecting_with_the_same_client_id_buys_no_fresh_burst(chat) -> None:
    room = RoomConfig(name="suite", rate_per_second=2, rate_burst=10)
    host = chat.host(room=room)
    chat.joined(host.port, "alice", "bob")
    start = time.monotonic()
    taken = 0
    for attempt in range(6):
        member = chat.raw_member(host.port, "mallory", source="127.0.0.2", client_id="mallory-id")
        _say_many(chat, member, f"r{attempt}", 30)
        taken += _answers(chat, member, f"r{attempt}", 30)
        member.close()  # over TCP it leaves; over UDP the next hello replaces it
    elapsed = time.monotonic() - start
    assert 10 <= taken <= 10 + 2 * elapsed + 1, f"{taken} messages in {elapsed:.2f} s"
    _chatting(chat)


def test_members_from_one_address_share_one_budget_while_others_chat(chat) -> None:
    room = RoomConfig(name="suite", rate_per_second=2, rate_burst=5, address_rate_multiple=2)
    host = chat.host(room=room)
    chat.joined(host.port, "alice", "bob")
    start = time.monotonic()
    crowd = [chat.raw_member(host.port, f"m{n}", source="127.0.0.2") for n in range(6)]
    for number, member in enumerate(crowd):
        _say_many(chat, member, f"m{number}", 10)
    _chatting(chat)  # while the crowd is being refused
    taken = sum(_answers(chat, member, f"m{number}", 10) for number, member in enumerate(crowd))
    elapsed = time.monotonic() - start
    assert 10 <= taken <= 10 + 4 * elapsed + 1, f"{taken} messages in {elapsed:.2f} s"
    assert len(chat.of_type("alice", Delivered)) == 1
