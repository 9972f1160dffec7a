"""The host side of discovery: answer probes and announce the chat, in one thread.

Methods for callers: `start`, `stop`, `notify_changed` (announce soon), and `answer_now`
(a UDP host's discovery handler). The room details come from `info_provider`, called in
the announcer's thread whenever a datagram is built, so the member count is always current;
it is also polled every `change_poll` seconds and a change is announced at once, so hosts
need not call `notify_changed` themselves.

Two ways to run, depending on who owns the UDP port with the chat's port number:

- TCP host (default): the announcer binds its own responder sockets on the chat port number
  (IPv4 and IPv6, joined to the IPv6 discovery group) and answers probes there, each after
  the random delay the probe allows.
- UDP host (``respond=False``): the chat socket already owns that port, so the UDP host
  hands every datagram that is not chat traffic to `answer_now` and sends back what it
  returns, from the chat port as browsers expect. (Those answers are not delayed: the
  UDP host's handler answers synchronously.)

Announcements go out when the host starts, every `interval`, soon after a change, and as
a goodbye when it stops, to the destinations `plan_destinations` chooses (loopback only
under ``LANCHAT_LOOPBACK_ONLY``) and, for the goodbye, to recent probers too.
"""

from __future__ import annotations

import contextlib
import logging
import random
import selectors
import socket
import threading
import time
from collections.abc import Callable, Sequence

from net.addresses import SockAddr
from net.discovery.answering import ProbeAnswerer
from net.discovery.destinations import (
    destination_allowed,
    ipv6_multicast_scopes,
    loopback_only,
    plan_destinations,
    send_datagram,
    unmapped,
)
from net.discovery.interfaces import NetworkInterface, list_interfaces
from net.discovery.sockets import (
    close_all,
    join_ipv6_group,
    open_responders,
    open_senders,
    read_datagrams,
    socket_for,
)
from net.discovery.wire import (
    DEFAULT_ANNOUNCE_INTERVAL,
    DISCOVERY_PORT,
    MAX_DATAGRAM_BYTES,
    Announcement,
    Goodbye,
    RoomInfo,
    encode_datagram,
    is_discovery_datagram,
    with_schedule,
)

log = logging.getLogger(__name__)

#: Remembered "answer through this socket" routes before old ones are dropped.
MAX_REPLY_ROUTES = 128
#: Shortest spacing of announcements caused by `notify_changed` (a join storm sends one).
MIN_CHANGE_SPACING = 0.5
JOIN_TIMEOUT = 2.0


def default_ttl(interval: float) -> float:
    """A chat is dropped after three missed announcements plus a second of slack."""
    return 3 * interval + 1.0


class Announcer:
    """Answers probes and announces one host's chat until stopped. See the module docstring."""

    def __init__(
        self,
        info_provider: Callable[[], RoomInfo],
        *,
        bind: str = "",
        interval: float = DEFAULT_ANNOUNCE_INTERVAL,
        ttl: float | None = None,
        announce_port: int = DISCOVERY_PORT,
        respond: bool = True,
        change_poll: float | None = 1.0,
        interfaces_provider: Callable[[], Sequence[NetworkInterface]] = list_interfaces,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._info_provider = info_provider
        self._bind = bind
        self.interval = interval
        self.ttl = ttl if ttl is not None else default_ttl(interval)
        self._announce_port = announce_port
        self._respond = respond
        self._change_poll = change_poll
        self._last_announced: RoomInfo | None = None
        self._interfaces_provider = interfaces_provider
        self._clock = clock
        self._answerer = ProbeAnswerer(clock(), remember_for=self.ttl, rng=rng)
        self._responders: list[socket.socket] = []
        self._senders: list[socket.socket] = []
        self._joined: set[tuple[int, int]] = set()  # (socket fileno, interface index)
        self._lock = threading.Lock()
        self._changed = False
        self._stop = threading.Event()
        self._goodbye = True
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread: threading.Thread | None = None
        self._reply_via: dict[SockAddr, socket.socket] = {}

    # --- for callers ---------------------------------------------------------------------

    @property
    def responding(self) -> bool:
        """True when probes to the chat port are answered (own responder, or the UDP host's)."""
        return bool(self._responders) or not self._respond

    def start(self, *, require_responder: bool = False) -> None:
        """Open the sockets and start the thread.

        A responder port already taken is logged, not raised (the chat still works and is still
        announced), unless `require_responder`: then OSError is raised before anything is sent,
        so a host that is free to choose its port can move to the next one.
        """
        if self._thread is not None:
            raise RuntimeError("an Announcer can be started once")
        port = self._info_provider().port
        if self._respond:
            try:
                self._responders = open_responders(port, self._bind)
            except OSError as exc:
                if require_responder:
                    self._close()
                    raise
                log.warning(
                    "discovery cannot answer probes on UDP port %d (%s); the chat is only announced",
                    port,
                    exc,
                )
        self._senders = open_senders()
        self._thread = threading.Thread(target=self._run, name=f"discovery-announcer-{port}", daemon=True)
        self._thread.start()

    def stop(self, *, goodbye: bool = True) -> None:
        """Send the goodbye (unless `goodbye` is False), close every socket, join within 2 s."""
        self._goodbye = goodbye
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT)
            if self._thread.is_alive():
                log.warning("discovery announcer did not stop within %.0f s", JOIN_TIMEOUT)
        else:
            self._close()

    def notify_changed(self) -> None:
        """The room changed (members, name, password): announce soon. Thread-safe, never blocks."""
        with self._lock:
            self._changed = True
        self._wake()

    def answer_now(self, data: bytes, sender: SockAddr) -> bytes | None:
        """The answer to a probe that reached a UDP host's chat socket, or None. Thread-safe.

        The UDP host calls this for datagrams that are not chat traffic and sends the result
        back to `sender`; garbage, repeats and probes beyond the answer rate get None.
        """
        if self._stop.is_set() or self._thread is None:
            return None  # not announcing (yet, or any more): stay silent, or lists would disagree
        if not is_discovery_datagram(data) or len(data) > MAX_DATAGRAM_BYTES:
            log.debug("ignored a foreign datagram from %s", sender[:2])
            return None
        if not destination_allowed(sender):
            log.warning("refused to answer a probe from %s: loopback-only discovery", sender[0])
            return None
        with self._lock:
            probe = self._answerer.receive(data, sender, self._clock())
        if probe is None:
            return None
        return encode_datagram(Announcement(self._current_info(), answer_to=probe.probe_id))

    # --- the thread ----------------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._wake_r, selectors.EVENT_READ)
            for sock in self._responders:
                selector.register(sock, selectors.EVENT_READ)
            self._serve(selector)
        except Exception:
            log.exception("discovery announcer failed")
        finally:
            selector.close()
            self._close()

    def _serve(self, selector: selectors.BaseSelector) -> None:
        now = self._clock()
        self._announce()
        next_announce = now + self.interval
        last_announce = now
        next_poll = now + (self._change_poll or self.interval)
        while not self._stop.is_set():
            with self._lock:
                deadlines = [next_announce, self._answerer.next_due() or next_announce]
            if self._change_poll:
                deadlines.append(next_poll)
            with self._lock:
                changed = self._changed
            if changed:
                deadlines.append(last_announce + MIN_CHANGE_SPACING)
            for key, _ in selector.select(max(0.0, min(deadlines) - self._clock())):
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                for data, sender in read_datagrams(sock):
                    self._receive(data, sender, sock)
            if self._stop.is_set():
                break
            now = self._clock()
            self._send_answers(now)
            if self._change_poll and now >= next_poll:
                next_poll = now + self._change_poll
                if self._current_info() != self._last_announced:
                    self.notify_changed()
            with self._lock:
                changed = self._changed
            if now >= next_announce or (changed and now >= last_announce + MIN_CHANGE_SPACING):
                self._announce()
                last_announce = now
                next_announce = now + self.interval
        if self._goodbye:
            self._send_goodbye()

    def _receive(self, data: bytes, sender: SockAddr, via: socket.socket) -> None:
        now = self._clock()
        with self._lock:
            probe = self._answerer.receive(data, sender, now)
            if probe is not None:
                self._answerer.schedule(probe, sender, now)
        if probe is not None:
            self._reply_via[sender] = via
            if len(self._reply_via) > MAX_REPLY_ROUTES:
                with self._lock:
                    keep = set(self._answerer.recent_probers(now))
                self._reply_via = {k: v for k, v in self._reply_via.items() if k in keep}

    def _current_info(self) -> RoomInfo:
        return with_schedule(self._info_provider(), self.interval, self.ttl)

    def _send_answers(self, now: float) -> None:
        with self._lock:
            due = self._answerer.due(now)
        if not due:
            return
        info = self._current_info()
        for sender, probe_id in due:
            via = self._reply_via.get(sender)
            if via is not None:
                send_datagram(via, encode_datagram(Announcement(info, answer_to=probe_id)), sender)

    def _socket_for(self, family: socket.AddressFamily) -> socket.socket | None:
        return socket_for(self._responders, family) or socket_for(self._senders, family)

    def _interfaces(self) -> list[NetworkInterface]:
        """This PC's interfaces now; joins the IPv6 group on any new one (Wi-Fi came up)."""
        interfaces = list(self._interfaces_provider())
        for sock in self._responders:
            for scope in ipv6_multicast_scopes(interfaces):
                if (sock.fileno(), scope) not in self._joined and join_ipv6_group(sock, scope):
                    self._joined.add((sock.fileno(), scope))
        return interfaces

    def _broadcast(self, data: bytes) -> None:
        interfaces = None if loopback_only() else self._interfaces()
        for destination in plan_destinations((self._announce_port,), interfaces=interfaces):
            sock = self._socket_for(destination.family)
            if sock is not None:
                send_datagram(sock, data, destination.sockaddr)

    def _announce(self) -> None:
        with self._lock:
            self._changed = False
        self._last_announced = self._current_info()
        self._broadcast(encode_datagram(Announcement(self._last_announced)))

    def _send_goodbye(self) -> None:
        info = self._info_provider()
        data = encode_datagram(Goodbye(info.host_id, info.transport, info.port, info.key))
        self._broadcast(data)
        with self._lock:
            probers = self._answerer.recent_probers(self._clock())
        for prober in probers:
            # A browser drops a goodbye that does not come from where it heard the chat: send
            # it back the way the answers went, or from this PC's own socket of its family (an
            # IPv4 prober as a UDP host's dual-stack socket saw it is an IPv4 address).
            via = self._reply_via.get(prober)
            if via is None:
                prober = unmapped(prober)
                via = self._socket_for(socket.AF_INET6 if len(prober) == 4 else socket.AF_INET)
            if via is not None:
                send_datagram(via, data, prober)

    def _close(self) -> None:
        close_all([*self._responders, *self._senders, self._wake_r, self._wake_w])
