"""Members of two hosts of one room on a real 3-node NATS cluster: private messages cross
the backbone to the other host (and are acked only once handed over there, and kept out
of the room's stream), and a nickname is unique across the hosts (issue 18)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from bench.nats_cluster import NatsCluster
from net.api import DeliveryFailed, FailureKind, StateChanged
from net.protocol import events as ev
from net.tcp.host import TcpHost
from tests.backbone.rooms import Member, backbone_host
from tests.helpers import wait_until


@contextlib.contextmanager
def hosts_and(cluster: NatsCluster, *placed: tuple[str, int]) -> Iterator[tuple[list[TcpHost], list[Member]]]:
    """Hosts A and B; members (nick, 0 for A or 1 for B), all joined and all listed everywhere."""
    hosts = [backbone_host(cluster.urls, "host-a"), backbone_host(cluster.urls, "host-b")]
    members: list[Member] = []
    try:
        members = [Member(nick, hosts[where].port).start() for nick, where in placed]
        wait_until(lambda: all(m.connected for m in members), 10, message="every member joined")
        wait_until(lambda: all(m.listed() == len(members) for m in members), 10, message="listed everywhere")
        yield hosts, members
    finally:
        for member in members:
            member.close()
        for host in hosts:
            host.stop()


def test_a_private_message_crosses_to_the_other_host_and_stays_out_of_the_stream(
    nats_cluster: NatsCluster,
) -> None:
    with hosts_and(nats_cluster, ("ann", 0), ("carol", 0), ("bob", 1), ("dave", 1)) as (hosts, members):
        ann, carol, bob, dave = members
        local_id = ann.say("for bob only", to="bob")
        wait_until(lambda: "for bob only" in bob.texts(), 10, message="bob got it")
        wait_until(lambda: local_id in ann.delivered, 10, message="ann's message acked")
        assert [m.to for m in bob.messages if m.text == "for bob only"] == ["bob"]
        reply_id = bob.say("and back to ann", to="ann")
        wait_until(lambda: "and back to ann" in ann.texts(), 10, message="ann got the answer")
        wait_until(lambda: reply_id in bob.delivered, 10, message="bob's answer acked")
        ann.say("to everyone")  # after the private ones: once it is everywhere, they would be too
        wait_until(lambda: all("to everyone" in m.texts() for m in (carol, bob, dave)), 10, message="room")
        assert "for bob only" not in carol.texts() + dave.texts()
        assert "and back to ann" not in carol.texts() + dave.texts()
        assert not ann.failures and not bob.failures
        joined = {n.nick: n.time for n in ann.notices if isinstance(n, ev.Joined)}
        assert abs(joined["bob"] - time.time()) < 60, "a remote member's notice has the time of day"
        late = [Member("late-a", hosts[0].port).start(), Member("late-b", hosts[1].port).start()]
        members += late
        wait_until(lambda: all(m.connected for m in late), 10, message="late members joined")
        for member in late:
            history = member.texts()
            assert "to everyone" in history, "the room's history came from the stream"
            assert "for bob only" not in history and "and back to ann" not in history


def test_a_private_message_to_a_member_the_other_host_no_longer_has_is_not_acked(
    nats_cluster: NatsCluster,
) -> None:
    """Host B answers "not here" (bob just left, before its presence said so): ann's message
    fails visibly instead of being acked."""
    with hosts_and(nats_cluster, ("ann", 0), ("bob", 1)) as (hosts, members):
        ann, bob = members
        shared = hosts[1]._loop.shared  # hold B's announcements: A keeps listing bob
        assert shared is not None
        held = threading.Event()
        shared._tick = lambda: held.set()  # type: ignore[method-assign]
        wait_until(held.is_set, 5, message="B's announcements held")
        bob.close()
        wait_until(lambda: len(shared.room) == 0, 10, message="bob gone from host B")
        local_id = ann.say("are you there?", to="bob")
        failed = lambda: any(isinstance(f, DeliveryFailed) for f in ann.failures)  # noqa: E731
        wait_until(failed, 10, message="not delivered")
        assert local_id not in ann.delivered


def test_a_nickname_held_on_another_host_is_refused(nats_cluster: NatsCluster) -> None:
    with hosts_and(nats_cluster, ("ann", 0), ("bob", 1)) as (hosts, _members):
        twins = [Member("ANN", hosts[1].port).start(), Member("Bob", hosts[0].port).start()]
        try:
            for twin in twins:
                wait_until(lambda twin=twin: _refused(twin), 10, message=f"{twin.nick} refused")
            free = Member("cleo", hosts[1].port).start()
            twins.append(free)
            wait_until(lambda: free.connected, 10, message="a free nickname still joins")
            assert free.client is not None
            free.client.rename("Ann")  # held on host A: refused as a join would be
            taken = lambda: any(isinstance(f, ev.Error) and f.code == "nick_taken" for f in free.failures)  # noqa: E731
            wait_until(taken, 10, message="the rename refused")
        finally:
            for twin in twins:
                twin.close()


def test_two_joins_under_one_nickname_at_once_leave_the_earlier(nats_cluster: NatsCluster) -> None:
    """Both hosts may admit "zed" before either hears of the other: then the later join is
    refused (nick_taken) and the earlier stays, on every round of the race."""
    races = 0
    with hosts_and(nats_cluster, ("ann", 0), ("bob", 1)) as (hosts, _members):
        for round_number in range(3):
            nick = f"zed{round_number}"
            pair = [Member(nick, hosts[0].port), Member(nick, hosts[1].port)]
            try:
                threads = [threading.Thread(target=member.start) for member in pair]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(5)
                wait_until(lambda pair=pair: sum(_refused(m) for m in pair) == 1, 15, message="one refused")
                winner, loser = (pair[0], pair[1]) if _refused(pair[1]) else (pair[1], pair[0])
                assert winner.connected
                if winner.welcomes and loser.welcomes:  # both admitted: the race was resolved
                    since = [next(i.since for i in m.welcomes[0].members if i.nick == nick) for m in pair]
                    since = since if winner is pair[0] else since[::-1]
                    assert since[0] <= since[1], "the earlier join stays"
                    races += 1
            finally:
                for member in pair:
                    member.close()
    print(f"\n{races} of 3 rounds were a real race (both hosts admitted the nickname first)")


def _refused(member: Member) -> bool:
    return any(
        isinstance(f, StateChanged) and f.failure is FailureKind.NICK_TAKEN for f in list(member.failures)
    )
