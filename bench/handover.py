"""Workload: the handover time, from the last message before to the first message after.

Issue 18's figure. Each handover is a room of its own, in this process, over real sockets on
127.0.0.1 and TLS as everybody runs it: a host, a member that can take the room over (its
offer starts a real host of the same transport, as the window's does), a member that talks
without pause (a message every `TALK_INTERVAL`) and one that only listens. When the room is
busy the host stops on request (Ctrl+Q, a window closed): it names the successor in a
signed `handover`, the successor starts hosting and everybody follows.

The time measured is what the listener lives through: from the last room message it got
from the old host to the first one it gets from the new host (the talker's messages typed
meanwhile wait in its outbox and go out to the new host). The clients use the backoff and
heartbeat the window uses. p50/p99/max over `count` handovers per transport.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.fanout import percentile
from net.api import (
    ChatClient,
    ChatHost,
    ClientConfig,
    ClientState,
    EventSink,
    HostConfig,
    HostOffer,
    RoomMoved,
    Takeover,
)
from net.protocol import events as ev
from net.room import RoomConfig
from net.secure.identity import Identity, load_or_create_identity
from net.transports import make_client, make_host

#: The talker's pace: 100 messages a second, a busy room's.
TALK_INTERVAL = 0.01
#: Chat before the host stops, and the longest wait for the room to come back.
CHAT_BEFORE = 0.3
TIMEOUT = 15.0


def _free_port(transport: str) -> int:
    kind = socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(condition: Callable[[], object], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the handover did not complete in time")
        time.sleep(0.005)


class _Listener:
    """A member's events with the moment each arrived."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[float, object]] = []

    def __call__(self, event: object) -> None:
        now = time.perf_counter()
        with self.lock:
            self.events.append((now, event))

    def gap(self) -> float | None:
        """From the last room message before the move to the first after it (None: not yet)."""
        with self.lock:
            events = list(self.events)
        moved = next((i for i, (_, e) in enumerate(events) if isinstance(e, RoomMoved)), None)
        if moved is None:
            return None
        before = [t for t, e in events[:moved] if isinstance(e, ev.ChatMessage)]
        after = [t for t, e in events[moved:] if isinstance(e, ev.ChatMessage)]
        if not before or not after:
            return None
        return after[0] - before[-1]


class _Round:
    """One room that moves once."""

    def __init__(self, transport: str, old: Identity, successor: Identity) -> None:
        self.transport = transport
        self.successor = successor
        self.port = _free_port(transport)
        self.hosts: list[ChatHost] = []
        self.clients: list[ChatClient] = []
        room = RoomConfig(name="bench", rate_per_second=0)
        self.old = make_host(transport, HostConfig(port=0, bind="127.0.0.1", room=room, identity=old))

    def _take_over(self, takeover: Takeover) -> None:
        room = RoomConfig(name=takeover.room, rate_per_second=0)
        config = HostConfig(
            port=self.port,
            bind="127.0.0.1",
            room=room,
            identity=self.successor,
            epoch=takeover.epoch,
            seed_history=takeover.history,
        )
        host = make_host(self.transport, config)
        self.hosts.append(host)
        host.start()

    def _client(self, nick: str, sink: EventSink, offer: HostOffer | None = None) -> ChatClient:
        port = self.old.port
        config = ClientConfig(host="127.0.0.1", port=port, nick=nick, follow_handover=True, host_offer=offer)
        client = make_client(self.transport, config, sink)
        self.clients.append(client)
        client.start()
        _wait(lambda: client.state is ClientState.CONNECTED)
        return client

    def run(self) -> float:
        self.hosts.append(self.old)
        self.old.start()
        offer = HostOffer(self.port, self.successor.fingerprint, self._take_over)
        self._client("bob", lambda _event: None, offer)
        talker = self._client("talker", lambda _event: None)
        listener = _Listener()
        listening = self._client("listener", listener)
        # The signed list reaches every member just after its welcome.
        _wait(lambda: all(c._follower.successors for c in self.clients))  # type: ignore[attr-defined]
        talking = threading.Event()

        def talk() -> None:
            number = 0
            while not talking.wait(TALK_INTERVAL):
                number += 1
                talker.send_message(f"message {number}")

        thread = threading.Thread(target=talk, name="bench-talker", daemon=True)
        thread.start()
        try:
            time.sleep(CHAT_BEFORE)
            self.old.stop("the host closed the chat")
            _wait(lambda: listener.gap() is not None and listening.state is ClientState.CONNECTED)
        finally:
            talking.set()
            thread.join(2.0)
        gap = listener.gap()
        assert gap is not None
        return gap

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for host in self.hosts:
            host.stop()


def run_handover(transport: str, count: int) -> dict:
    """`count` graceful handovers over `transport`: p50/p99/max of the listener's gap."""
    with tempfile.TemporaryDirectory(prefix="lanchat-bench-handover-") as folder:
        old = load_or_create_identity(Path(folder) / "old")
        successor = load_or_create_identity(Path(folder) / "successor")
        gaps: list[float] = []
        for _ in range(count):
            round_ = _Round(transport, old, successor)
            try:
                gaps.append(round_.run())
            finally:
                round_.close()

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    return {
        "workload": "handover",
        "transport": transport,
        "handovers": len(gaps),
        "p50_ms": ms(percentile(gaps, 0.50)),
        "p99_ms": ms(percentile(gaps, 0.99)),
        "max_ms": ms(max(gaps) if gaps else None),
        "min_ms": ms(min(gaps) if gaps else None),
    }
