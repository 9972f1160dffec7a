"""What the TCP and UDP clients share: one I/O thread around a `ClientSession`.

Methods for callers (any thread): the `net.api.ChatClient` interface. They only change
the session under a lock and poke a wake-up socketpair, so they never wait on the network:
a host that stops reading cannot freeze the window.

Hooks for subclasses (run on the I/O thread): `_connect()` opens one link to the host or
raises `ConnectFailed`; `_serve(link)` runs that link until it ends, closes it, and
returns why it ended. The reconnect loop, the backoff waits that `close()` cuts short and
the delivery of events to the owner live here once.

Following the room (`ClientConfig.follow_room`): when a reconnect fails, the wait before the
next attempt is spent looking on the LAN for the room by the key its host proved
(`net.discovery.lookup.find_room`). Found elsewhere (another transport, address or port),
the client goes there at once and says so (`RoomMoved`). Its links then run on the I/O of
that transport: `_io` is this client, or one of the other transport's class built
`sharing` this one's session, lock, wake-up and stop flag, whose thread never starts. So the
outbox, the resume secret and the pinned key carry over, and the new host must prove the
same key before anything is sent.
"""

from __future__ import annotations

import dataclasses
import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from net.addresses import AddrInfo, format_address, parse_address
from net.api import (
    ClientConfig,
    ClientState,
    EventSink,
    FailureKind,
    HostStartError,
    RoomMoved,
    StateChanged,
    Transport,
)
from net.client.follow import Follower, Place
from net.client.session import ClientSession
from net.protocol import events as ev
from net.socket_errors import ConnectFailed, describe_connect_error
from net.wakeup import Wakeup

log = logging.getLogger(__name__)

Link = TypeVar("Link")

#: Shortest and longest look for a room that moved (the backoff wait, within these bounds).
LOOK_SECONDS = (1.0, 3.0)


class ThreadedClient:
    """Base of the transport clients (see the module docstring for callers vs hooks)."""

    #: Names the I/O thread, e.g. "tcp-client 10.0.0.5:47800".
    thread_label = "client"
    #: The transport whose I/O the subclass does.
    transport: ClassVar[Transport]

    def __init__(
        self, config: ClientConfig, on_event: EventSink, *, sharing: ThreadedClient | None = None
    ) -> None:
        """`sharing`: build only the I/O of this transport for that client's session (see
        the module docstring); such an instance is never started."""
        self.config = config
        self._on_event = on_event
        if sharing is None:
            self._session = ClientSession(config)
            self._lock = threading.Lock()
            self._wakeup = Wakeup()
            self._stopping = threading.Event()
            self._follower = Follower(config) if config.follow_handover else None
        else:
            self._session, self._lock = sharing._session, sharing._lock
            self._wakeup, self._stopping = sharing._wakeup, sharing._stopping
            self._follower = sharing._follower
        self._thread: threading.Thread | None = None
        self._where = format_address(config.host, config.port)
        self._io: ThreadedClient = self  # whose `_connect` and `_serve` run the links
        #: Told with the first welcome from a successor: who hosts the room now.
        self._new_host: RoomMoved | None = None
        #: The room's other hosts on a backbone, as the last welcome listed them (`_other_host`).
        self._other_hosts: tuple[str, ...] = ()
        self._host_turn = 0

    # -- for callers (any thread) -----------------------------------------------------------

    @property
    def state(self) -> ClientState:
        return self._session.state

    @property
    def nick(self) -> str:
        return self._session.nick

    @property
    def client_id(self) -> str:
        return self._session.client_id

    @property
    def resume_secret(self) -> str:
        """What proves this client's session to the host on a reconnect (keep it private)."""
        return self._session.resume_secret

    @property
    def address(self) -> str:
        return self._where

    @property
    def pending(self) -> list[str]:
        """Local ids of messages not yet acknowledged by the host."""
        with self._lock:
            return self._session.pending

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("a client starts once")
        name = f"{self.thread_label} {self._where}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def send_message(self, text: str, *, to: str | None = None, action: bool = False) -> str:
        with self._lock:
            local_id = self._session.send_message(text, to=to, action=action, now=time.monotonic())
            if self._follower is not None:
                self._follower.sent(local_id, text, to, action)
        self._wake()
        return local_id

    def rename(self, nick: str) -> None:
        with self._lock:
            self._session.rename(nick)
        self._wake()

    def set_typing(self, active: bool, to: str | None = None) -> None:
        with self._lock:
            self._session.set_typing(active, to)
        self._wake()

    def request_members(self) -> None:
        with self._lock:
            self._session.request_members()
        self._wake()

    def send_file_step(self, step: ev.FileControl) -> bool:
        """A file transfer's step to the host (`net.files.transfers`); False when offline."""
        with self._lock:
            sent = self._session.send_file_step(step)
        self._wake()
        return sent

    def close(self, reason: str = "") -> None:
        """Say bye, stop, and join the I/O thread (within 2 s)."""
        with self._lock:
            self._session.close(reason)
        self._stopping.set()
        self._wake()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)
            if thread.is_alive():
                log.warning("client thread for %s did not stop in time", self._where)
        if thread is None or not thread.is_alive():
            self._wakeup.close()

    def _wake(self) -> None:
        self._wakeup.wake()

    # -- hooks for subclasses -------------------------------------------------------------

    def _try_addresses(self, sock_type: int, open_link: Callable[[AddrInfo, float], Link]) -> Link:
        """A link to the first of the host's addresses that `open_link(addrinfo, deadline)`
        opens; raises ConnectFailed worded for the last failure (or the lookup's)."""
        try:
            infos = socket.getaddrinfo(self.config.host, self.config.port, type=sock_type)
        except OSError as exc:
            raise describe_connect_error(exc, self._where) from None
        deadline = time.monotonic() + self.config.connect_timeout
        last_error: OSError = TimeoutError()
        for info in infos:
            try:
                return open_link(info, deadline)
            except OSError as exc:
                last_error = exc
                if self._stopping.is_set() or time.monotonic() >= deadline:
                    break
        raise describe_connect_error(last_error, self._where)

    def _connect(self) -> Any:
        """Open one link to the host; raise ConnectFailed with a sentence when it can't."""
        raise NotImplementedError

    def _serve(self, link: Any) -> tuple[FailureKind, str]:
        """Run `link` until it ends, close it, and return why it ended."""
        raise NotImplementedError

    # -- the I/O thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                connect_failed = False
                try:
                    link = self._io._connect()
                except ConnectFailed as failed:
                    connect_failed = True
                    delay = self._link_down(failed.failure, failed.text)
                else:
                    failure, reason = self._io._serve(link)
                    delay = self._link_down(failure, reason)
                if delay is None:
                    return
                if self._follow_handover(connect_failed):
                    if connect_failed and self._follower is not None:  # down the list: not busily
                        self._sleep(min(delay, self._follower.pause(time.monotonic())))
                    continue  # to a successor (or this member now hosts the room)
                started = time.monotonic()
                if connect_failed and self._other_host():
                    continue  # the room's next host on its backbone: connect there at once
                if connect_failed and self._follow_room(min(max(delay, LOOK_SECONDS[0]), LOOK_SECONDS[1])):
                    continue  # the room is elsewhere now: connect there at once
                self._sleep(delay - (time.monotonic() - started))
            self._link_down(FailureKind.CLOSED, "left the chat")
        except Exception:
            log.exception("client thread for %s failed", self._where)
            self._link_down(FailureKind.LOST, "internal error")

    def _link_down(self, failure: FailureKind, reason: str) -> float | None:
        with self._lock:
            if self._session.finished:
                return None
            delay = self._session.link_down(failure, reason)
        self._dispatch()
        return delay

    def _follow_room(self, seconds: float) -> bool:
        """Look for the room (by its key) for up to `seconds`; True when it was found somewhere
        else and the links now go there."""
        key = self._session.room_key
        if not self.config.follow_room or key is None:
            return False
        # Imported here: discovery is loaded only by a client that lost its host.
        from net.discovery.lookup import find_room, heard_at, probe_targets

        current = self._io.config
        chat = find_room(key, current.host, current.port, timeout=seconds, stop=self._stopping)
        if chat is None or self._stopping.is_set():
            return False
        same_place = (chat.transport, chat.port) == (self._io.transport, current.port)
        if same_place and heard_at(chat, probe_targets(current.host, (current.port,))):
            return False  # it is where we knock (by name or address): only not answering yet
        self._move_to(chat.transport, chat.address, chat.port)
        return True

    def _follow_handover(self, host_unreachable: bool) -> bool:
        """After a handover, or with the host unreachable, go to the next successor (or take
        the room over when it is this member's turn: `net.client.follow`)."""
        follower = self._follower
        if follower is None or self._stopping.is_set():
            return False
        place = follower.next_place(time.monotonic(), host_unreachable=host_unreachable)
        return place is not None and self._go_to(follower, place)

    def _go_to(self, follower: Follower, place: Place) -> bool:
        entry, offer = place.entry, self.config.host_offer
        try:
            transport = Transport(entry.transport)
            key = bytes.fromhex(entry.key)
        except ValueError:
            return False
        host, port = (entry.addresses[0], entry.port) if entry.addresses else ("", 0)
        if place.mine and offer is not None:
            try:
                offer.start(follower.takeover())
            except HostStartError:
                log.exception("could not take the room over")
                follower.give_up_mine()
                return False
            host, port = "127.0.0.1", offer.port
        elif not host:
            return False
        with self._lock:
            self._session.expect_key(key)  # trusted: the host we verified signed it (`follow`)
        self._move_to(transport, host, port, new_host=entry.nick)
        return True

    def _other_host(self) -> bool:
        """This host cannot be reached and the last welcome listed the room's other hosts on
        a backbone (`Welcome.hosts`): go to the next of them, trusting the key it names (the
        list came over TLS from the host this client trusted). False when none was listed."""
        hosts = self._other_hosts
        if not hosts:
            return False
        address, _, fingerprint = hosts[self._host_turn % len(hosts)].partition(" ")
        self._host_turn += 1
        try:
            host, port = parse_address(address, self.config.port)
            key = bytes.fromhex(fingerprint) if fingerprint else None
        except ValueError:
            return False
        if key is not None:
            with self._lock:
                self._session.expect_key(key)  # the key to expect now
        self._move_to(self._io.transport, host, port)
        return True

    def _move_to(self, transport: Transport, host: str, port: int, new_host: str | None = None) -> None:
        """Run the next links over `transport` to `host`:`port` and tell the owner (with a
        `new_host`: once welcomed there, so that trying successors in turn says nothing)."""
        config = dataclasses.replace(self.config, host=host, port=port)
        if transport is self.transport:
            self.config, self._io = config, self
        else:
            from net.transports import client_class  # the one place that knows the transports

            self._io = client_class(transport)(config, self._on_event, sharing=self)
        self._where = format_address(host, port)
        log.info("the room moved: following it to %s over %s", self._where, transport.value.upper())
        moved = RoomMoved(transport, host, port, new_host)
        if new_host is None:
            self._deliver([moved])
        else:
            self._io._new_host = moved

    def _sleep(self, seconds: float) -> None:
        """Wait before reconnecting; close() cuts the wait short."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            select.select([self._wakeup.reader], [], [], remaining)
            self._wakeup.drain()

    def _dispatch(self) -> None:
        """Hand the session's events to the owner, outside the lock."""
        with self._lock:
            events = self._session.take_events()
            key, nick = self._session.room_key, self._session.nick
        follower = self._follower
        if follower is not None:
            events = [event for event in events if follower.observe(event, key, nick)]
            if follower.handing_over:  # the host's bye hands the room over: say so, not "closed"
                events = [_handed_over(event) for event in events]
            if self._new_host is not None and any(isinstance(event, ev.Welcome) for event in events):
                events.insert(0, self._new_host)
                self._new_host = None
        self._deliver(events)

    def _deliver(self, events: list[object]) -> None:
        for event in events:
            if type(event) is ev.Welcome:
                self._other_hosts = event.hosts
            try:
                self._on_event(event)
            except Exception:
                log.exception("event handler failed for %r", event)


def _handed_over(event: object) -> object:
    """A link ended by the bye of a host that handed the room over: `HANDED_OVER`."""
    if isinstance(event, StateChanged) and event.failure is FailureKind.HOST_LEFT:
        return dataclasses.replace(event, failure=FailureKind.HANDED_OVER)
    return event
