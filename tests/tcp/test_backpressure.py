"""Overload becomes TCP back-pressure: when the router is behind, nobody reads the sockets.

The router is stalled on purpose (inside `Room.handle_says`) while one member sends as fast as
it can: the host must stop taking its bytes instead of buffering without bound, and
nobody may be dropped (not even by the heartbeat) because the host itself was behind.
"""

from __future__ import annotations

import threading
import time

from net.protocol import events as ev
from net.protocol.codec import encode_event
from net.room import Room, RoomConfig
from tests.tcp.rawclient import wait_all

HEARTBEAT_TIMEOUT = 1.0
STALL_SECONDS = 2.5 * HEARTBEAT_TIMEOUT


def test_a_stalled_router_pushes_back_on_the_sender_and_drops_no_one(
    start_host, connect, monkeypatch
) -> None:
    template = encode_event(ev.Say(id="s-ID-", text="-ID- " + "x" * 200))
    frames = b"".join(template.replace(b"-ID-", b"%d" % i) for i in range(200_000))
    host = start_host(room=RoomConfig(rate_per_second=0), heartbeat_timeout=HEARTBEAT_TIMEOUT)
    alice, bob = connect(host.port, "alice"), connect(host.port, "bob")
    bob.ping_every = HEARTBEAT_TIMEOUT / 4  # alice is heard anyway: she never stops sending
    alice.wait_for(lambda e: isinstance(e, ev.Joined))

    release = threading.Event()
    original, original_run = Room.handle, Room.handle_says

    def stalling_handle(room, peer, event):
        if isinstance(event, ev.Say) and not release.is_set():
            release.wait(10)
        return original(room, peer, event)

    def stalling_run(room, peer, says):
        if not release.is_set():
            release.wait(10)
        return original_run(room, peer, says)

    monkeypatch.setattr(Room, "handle", stalling_handle)
    monkeypatch.setattr(Room, "handle_says", stalling_run)  # how the router hands over messages
    accepted = 0

    def send_until(stop_at: int, deadline: float) -> None:
        """Send without blocking while bob keeps reading and pinging."""
        nonlocal accepted
        while time.monotonic() < deadline and accepted < stop_at:
            try:
                accepted += alice.sock.send(frames[accepted : min(stop_at, accepted + 65536)])
            except BlockingIOError:
                time.sleep(0.01)
            alice.read(0.0)
            bob.read(0.0)

    try:
        alice.sock.setblocking(False)
        send_until(len(frames), time.monotonic() + STALL_SECONDS)
    finally:
        release.set()
    print(f"\nthe host took {accepted / 1e6:.1f} MB while stalled")
    assert accepted < len(frames) // 2, "the host kept reading while its router was stalled"

    send_until(frames.index(b"\n", accepted) + 1, time.monotonic() + 30)  # finish the frame cut in two
    sent_messages = frames.count(b"\n", 0, accepted)
    total = sent_messages
    wait_all([alice, bob], lambda: len(bob.messages()) >= total, timeout=60, what="every message at bob")
    assert [m.text.split()[0] for m in bob.messages()] == [str(i) for i in range(total)]
    assert not alice.closed and not bob.closed
    assert host.member_count == 2
    assert not any(isinstance(e, ev.Left) for e in alice.events + bob.events)
