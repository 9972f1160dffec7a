"""Members of a chat on separate PCs ride out a host restart and a pulled network cable.

PC1 hosts; PC2 (alice) and PC3 (bob) join with `main.py join` by PC1's LAN address. Each
scenario runs over TCP and over UDP.
"""

from __future__ import annotations

import time

import pytest

from tests.lan import cli
from tests.lan.virtual_lan import VirtualLan

pytestmark = pytest.mark.lan

#: Short host heartbeat timeout for the unplugged-cable scenario (members then ping every second).
HEARTBEAT_TIMEOUT = 3.0
#: Allowed lateness of a "left" notice after the heartbeat timeout (router tick, scheduling).
LEFT_NOTICE_SLACK = 1.5


@cli.requires_announcing_host
def test_host_restart_members_reconnect_and_nothing_typed_is_lost(lan: VirtualLan, transport: str) -> None:
    room = "重启测试"
    host = cli.start_host(lan[1], transport, "--name", room)
    alice = cli.join(lan[2], lan[1].ipv4, "alice", transport)
    bob = cli.join(lan[3], lan[1].ipv4, "bob", transport)
    alice.expect(cli.joined_line("bob"))
    chat_lists = [cli.watch_chats(pc) for pc in (lan[2], lan[3])]
    ttl = max(
        cli.event_fields(watcher.expect(cli.chat_event("found", room)))["ttl"] for watcher in chat_lists
    )

    alice_mark, bob_mark = alice.mark(), bob.mark()
    stopped_at = time.monotonic()
    assert cli.stop(host) == 0
    for member in (alice, bob):
        member.expect(cli.RECONNECTING, after=alice_mark if member is alice else bob_mark)
    lost = [watcher.expect(cli.chat_event("lost", room), timeout=ttl) for watcher in chat_lists]
    listed_for = max(line.time for line in lost) - stopped_at
    assert listed_for <= ttl, f"still listed {listed_for:.1f} s after the host stopped (ttl {ttl} s)"

    typed_by_alice = ["断线时写的第一行", "second line typed while the host was down", "第三行 ✓"]
    for line in typed_by_alice:
        alice.send(line)
    bob.send("bob 也在等")

    restarted = cli.start_host(lan[1], transport, "--name", room)
    for watcher, lost_line in zip(chat_lists, lost, strict=True):
        watcher.expect(cli.chat_event("found", room), after=lost_line.index, timeout=ttl)
    for member, nick in ((alice, "alice"), (bob, "bob")):
        member.expect(cli.welcome_line(nick), after=alice_mark if member is alice else bob_mark, timeout=30)
    received = [
        bob.expect(cli.chat_line("alice", line), after=bob_mark, timeout=20) for line in typed_by_alice
    ]
    assert [line.index for line in received] == sorted(line.index for line in received), "order kept"
    alice.expect(cli.chat_line("bob", "bob 也在等"), after=alice_mark, timeout=20)

    # Nothing twice: a later line from alice arrives after any duplicate of the earlier ones would.
    alice.send("after the restart")
    bob.expect(cli.chat_line("alice", "after the restart"), after=bob_mark)
    for line in typed_by_alice:
        copies = [text for text in bob.lines(after=bob_mark) if cli.chat_line("alice", line).match(text)]
        assert len(copies) == 1, f"{line!r} arrived {len(copies)} times:\n{bob.transcript()}"
    print(
        f"\n[{transport}] host stopped: dropped from both chat lists after {listed_for:.2f} s; "
        f"stop to both members back: {time.monotonic() - stopped_at:.1f} s"
    )
    assert cli.stop(restarted) == 0


def test_an_unplugged_pc_is_seen_leaving_and_rejoins(lan: VirtualLan, transport: str) -> None:
    host = cli.start_host(lan[1], transport, "--heartbeat-timeout", str(HEARTBEAT_TIMEOUT))
    alice = cli.join(lan[2], lan[1].ipv4, "alice", transport)
    bob = cli.join(lan[3], lan[1].ipv4, "bob", transport)
    alice.expect(cli.joined_line("bob"))

    mark = alice.mark()
    unplugged_at = time.monotonic()
    lan[3].unplug()
    left = alice.expect(cli.left_line("bob", "timed out"), after=mark, timeout=HEARTBEAT_TIMEOUT + 10)
    noticed_after = left.time - unplugged_at
    assert noticed_after <= HEARTBEAT_TIMEOUT + LEFT_NOTICE_SLACK, (
        f"bob's leaving was noticed {noticed_after:.2f} s after the cable was pulled "
        f"(heartbeat timeout {HEARTBEAT_TIMEOUT} s)\n{host.transcript()}"
    )
    bob.send("拔掉网线时写的")

    plugged_at = time.monotonic()
    lan[3].plug()
    rejoined = alice.expect(cli.joined_line("bob"), after=left.index, timeout=30)
    alice.expect(cli.chat_line("bob", "拔掉网线时写的"), after=left.index, timeout=10)
    alice.send("欢迎回来")
    bob.expect(cli.chat_line("alice", "欢迎回来"))
    print(
        f"\n[{transport}] leaving noticed {noticed_after:.2f} s after unplugging; "
        f"rejoined {rejoined.time - plugged_at:.2f} s after plugging back in"
    )
    assert cli.stop(host) == 0
