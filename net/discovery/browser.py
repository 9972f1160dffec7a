"""The joining side of discovery: probe, listen, and keep the list of chats, in one thread.

Methods for callers: `start`, `stop`, `snapshot` (the current list, thread-safe),
`refresh` (probe everywhere now) and `set_extra_targets` (Settings changed). Changes are
also reported through `on_event` as `ChatFound` / `ChatUpdated` / `ChatLost`; it is
called from the browser's thread, so it must be quick and thread-safe (the GUI puts the
event on its queue).

Two sources feed the list. Announcements arrive on the shared announcement port (every
browser on a PC binds it with SO_REUSEADDR). Probes go from an ephemeral socket to the
chat port range of every destination `plan_destinations` chooses, and hosts answer there
by unicast. Probes are repeated: to unicast destinations (extra addresses; loopback under
``LANCHAT_LOOPBACK_ONLY``) every `probe_interval`, because nothing else keeps those chats
alive, and to broadcast destinations every `broadcast_probe_interval` (announcements do
most of that work). Probes to broadcast destinations allow answerers some jitter.

An answer is taken only when it is one the browser asked for (`solicited`): it names a
recent probe, comes from an address that probe went to, and from the chat port it names.
Announcements and goodbyes come unasked; the list of chats (`chatlist`) keeps them from
moving or removing a room heard elsewhere.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable, Sequence

from net.addresses import SockAddr
from net.discovery.chatlist import ChatEvent, ChatList, FoundChat
from net.discovery.destinations import (
    Destination,
    ProbeTarget,
    ipv6_multicast_scopes,
    loopback_only,
    plan_destinations,
    send_datagram,
)
from net.discovery.interfaces import NetworkInterface, list_interfaces
from net.discovery.sockets import (
    close_all,
    join_ipv6_group,
    open_listeners,
    open_senders,
    read_datagrams,
    sender_address,
    socket_for,
)
from net.discovery.solicited import SentProbes, probe_round
from net.discovery.wire import (
    DEFAULT_ANNOUNCE_INTERVAL,
    DISCOVERY_PORT,
    PROBE_PORTS,
    Announcement,
    DiscoveryDecodeError,
    Goodbye,
    Probe,
    decode_datagram,
    encode_probe,
    new_probe_id,
)

log = logging.getLogger(__name__)

EventSink = Callable[[ChatEvent], object]
#: Jitter answerers may add to answers to a broadcast or multicast probe.
BROADCAST_ANSWER_JITTER = 0.25
DEFAULT_BROADCAST_PROBE_INTERVAL = 30.0
#: Probes sent per loop turn; the thread reads answers in between, so big sweeps stay smooth.
SEND_BATCH = 128
JOIN_TIMEOUT = 2.0


class Browser:
    """Finds chats on the LAN until stopped. See the module docstring."""

    def __init__(
        self,
        on_event: EventSink | None = None,
        *,
        extra_targets: Sequence[ProbeTarget] = (),
        probe_ports: Sequence[int] = PROBE_PORTS,
        listen_port: int = DISCOVERY_PORT,
        listen: bool = True,
        probe_interval: float = DEFAULT_ANNOUNCE_INTERVAL,
        broadcast_probe_interval: float = DEFAULT_BROADCAST_PROBE_INTERVAL,
        interfaces_provider: Callable[[], Sequence[NetworkInterface]] = list_interfaces,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_event = on_event
        self._extra = tuple(extra_targets)
        self._probe_ports = tuple(probe_ports)
        self._listen_port = listen_port
        self._listen = listen
        self.probe_interval = probe_interval
        self.broadcast_probe_interval = broadcast_probe_interval
        self._interfaces_provider = interfaces_provider
        self._clock = clock
        self._chats = ChatList()
        self._sent = SentProbes()
        self._snapshot: tuple[FoundChat, ...] = ()
        self._lock = threading.Lock()
        self._refresh_requested = False
        self._stop = threading.Event()
        self._senders: list[socket.socket] = []
        self._listeners: list[socket.socket] = []
        self._joined: set[tuple[int, int]] = set()
        self._outgoing: list[tuple[Destination, bytes]] = []
        self._outgoing_next = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread: threading.Thread | None = None
        self.probes_sent = 0

    # --- for callers ---------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("a Browser can be started once")
        self._senders = open_senders()
        if not self._senders:
            raise OSError("cannot open a UDP socket for discovery")
        if self._listen:
            self._listeners = open_listeners(self._listen_port)
        self._thread = threading.Thread(target=self._run, name="discovery-browser", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close every socket and join the thread within 2 s."""
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT)
            if self._thread.is_alive():
                log.warning("discovery browser did not stop within %.0f s", JOIN_TIMEOUT)
        else:
            self._close()

    def snapshot(self) -> list[FoundChat]:
        """The chats found so far, sorted by room name. Thread-safe."""
        with self._lock:
            return list(self._snapshot)

    def refresh(self) -> None:
        """Probe every destination now (the user pressed Refresh). Thread-safe."""
        with self._lock:
            self._refresh_requested = True
        self._wake()

    def set_extra_targets(self, targets: Sequence[ProbeTarget]) -> None:
        """Replace the extra addresses/subnets to probe, and probe them now. Thread-safe."""
        with self._lock:
            self._extra = tuple(targets)
            self._refresh_requested = True
        self._wake()

    # --- the thread ----------------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._wake_r, selectors.EVENT_READ)
            for sock in (*self._senders, *self._listeners):
                selector.register(sock, selectors.EVENT_READ)
            self._serve(selector)
        except Exception:
            log.exception("discovery browser failed")
        finally:
            selector.close()
            self._close()

    def _serve(self, selector: selectors.BaseSelector) -> None:
        now = self._clock()
        next_full = now
        next_unicast = now + self.probe_interval
        while not self._stop.is_set():
            now = self._clock()
            with self._lock:
                refresh, self._refresh_requested = self._refresh_requested, False
            if refresh or now >= next_full:
                self._start_round(broadcast=True)
                next_full = now + self.broadcast_probe_interval
                next_unicast = now + self.probe_interval
            elif now >= next_unicast:
                self._start_round(broadcast=False)
                next_unicast = now + self.probe_interval
            busy = self._send_some()
            self._publish(self._chats.expire(self._clock()))
            deadlines = [next_full, next_unicast]
            expiry = self._chats.next_expiry()
            if expiry is not None:
                deadlines.append(expiry)
            timeout = 0.0 if busy else max(0.0, min(deadlines) - self._clock())
            for key, _ in selector.select(timeout):
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                for data, sender in read_datagrams(sock):
                    self._receive(data, sender)

    def _start_round(self, *, broadcast: bool) -> None:
        with self._lock:
            extra = self._extra
        interfaces = None if loopback_only() else list(self._interfaces_provider())
        if interfaces is not None:
            self._join_groups(interfaces)
        destinations = plan_destinations(
            self._probe_ports, interfaces=interfaces, extra=extra, broadcast=broadcast
        )
        probe_id = new_probe_id()
        self._sent.add(probe_round(probe_id, destinations, interfaces, self._clock()))
        direct = encode_probe(Probe(probe_id))
        jittered = encode_probe(Probe(probe_id, BROADCAST_ANSWER_JITTER))
        # A new round replaces what is left of the previous one (a sweep still being sent).
        self._outgoing = [(d, direct if d.kind == "unicast" else jittered) for d in destinations]
        self._outgoing_next = 0

    def _send_some(self) -> bool:
        """Send the next batch of the current round; True while more is left."""
        batch = self._outgoing[self._outgoing_next : self._outgoing_next + SEND_BATCH]
        self._outgoing_next += len(batch)
        for destination, data in batch:
            sock = socket_for(self._senders, destination.family)
            if sock is not None and send_datagram(sock, data, destination.sockaddr):
                self.probes_sent += 1
        return self._outgoing_next < len(self._outgoing)

    def _join_groups(self, interfaces: Sequence[NetworkInterface]) -> None:
        for sock in self._listeners:
            for scope in ipv6_multicast_scopes(interfaces):
                if (sock.fileno(), scope) not in self._joined and join_ipv6_group(sock, scope):
                    self._joined.add((sock.fileno(), scope))

    def _receive(self, data: bytes, sender: SockAddr) -> None:
        try:
            message = decode_datagram(data)
        except DiscoveryDecodeError as exc:
            log.debug("ignored a datagram from %s: %s", sender[:2], exc)
            return
        now = self._clock()
        if isinstance(message, Announcement):
            if message.answer_to is not None:
                refusal = self._sent.refusal(message.answer_to, sender, message.info.port, now)
                if refusal is not None:
                    log.debug("ignored an answer from %s not asked for: %s", sender[:2], refusal)
                    return
            self._publish(self._chats.observe(message.info, sender_address(sender), now))
        elif isinstance(message, Goodbye):
            self._publish(self._chats.goodbye(message, sender_address(sender)))
        else:
            log.debug("ignored a %s from %s at the browser", type(message).__name__, sender[:2])

    def _publish(self, events: list[ChatEvent]) -> None:
        if not events:
            return
        with self._lock:
            self._snapshot = tuple(self._chats.snapshot())
        if self._on_event is not None:
            for event in events:
                self._on_event(event)

    def _close(self) -> None:
        close_all([*self._senders, *self._listeners, self._wake_r, self._wake_w])


def discover(
    timeout: float = 2.0,
    extra_targets: Sequence[ProbeTarget] = (),
    *,
    probe_ports: Sequence[int] = PROBE_PORTS,
    listen_port: int = DISCOVERY_PORT,
) -> list[FoundChat]:
    """Browse for `timeout` seconds and return the chats found (blocking; for the command line).

    Probes twice (at the start and half-way), so one lost datagram does not hide a chat.
    """
    browser = Browser(
        extra_targets=extra_targets,
        probe_ports=probe_ports,
        listen_port=listen_port,
        probe_interval=max(0.2, timeout / 2),
        broadcast_probe_interval=max(0.2, timeout / 2),
    )
    browser.start()
    try:
        threading.Event().wait(timeout)
        return browser.snapshot()
    finally:
        browser.stop()
