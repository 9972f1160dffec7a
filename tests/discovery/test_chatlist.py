"""The list of found chats: appear, update, expire, goodbye, replacement. Fake time throughout."""

from __future__ import annotations

from dataclasses import replace

from net.api import Transport
from net.discovery.chatlist import (
    HEARD_TOGETHER,
    ChatFound,
    ChatList,
    ChatLost,
    ChatUpdated,
    format_endpoint,
)
from net.discovery.wire import Goodbye, RoomInfo

ALICE, BOB = b"\xa1" * 32, b"\xb0" * 32
TCP_ROOM = RoomInfo("Lobby", "alice", Transport.TCP, 47800, "h-alice", ALICE, 1, interval=2.0, ttl=7.0)
UDP_ROOM = RoomInfo("Attic", "bob", Transport.UDP, 47801, "h-bob", BOB, 4, interval=1.0, ttl=3.5)


def key(n: int) -> bytes:
    return n.to_bytes(32, "big")


def kinds(events: list) -> list[str]:
    return [type(event).__name__ for event in events]


def test_found_then_refreshed_silently_then_updated() -> None:
    chats = ChatList()
    events = chats.observe(TCP_ROOM, "192.168.1.5", now=100.0)
    assert kinds(events) == ["ChatFound"]
    found = events[0].chat
    assert (found.address, found.port, found.transport, found.info.members) == (
        "192.168.1.5",
        47800,
        Transport.TCP,
        1,
    )
    assert found.expires_at == 107.0
    assert chats.observe(TCP_ROOM, "192.168.1.5", now=101.0) == []  # nothing shown changed
    events = chats.observe(replace(TCP_ROOM, members=2), "192.168.1.5", now=102.0)
    assert kinds(events) == ["ChatUpdated"]
    assert events[0].chat.info.members == 2


def test_expires_after_ttl_of_silence() -> None:
    chats = ChatList()
    chats.observe(TCP_ROOM, "192.168.1.5", now=0.0)
    chats.observe(UDP_ROOM, "192.168.1.6", now=0.0)
    assert chats.next_expiry() == 3.5
    assert chats.expire(3.4) == []
    events = chats.expire(3.5)
    assert [(type(e), e.chat.info.room, e.reason) for e in events] == [(ChatLost, "Attic", "expired")]
    chats.observe(TCP_ROOM, "192.168.1.5", now=6.0)  # refreshed before its ttl ran out
    assert chats.expire(12.9) == []
    assert kinds(chats.expire(13.0)) == ["ChatLost"]
    assert len(chats) == 0
    assert chats.next_expiry() is None


def test_one_chat_heard_at_several_addresses_is_listed_once() -> None:
    chats = ChatList()
    assert kinds(chats.observe(TCP_ROOM, "fe80::5%eth0", now=0.0)) == ["ChatFound"]
    events = chats.observe(TCP_ROOM, "192.168.1.5", now=0.5)
    assert kinds(events) == ["ChatUpdated"]
    chat = events[0].chat
    assert chat.address == "192.168.1.5"  # IPv4 preferred for joining
    assert chat.addresses == ("192.168.1.5", "fe80::5%eth0")
    assert len(chats.snapshot()) == 1
    # The IPv6 address goes silent: the chat stays, reachable at the other address.
    chats.observe(TCP_ROOM, "192.168.1.5", now=5.0)
    events = chats.expire(7.0)
    assert kinds(events) == ["ChatUpdated"]
    assert events[0].chat.addresses == ("192.168.1.5",)


def test_goodbye_removes_the_chat_at_the_address_it_came_from() -> None:
    chats = ChatList()
    chats.observe(TCP_ROOM, "192.168.1.5", now=0.0)
    chats.observe(TCP_ROOM, "::1", now=0.0)
    goodbye = Goodbye("h-alice", Transport.TCP, 47800, ALICE)
    # The host's goodbye arrives from each of its addresses (broadcast and multicast).
    events = chats.goodbye(goodbye, "192.168.1.5")
    assert kinds(events) == ["ChatUpdated"] and events[0].chat.addresses == ("::1",)
    events = chats.goodbye(goodbye, "::1")
    assert [(type(e), e.reason) for e in events] == [(ChatLost, "goodbye")]
    assert chats.snapshot() == []
    assert chats.goodbye(goodbye, "::1") == []
    assert chats.goodbye(Goodbye("unknown", Transport.UDP, 1, key(9)), "::1") == []


def test_a_goodbye_from_elsewhere_removes_nothing() -> None:
    """Issue 14: a stranger's goodbye, also after it announced a copy of the room itself."""
    chats = ChatList()
    chats.observe(TCP_ROOM, "192.168.1.5", now=0.0)
    goodbye = Goodbye("h-alice", Transport.TCP, 47800, ALICE)
    assert chats.goodbye(goodbye, "192.168.1.66") == []
    chats.observe(TCP_ROOM, "192.168.1.66", now=1.0)
    events = chats.goodbye(goodbye, "192.168.1.66")  # takes back only its own address
    assert kinds(events) == ["ChatUpdated"]
    assert [c.addresses for c in chats.snapshot()] == [("192.168.1.5",)]
    # A goodbye names the key, transport and port it ends: another room at that address stays.
    chats.observe(UDP_ROOM, "192.168.1.5", now=1.0)
    assert chats.goodbye(replace(goodbye, transport=Transport.UDP), "192.168.1.5") == []
    assert len(chats) == 2


def test_restarted_host_is_the_same_chat() -> None:
    """A restart makes a new host id; the installation's key, and so the chat, stay."""
    chats = ChatList()
    chats.observe(TCP_ROOM, "192.168.1.5", now=0.0)
    restarted = replace(TCP_ROOM, host_id="h-alice-2", members=0)
    events = chats.observe(restarted, "192.168.1.5", now=1.0)
    assert kinds(events) == ["ChatUpdated"]
    assert [c.info.host_id for c in chats.snapshot()] == ["h-alice-2"]


def test_another_key_at_the_same_address_and_port_replaces_the_old_entry() -> None:
    chats = ChatList()
    chats.observe(TCP_ROOM, "192.168.1.5", now=0.0)
    other_installation = replace(TCP_ROOM, key=key(2), members=0)
    events = chats.observe(other_installation, "192.168.1.5", now=1.0)
    assert [(type(e), getattr(e, "reason", None)) for e in events] == [
        (ChatLost, "replaced"),
        (ChatFound, None),
    ]
    assert [c.info.key for c in chats.snapshot()] == [key(2)]


def test_same_port_on_other_addresses_or_transports_are_different_chats() -> None:
    chats = ChatList()
    chats.observe(TCP_ROOM, "192.168.1.5", now=0.0)
    chats.observe(replace(TCP_ROOM, key=key(2)), "192.168.1.6", now=0.0)
    chats.observe(replace(TCP_ROOM, transport=Transport.UDP), "192.168.1.5", now=0.0)
    assert len(chats.snapshot()) == 3


def test_a_room_is_its_key_not_its_name_nor_its_host_id() -> None:
    chats = ChatList()
    chats.observe(TCP_ROOM, "192.168.1.5", now=0.0)
    # Another installation announcing the same name, nickname and even host id is another room.
    copy = replace(TCP_ROOM, key=key(2))
    assert kinds(chats.observe(copy, "192.168.1.6", now=0.5)) == ["ChatFound"]
    listed = chats.snapshot()
    assert [(c.info.room, c.address, c.info.key) for c in listed] == [
        ("Lobby", "192.168.1.5", ALICE),
        ("Lobby", "192.168.1.6", key(2)),
    ]
    assert listed[0].code != listed[1].code
    assert listed[0].code == "A1A1-A1A1-A1A1-A1A1-A1A1"
    # One key heard at two addresses is one host reachable at both: listed once.
    assert kinds(chats.observe(TCP_ROOM, "fe80::5%eth0", now=1.0)) == ["ChatUpdated"]
    assert len(chats.snapshot()) == 2


def test_snapshot_sorted_by_room_name() -> None:
    chats = ChatList()
    chats.observe(TCP_ROOM, "192.168.1.5", now=0.0)
    chats.observe(UDP_ROOM, "192.168.1.6", now=0.0)
    chats.observe(replace(UDP_ROOM, room="attic", key=key(3)), "192.168.1.7", now=0.0)
    assert [c.info.room for c in chats.snapshot()] == ["Attic", "attic", "Lobby"]


def test_list_and_addresses_are_bounded() -> None:
    chats = ChatList(max_chats=3)
    for n in range(5):
        chats.observe(replace(TCP_ROOM, key=key(n)), f"10.0.0.{n}", now=0.0)
    assert len(chats) == 3
    for n in range(20):
        chats.observe(replace(TCP_ROOM, key=key(0)), f"10.1.0.{n}", now=float(n) / 10)
    (h0,) = [c for c in chats.snapshot() if c.info.key == key(0)]
    assert len(h0.addresses) == 8
    # The addresses heard first stay; newcomers to a full list are ignored, never pushing one out.
    assert h0.addresses == ("10.0.0.0", *(f"10.1.0.{n}" for n in range(7)))
    chats.observe(replace(TCP_ROOM, key=key(0)), "10.0.0.0", now=7.0)  # only this one stays alive
    chats.expire(8.0)
    chats.observe(replace(TCP_ROOM, key=key(0)), "10.2.0.1", now=8.0)
    (h0,) = [c for c in chats.snapshot() if c.info.key == key(0)]
    assert h0.addresses == ("10.0.0.0", "10.2.0.1")


def test_a_later_address_never_displaces_the_first_nor_changes_what_is_shown() -> None:
    """Issue 14: a copy of a room (key included) from another address sorted first by its text."""
    chats = ChatList()
    chats.observe(TCP_ROOM, "192.168.1.20", now=0.0)
    copy = replace(TCP_ROOM, room="Lobby (moved)", nick="mallory", members=99)
    events = chats.observe(copy, "192.168.1.100", now=5.0)
    assert kinds(events) == ["ChatUpdated"]  # one more address; nothing else shown changed
    (chat,) = chats.snapshot()
    assert (chat.address, chat.addresses) == ("192.168.1.20", ("192.168.1.20", "192.168.1.100"))
    assert chat.info == TCP_ROOM
    assert chats.observe(replace(copy, members=98), "192.168.1.100", now=6.0) == []  # not shown
    assert chats.observe(replace(TCP_ROOM, members=2), "192.168.1.20", now=6.0)[0].chat.info.members == 2
    # The real address goes silent: the chat is then only where the copy is (and fails to connect).
    chats.observe(copy, "192.168.1.100", now=10.0)
    events = chats.expire(13.0)
    assert kinds(events) == ["ChatUpdated"]
    assert (events[0].chat.address, events[0].chat.info.room) == ("192.168.1.100", "Lobby (moved)")


def test_a_later_ipv4_address_does_not_displace_an_ipv6_one_heard_first() -> None:
    chats = ChatList()
    chats.observe(TCP_ROOM, "fe80::5%eth0", now=0.0)
    chats.observe(TCP_ROOM, "192.168.1.50", now=1.0 + HEARD_TOGETHER)
    (chat,) = chats.snapshot()
    assert chat.addresses == ("fe80::5%eth0", "192.168.1.50")


def test_addresses_heard_together_are_joined_ipv4_first() -> None:
    """One announcement arrives over IPv6 and IPv4 at once, in either order."""
    chats = ChatList()
    chats.observe(TCP_ROOM, "fe80::5%eth0", now=0.0)
    chats.observe(TCP_ROOM, "2001:db8::5", now=0.1)
    chats.observe(TCP_ROOM, "192.168.1.5", now=HEARD_TOGETHER)
    (chat,) = chats.snapshot()
    assert chat.addresses == ("192.168.1.5", "2001:db8::5", "fe80::5%eth0")


def test_endpoint_formatting() -> None:
    assert format_endpoint("192.168.1.5", 47800) == "192.168.1.5:47800"
    assert format_endpoint("fe80::1%eth0", 47800) == "[fe80::1%eth0]:47800"
    chats = ChatList()
    (event,) = chats.observe(UDP_ROOM, "::1", now=0.0)
    assert isinstance(event, ChatFound)
    assert event.chat.endpoint == "[::1]:47801"
    assert isinstance(chats.observe(replace(UDP_ROOM, room="Loft"), "::1", now=1.0)[0], ChatUpdated)
