"""Many members at once, and a member that stops reading (issue 2, host-side acceptance)."""

from __future__ import annotations

import time

from net.protocol import events as ev
from net.protocol.limits import MAX_FRAME_BYTES
from net.room import RoomConfig
from net.tcp.tuning import HostTuning
from tests.helpers import wait_until
from tests.tcp.rawclient import RawClient, read_all, wait_all

MEMBERS = 50
MESSAGES_EACH = 100


class MessageLog:
    """Texts received per sender by one client, collected incrementally from its events."""

    def __init__(self, client: RawClient) -> None:
        self.client = client
        self.by_sender: dict[str, list[str]] = {}
        self.count = 0
        self._seen = 0

    def update(self) -> int:
        events = self.client.events
        for event in events[self._seen :]:
            if isinstance(event, ev.ChatMessage):
                self.by_sender.setdefault(event.sender, []).append(event.text)
                self.count += 1
        self._seen = len(events)
        return self.count


def test_fifty_members_each_send_a_hundred_messages(start_host, connect) -> None:
    # Every member connects from 127.0.0.1: no cap per address (the rate limit is off too).
    host = start_host(room=RoomConfig(rate_per_second=0), max_connections_per_address=0)
    clients = [connect(host.port, f"m{i:02d}") for i in range(MEMBERS)]
    wait_until(lambda: host.member_count == MEMBERS, message="everyone joined")
    for client in clients:
        client.light = True  # plain JSON objects from here on: the test thread must keep up
    expected = (MEMBERS - 1) * MESSAGES_EACH

    def delivered(client: RawClient) -> int:
        return sum(1 for obj in client.objects if obj["type"] == "message")

    start = time.monotonic()
    for number in range(MESSAGES_EACH):
        for client in clients:
            client.say(f"{client.nick}:{number}")
        read_all(clients, 0.0)
    wait_all(
        clients,
        lambda: all(delivered(client) >= expected for client in clients[::7]),
        timeout=45,
        what=f"{expected} messages at every member",
    )
    wait_all(clients, lambda: all(delivered(client) >= expected for client in clients), timeout=10)
    elapsed = time.monotonic() - start
    print(f"\n{MEMBERS} x {MESSAGES_EACH}: {MEMBERS * expected} deliveries in {elapsed:.2f} s")

    everyone = {client.nick for client in clients}
    for client in clients:
        by_sender: dict[str, list[str]] = {}
        for obj in client.objects:
            if obj["type"] == "message":
                by_sender.setdefault(obj["from"], []).append(obj["text"])
        assert set(by_sender) == everyone - {client.nick}
        for sender, texts in by_sender.items():
            assert texts == [f"{sender}:{n}" for n in range(MESSAGES_EACH)], f"{client.nick} from {sender}"
        assert sum(1 for obj in client.objects if obj["type"] == "ack") == MESSAGES_EACH


def test_a_member_that_never_reads_does_not_delay_the_others(start_host, connect) -> None:
    tuning = HostTuning(outbound_limit=MAX_FRAME_BYTES, socket_send_buffer=32 * 1024)
    host = start_host(room=RoomConfig(rate_per_second=0), tuning=tuning)
    stuck = connect(host.port, "stuck", rcvbuf=4096)  # joins, then never reads again
    alice, bob = connect(host.port, "alice"), connect(host.port, "bob")
    alice.wait_for(lambda e: isinstance(e, ev.Joined) and e.nick == "bob")
    logs = {alice: MessageLog(alice), bob: MessageLog(bob)}
    padding = "x" * 300
    worst = 0.0
    sent = 0
    dropped_at = None
    sent_at_drop = 0

    def note_latencies() -> None:
        nonlocal worst
        for client, log in logs.items():
            before = log.count
            log.update()
            now = time.monotonic()
            for event in [e for e in client.events if isinstance(e, ev.ChatMessage)][before:]:
                worst = max(worst, now - float(event.text.split()[0]))

    start = time.monotonic()
    while time.monotonic() - start < 40:
        for sender in (alice, bob):
            for _ in range(10):
                sender.say(f"{time.monotonic():.6f} {sent} {padding}")
                sent += 1
        read_all([alice, bob], 0.0)
        note_latencies()
        if dropped_at is None and any(isinstance(e, ev.Left) and e.nick == "stuck" for e in alice.events):
            dropped_at = time.monotonic()
            sent_at_drop = sent
        if dropped_at is not None and time.monotonic() - dropped_at > 1.0:
            break  # go on a little after the drop: the others must not notice it
    wait_all([alice, bob], lambda: logs[alice].update() + logs[bob].update() >= sent, timeout=10)
    note_latencies()

    assert dropped_at is not None, f"the stuck member was not dropped after {sent} messages"
    left = next(e for e in alice.events if isinstance(e, ev.Left) and e.nick == "stuck")
    assert "slow" in left.reason
    assert worst < 1.0, f"a message took {worst:.2f} s to arrive"
    print(
        f"\nstuck member dropped after {sent_at_drop} messages ({dropped_at - start:.2f} s);"
        f" {sent} sent in all, worst latency {worst * 1000:.0f} ms"
    )
    assert logs[alice].count + logs[bob].count == sent  # every message reached the other one
    stuck.wait_closed(timeout=10)
    assert host.member_count == 2
