"""Two LanChat hosts serving one room over a real 3-node NATS JetStream cluster (issue 18).

Every member must receive every other member's message exactly once, and all members
in the same order (the stream's), while a NATS node dies, while a LanChat host dies,
and after everything restarts (the history comes back from the stream).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from net.tcp.host import TcpHost
from tests.backbone.cluster import NatsCluster
from tests.backbone.rooms import Member, backbone_host
from tests.helpers import wait_until


@contextlib.contextmanager
def two_hosts(cluster: NatsCluster, members_each: int = 10) -> Iterator[tuple[list[TcpHost], list[Member]]]:
    hosts = [backbone_host(cluster.urls, "host-a"), backbone_host(cluster.urls, "host-b")]
    members: list[Member] = []
    try:
        for index in range(2 * members_each):
            members.append(Member(f"m{index:02d}", hosts[index % 2].port).start())
        wait_until(lambda: all(m.connected for m in members), 10, message="every member joined")
        yield hosts, members
    finally:
        for member in members:
            member.close()
        for host in hosts:
            host.stop()


def chat(members: list[Member], rounds: int, tag: str) -> list[str]:
    """Each member says `rounds` lines; the texts said."""
    said = []
    for round_number in range(rounds):
        for member in members:
            text = f"{tag} {member.nick} {round_number}"
            member.say(text)
            said.append(text)
    return said


def check_everyone_got(members: list[Member], said: list[str], timeout: float = 20.0) -> None:
    """Each member received each other member's line exactly once, and any two members
    received the lines they share in the same order (the stream's)."""
    said_set = set(said)

    def others(member: Member) -> set[str]:
        return {text for text in said if text.split(" ")[1] != member.nick}

    wait_until(lambda: all(others(m) <= set(m.texts()) for m in members), timeout, message="every line everywhere")
    views = {}
    for member in members:
        texts = [text for text in member.texts() if text in said_set]
        assert len(texts) == len(set(texts)), f"{member.nick} got a line twice"
        assert set(texts) == others(member), f"{member.nick} got its own line back"
        views[member.nick] = texts
    first, *rest = views.values()
    for nick, texts in views.items():
        shared = set(first) & set(texts)
        assert [t for t in first if t in shared] == [t for t in texts if t in shared], f"{nick}: another order"


def test_two_hosts_one_conversation(nats_cluster: NatsCluster) -> None:
    with two_hosts(nats_cluster) as (hosts, members):
        wait_until(lambda: all(m.listed() == 20 for m in members), 10, message="one member list everywhere")
        said = chat(members, 5, "hello")
        check_everyone_got(members, said)
