"""Two LanChat hosts serving one room over a real 3-node NATS JetStream cluster (issue 18).

Every member must receive every other member's message exactly once, and all members
in the same order (the stream's), while a NATS node dies, while a LanChat host dies,
and after everything restarts (the history comes back from the stream).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from bench.nats_cluster import NatsCluster
from net.tcp.host import TcpHost
from tests.backbone.rooms import ROOM, Member, backbone_host
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]


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

    everywhere = lambda: all(others(m) <= set(m.texts()) for m in members)  # noqa: E731
    wait_until(everywhere, timeout, message="every line everywhere")
    views = {}
    for member in members:
        texts = [text for text in member.texts() if text in said_set]
        assert len(texts) == len(set(texts)), f"{member.nick} got a line twice"
        assert set(texts) == others(member), f"{member.nick} got its own line back"
        views[member.nick] = texts
    first = next(iter(views.values()))
    for nick, texts in views.items():
        shared = set(first) & set(texts)
        assert [t for t in first if t in shared] == [t for t in texts if t in shared], f"{nick}: order"


def test_two_hosts_one_conversation(nats_cluster: NatsCluster) -> None:
    with two_hosts(nats_cluster) as (_hosts, members):
        wait_until(lambda: all(m.listed() == 20 for m in members), 10, message="one member list everywhere")
        said = chat(members, 5, "hello")
        check_everyone_got(members, said)


def chat_in_background(members: list[Member], rounds: int, tag: str, pause: float = 0.01):
    """Start chatting in a thread (a line per member per round, `pause` between rounds)."""
    said: list[str] = []
    done = threading.Event()

    def run() -> None:
        for round_number in range(rounds):
            for member in members:
                text = f"{tag} {member.nick} {round_number}"
                member.say(text)
                said.append(text)
            time.sleep(pause)  # a steady conversation, not one burst
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return said, done, thread


def test_a_nats_node_dies_mid_chat(nats_cluster: NatsCluster) -> None:
    """SIGKILL one of the three NATS nodes while 20 members chat: nothing lost, nothing doubled."""
    with two_hosts(nats_cluster) as (_hosts, members):
        said, done, thread = chat_in_background(members, 40, "storm", pause=0.05)
        wait_until(lambda: len(said) >= 200, 10, message="chat under way")
        nats_cluster.kill_node(0)
        assert done.wait(30)
        thread.join(5)
        check_everyone_got(members, said, timeout=45)
        wait_until(lambda: all(not m.client.pending for m in members if m.client), 30, message="all acked")


def test_a_lanchat_host_dies_and_its_members_move(nats_cluster: NatsCluster, tmp_path) -> None:
    """SIGKILL the process of one LanChat host mid-chat: its 10 members follow the welcome's
    list to the other host and lose nothing (their unacknowledged lines are resent there and
    the stream keeps each once)."""
    port = _free_port()
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    command = [
        sys.executable,
        "main.py",
        "host",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--name",
        ROOM,
        "--rate-limit",
        "0",
        "--allow-plaintext",
        "--backbone",
        ",".join(nats_cluster.urls),
        "--backbone-name",
        "host-a",
        "--advertise",
        "127.0.0.1",
    ]
    log = open(tmp_path / "host-a.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    host_b = backbone_host(nats_cluster.urls, "host-b")
    members: list[Member] = []
    try:
        wait_until(lambda: _listening(port), 20, message="the host process listening")
        # A welcome lists the other hosts A has heard of: join A's members once it heard of B.
        probes = [Member("probe-b", host_b.port).start(), Member("probe-a", port).start()]
        try:
            wait_until(lambda: probes[1].connected and probes[1].listed() == 2, 20, message="A heard of B")
        finally:
            for probe in probes:
                probe.close()
        members = [Member(f"m{i:02d}", port if i % 2 == 0 else host_b.port).start() for i in range(20)]
        wait_until(lambda: all(m.connected for m in members), 10, message="every member joined")
        wait_until(lambda: all(m.listed() == 20 for m in members), 10, message="one member list")
        movers = members[0::2]
        wait_until(lambda: all(m.welcomes and m.welcomes[-1].hosts for m in movers), 10, message="B listed")
        said, done, thread = chat_in_background(members, 30, "move", pause=0.05)
        wait_until(lambda: len(said) >= 100, 10, message="chat under way")
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert done.wait(30)
        thread.join(5)
        check_everyone_got(members, said, timeout=45)
        assert all(m.client is not None and m.client.config.port == host_b.port for m in movers)
        wait_until(lambda: all(not m.client.pending for m in members if m.client), 30, message="all acked")
    finally:
        for member in members:
            member.close()
        if process.poll() is None:
            process.kill()
            process.wait(10)
        log.close()
        host_b.stop()


def test_everything_restarts_and_the_history_comes_back(nats_cluster: NatsCluster) -> None:
    with two_hosts(nats_cluster, members_each=3) as (_hosts, members):
        said = chat(members, 4, "before")
        check_everyone_got(members, said)
    nats_cluster.stop(remove=False)
    nats_cluster.start()
    hosts = [backbone_host(nats_cluster.urls, "host-a"), backbone_host(nats_cluster.urls, "host-b")]
    late = [Member("late-a", hosts[0].port), Member("late-b", hosts[1].port)]
    try:
        for member in late:
            member.start()
        wait_until(lambda: all(m.connected for m in late), 30, message="joined after the restart")
        for member in late:
            history = [text for text in member.texts() if text in set(said)]
            assert sorted(history) == sorted(said), "the history came back whole"
        assert late[0].texts() == late[1].texts(), "both hosts replay the stream's order"
        after = chat(late, 2, "after")
        check_everyone_got(late, after)
    finally:
        for member in late:
            member.close()
        for host in hosts:
            host.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False
