"""Finding a chat on the LAN without typing an address, as users on separate PCs do.

PC1 hosts with nothing but a room name; the other PCs run `main.py discover` with no
`--probe`, so only the production path (limited and directed broadcast, IPv6 multicast,
announcements) can find it. Each scenario runs over TCP and over UDP.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from net.paths import identity_dir
from net.secure.identity import load_or_create_identity
from tests.lan import cli
from tests.lan.virtual_lan import VirtualLan

pytestmark = [pytest.mark.lan, cli.requires_announcing_host]

DEFAULT_PORT = 47800
#: A host that vanishes without a goodbye may stay listed this much past its announced ttl.
EXPIRY_SLACK = 2.0


def test_a_chat_found_by_discovery_is_joined_from_its_listing(lan: VirtualLan, transport: str) -> None:
    room = "三楼办公室"
    cli.start_host(lan[1], transport, "--name", room)
    listings = {
        pc.number: cli.find_room(found, room)
        for pc, found in zip(lan.pcs[1:], cli.discover(lan[2], lan[3]), strict=True)
    }
    for listing in listings.values():
        assert listing.endpoint == f"{lan[1].ipv4}:{DEFAULT_PORT}", listing
        assert listing.transport == transport and listing.members == 0
        assert listing.host == "pc1"  # a window-less host shows its PC's name

    alice = cli.join(lan[2], listings[2].endpoint, "alice", transport)
    bob = cli.join(lan[3], listings[3].endpoint, "bob", transport)
    alice.expect(cli.joined_line("bob"))
    alice.send("大家好，我在二号机")
    bob.expect(cli.chat_line("alice", "大家好，我在二号机"), timeout=cli.DELIVERY_TIMEOUT)
    bob.send("收到！三号机这边一切正常")
    alice.expect(cli.chat_line("bob", "收到！三号机这边一切正常"), timeout=cli.DELIVERY_TIMEOUT)
    alice.send("/msg bob 这是悄悄话")
    bob.expect(cli.chat_line("alice", "这是悄悄话", private=True), timeout=cli.DELIVERY_TIMEOUT)
    # The room now has two members, and a listing says so.
    assert cli.find_room(cli.discover(lan[3])[0], room).members == 2
    # Only bob got the private line; alice's own screen shows no copy from the room either.
    alice.send("after the private one")
    bob.expect(cli.chat_line("alice", "after the private one"))
    alice.expect_none("这是悄悄话")


def test_the_addresses_to_share_are_the_host_pcs_lan_addresses(lan: VirtualLan, transport: str) -> None:
    cli.start_host(lan[1], transport, "--name", "doctor")
    report, other_report = cli.doctor(lan[1], lan[2])
    assert cli.addresses_to_share(report) == [lan[1].ipv4], report
    assert f"found: doctor  {lan[1].ipv4}:{DEFAULT_PORT}  {transport}" in report, report
    # Another PC's doctor shares that PC's own address, and finds the chat at PC1's.
    assert cli.addresses_to_share(other_report) == [lan[2].ipv4], other_report
    assert f"found: doctor  {lan[1].ipv4}:{DEFAULT_PORT}  {transport}" in other_report, other_report


def test_two_rooms_of_one_name_on_two_pcs_are_listed_as_two_with_their_codes(
    lan: VirtualLan, transport: str
) -> None:
    room = "同名的聊天"
    for pc in (lan[1], lan[2]):
        cli.start_host(pc, transport, "--name", room)
    # Each PC's installation made its own identity when it started hosting.
    codes = {
        pc.ipv4: load_or_create_identity(identity_dir(pc.home / "config")).code for pc in (lan[1], lan[2])
    }
    assert len(set(codes.values())) == 2
    [listings] = cli.discover(lan[3])
    twins = [listing for listing in listings if listing.room == room]
    assert sorted((listing.address, listing.code) for listing in twins) == sorted(codes.items()), listings


def test_two_hosts_on_two_pcs_are_listed_by_every_pc(
    make_lan: Callable[..., VirtualLan], transport: str
) -> None:
    # A switch with no router: the PCs have no default route, so the limited broadcast
    # (255.255.255.255) has nowhere to go and only directed broadcast and multicast work.
    lan = make_lan(3, default_route=False)
    cli.start_host(lan[1], transport, "--name", "一号机的聊天")
    cli.start_host(lan[2], transport, "--name", "room on pc2")
    for pc, listings in zip(lan.pcs, cli.discover(*lan.pcs), strict=True):
        first = cli.find_room(listings, "一号机的聊天")
        second = cli.find_room(listings, "room on pc2")
        assert len(listings) == 2, listings
        for listing, host_pc in ((first, lan[1]), (second, lan[2])):
            assert listing.transport == transport and listing.host == host_pc.name
            if host_pc is not pc:
                assert listing.endpoint == f"{host_pc.ipv4}:{DEFAULT_PORT}", (pc.name, listing)


def test_a_host_whose_pc_drops_off_the_lan_expires_within_its_announced_ttl(
    lan: VirtualLan, transport: str
) -> None:
    room = "断网测试"
    host = cli.start_host(lan[1], transport, "--name", room)
    watcher = cli.watch_chats(lan[2])
    # Heard first over IPv6 multicast, a chat is listed at its link-local address for a moment,
    # then updated to the IPv4 address (preferred) as soon as that is heard too.
    endpoint = f"{lan[1].ipv4}:{DEFAULT_PORT}"
    found = cli.event_fields(watcher.expect(cli.chat_event("found|updated", room, endpoint), timeout=10))
    alice = cli.join(lan[2], endpoint, "alice", transport)
    bob = cli.join(lan[3], endpoint, "bob", transport)
    alice.expect(cli.joined_line("bob"))

    unplugged_at = time.monotonic()
    lan[1].unplug()  # no goodbye can reach anyone now
    lost = watcher.expect(cli.chat_event("lost", room), timeout=found["ttl"] + 10)
    gone_after = lost.time - unplugged_at
    assert cli.event_fields(lost)["reason"] == "expired"
    assert gone_after <= found["ttl"] + EXPIRY_SLACK, f"listed {gone_after:.1f} s, ttl {found['ttl']} s"

    bob.send("主机断网时写的")

    lan[1].plug()
    back = watcher.expect(cli.chat_event("found", room), after=lost.index, timeout=found["ttl"])
    # Whether the members' connections survived the outage or were re-made, nothing is lost.
    alice.expect(cli.chat_line("bob", "主机断网时写的"), timeout=40)
    print(
        f"\n[{transport}] dropped from the list {gone_after:.1f} s after its PC went off the LAN "
        f"(announced ttl {found['ttl']} s); listed again {back.time - lost.time:.1f} s after"
    )
    assert cli.stop(host) == 0


def test_a_host_with_two_network_adapters_is_found_and_joined_from_both_networks(
    make_lan: Callable[..., VirtualLan], transport: str
) -> None:
    office, lab = make_lan(2), make_lan(1)
    host_pc = office[1]
    lab_address = lab.connect(host_pc, 10)  # PC1 has a second adapter in the lab network
    room = "两个网卡"
    cli.start_host(host_pc, transport, "--name", room)

    [shared] = [cli.addresses_to_share(report) for report in cli.doctor(host_pc)]
    assert sorted(shared) == sorted([host_pc.ipv4, lab_address]), shared

    in_office, in_lab = (cli.find_room(found, room) for found in cli.discover(office[2], lab[1]))
    assert in_office.endpoint == f"{host_pc.ipv4}:{DEFAULT_PORT}", in_office
    assert in_lab.endpoint == f"{lab_address}:{DEFAULT_PORT}", in_lab

    alice = cli.join(office[2], in_office.endpoint, "alice", transport)
    carol = cli.join(lab[1], in_lab.endpoint, "carol", transport)
    alice.expect(cli.joined_line("carol"))
    carol.send("实验室这边你好")
    alice.expect(cli.chat_line("carol", "实验室这边你好"), timeout=cli.DELIVERY_TIMEOUT)
    alice.send("办公室收到")
    carol.expect(cli.chat_line("alice", "办公室收到"), timeout=cli.DELIVERY_TIMEOUT)
