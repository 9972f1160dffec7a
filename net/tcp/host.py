"""The threaded TCP host: an accept thread and one router thread.

Methods for the owner: `start`, `stop`, and the `port`, `addresses` and `member_count`
properties. The threads and how they share the work:

- the accept thread waits for connections, sets them up (TCP_NODELAY, keepalive,
  non-blocking) and hands each to the router through the inbox (`net.tcp.inbox`);
- the router (`net.tcp.router`) owns the `Room` and every client socket: one `select`
  over all of them, a non-blocking read from each readable one, each output encoded once,
  and non-blocking writes with a bounded buffer per receiver.

This is the "router" design measured in ENGINEERING.md, with the reading moved into the
router: it meets "a slow client never delays the others, memory per client is bounded"
with two threads whatever the number of members, and no thread hand-off per message
(a reader thread per connection cost a GIL hand-off per batch; see `net.tcp.router`).

Heartbeat: protocol clients ping every `RoomConfig.heartbeat_interval` seconds (announced
in the welcome) and are dropped after `heartbeat_timeout` seconds of silence. Plain-text
clients (`nc`) cannot ping; a vanished one is found by TCP keepalive probing instead
(about two minutes, see `net.tcp.listener`).
"""

from __future__ import annotations

import dataclasses
import logging
import selectors
import socket
import threading
import time

from net.api import EventSink, HostConfig, HostStartError, HostStopped
from net.room import Room
from net.tcp.inbox import Inbox
from net.tcp.listener import configure_client_socket, format_address, is_dual_stack, open_listener
from net.tcp.peer import Peer, PeerOpened
from net.tcp.router import Router, StopRequest
from net.tcp.tuning import HostTuning

log = logging.getLogger(__name__)

#: `stop()` joins every thread within this many seconds.
STOP_BUDGET_SECONDS = 2.0
#: Extra connections allowed beyond the member limit, for peers still saying hello.
HANDSHAKE_MARGIN = 64
#: Where `select()` is the only selector (Windows), it takes at most 512 sockets; the router
#: watches every connection plus its wake-up socket, so connections stop short of that.
SELECT_CONNECTION_LIMIT = 500
#: Pause after the OS refused to accept (out of file descriptors), so we do not spin.
_ACCEPT_BACKOFF_SECONDS = 0.1
#: Pings should come several times per heartbeat timeout, so one lost ping is harmless.
_PINGS_PER_TIMEOUT = 3


class TcpHost:
    """A chat host over TCP (implements `net.api.ChatHost`)."""

    def __init__(
        self,
        config: HostConfig,
        on_event: EventSink | None = None,
        *,
        tuning: HostTuning | None = None,
    ) -> None:
        self.config = config
        self._on_event = on_event
        self._tuning = tuning or HostTuning()
        self._listener: socket.socket | None = None
        self._addresses: list[tuple[str, int]] = []
        self._port = 0
        self._router: Router | None = None
        self._inbox: Inbox | None = None
        self._threads: list[threading.Thread] = []
        self._connections = 0  # accepted and not yet closed by the router
        self._connections_lock = threading.Lock()
        self._stopping = threading.Event()
        self._accept_wake_reader: socket.socket | None = None
        self._accept_wake_writer: socket.socket | None = None
        self._lifecycle_lock = threading.Lock()
        self._started = False
        self._stopped = False

    # -- for the owner --------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port actually bound (the chosen one when the config asked for port 0)."""
        return self._port

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """The (address, port) pairs the host listens on."""
        return list(self._addresses)

    @property
    def member_count(self) -> int:
        return self._router.member_count if self._router else 0

    def start(self) -> None:
        """Bind and start serving; raises HostStartError with a sentence for the user."""
        with self._lifecycle_lock:
            if self._started or self._stopped:
                raise HostStartError("This host was already started; create a new one to start again.")
            listener = open_listener(self.config.bind, self.config.port)
            self._started = True
        try:
            self._serve(listener)
        except Exception as exc:
            self._abandon_start(listener)
            log.debug("the host failed to start", exc_info=True)
            raise HostStartError(f"Cannot start the host: {exc}") from exc

    def stop(self, reason: str = "host stopped") -> None:
        """Tell every member, close every socket and join every thread within 2 s."""
        with self._lifecycle_lock:
            if self._stopped:
                return
            self._stopped = True
            started = self._started
        deadline = time.monotonic() + STOP_BUDGET_SECONDS
        if not started:
            self._close_wake_sockets()
            return
        self._request_stop(reason)
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join(max(0.0, deadline - time.monotonic()))
        alive = [thread.name for thread in self._threads if thread.is_alive()]
        if alive:
            log.warning("host threads still running after stop: %s", ", ".join(alive))
            return  # leave their sockets open rather than close them under a running thread
        self._inbox.close()
        self._close_wake_sockets()

    # -- internals ------------------------------------------------------------------------

    def _serve(self, listener: socket.socket) -> None:
        """Start the router and accept threads on `listener` (raises OSError, RuntimeError)."""
        self._accept_wake_reader, self._accept_wake_writer = socket.socketpair()
        listener.setblocking(False)
        self._listener = listener
        address = listener.getsockname()
        self._addresses = [(address[0], address[1])]
        self._port = address[1]
        self._inbox = Inbox()
        stacks = " (IPv4 and IPv6)" if is_dual_stack(listener) else ""
        self._router = Router(
            Room(self._room_config()),
            self._inbox,
            self._tuning,
            heartbeat_timeout=self.config.heartbeat_timeout,
            handshake_timeout=self.config.handshake_timeout,
            stopping=self._stopping,
            on_closed=self._connection_closed,
        )
        for target, name in ((self._route, "lanchat-router"), (self._accept_loop, "lanchat-accept")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info(
            "Room %r listening on %s%s over TCP",
            self._router.room.name,
            format_address(address),
            stacks,
        )

    def _abandon_start(self, listener: socket.socket) -> None:
        """Undo a start that failed half-way: stop what runs, close what is open."""
        with self._lifecycle_lock:
            self._stopped = True
        self._on_event = None  # the owner hears of this failure from start(), not as HostStopped
        self._request_stop("the host failed to start")
        for thread in self._threads:
            thread.join(STOP_BUDGET_SECONDS)
        if not any(thread.name == "lanchat-accept" for thread in self._threads):
            listener.close()  # the accept thread closes it when it ran
        if self._inbox is not None:
            self._inbox.close()
        self._close_wake_sockets()

    def _room_config(self):
        """The room settings, with a ping interval that fits the heartbeat timeout."""
        room = self.config.room
        interval = min(room.heartbeat_interval, self.config.heartbeat_timeout / _PINGS_PER_TIMEOUT)
        return dataclasses.replace(room, heartbeat_interval=interval)

    def _request_stop(self, reason: str) -> None:
        """Ask the router and accept threads to finish (from any thread, also a host thread)."""
        self._stopping.set()
        if self._inbox is not None:
            self._inbox.put(StopRequest(reason))
            self._inbox.wake()
        if self._accept_wake_writer is not None:
            try:
                self._accept_wake_writer.send(b"\0")
            except OSError:
                pass

    def _close_wake_sockets(self) -> None:
        for sock in (self._accept_wake_reader, self._accept_wake_writer):
            if sock is not None:
                sock.close()

    def _route(self) -> None:
        reason = self._router.run()
        if not self._stopping.is_set():
            self._request_stop(reason)  # the router failed: take the accept thread down too
        log.info("host stopped: %s", reason)
        if self._on_event is not None:
            try:
                self._on_event(HostStopped(reason))
            except Exception:
                log.exception("the host's event handler failed")

    def _accept_loop(self) -> None:
        listener = self._listener
        selector = selectors.DefaultSelector()
        try:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(self._accept_wake_reader, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for _ in selector.select():
                    if self._stopping.is_set():
                        break
                    self._accept_one(listener)
        except Exception as exc:
            log.exception("the host's accept thread failed")
            self._request_stop(f"host failed: {exc}")
        finally:
            selector.close()
            listener.close()

    def _accept_one(self, listener: socket.socket) -> None:
        try:
            sock, address = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError as exc:
            # Out of file descriptors or memory: keep serving the members we have.
            log.warning("cannot accept a connection: %s", exc.strerror or exc)
            self._stopping.wait(_ACCEPT_BACKOFF_SECONDS)
            return
        where = format_address(address)
        limit = self._connection_limit()
        with self._connections_lock:
            crowded = self._connections >= limit
            if not crowded:
                self._connections += 1
        if crowded:
            log.warning("turning away %s: %d connections are open already", where, limit)
            sock.close()
            return
        try:
            configure_client_socket(sock, self._tuning.socket_send_buffer)
            sock.setblocking(False)
        except OSError as exc:
            log.warning("cannot set up the connection from %s: %s", where, exc.strerror or exc)
            sock.close()
            self._connection_closed(None)
            return
        log.debug("connection from %s", where)
        # From here the router owns `sock` (it closes it, also when stopping).
        if not self._inbox.put(PeerOpened(Peer(sock, where))):
            sock.close()  # the router has finished: this socket never became its own
            self._connection_closed(None)

    def _connection_limit(self) -> int:
        limit = self._tuning.max_connections or self.config.room.max_members + HANDSHAKE_MARGIN
        if selectors.DefaultSelector is selectors.SelectSelector:
            limit = min(limit, SELECT_CONNECTION_LIMIT)
        return limit

    def _connection_closed(self, _peer: Peer | None) -> None:
        """One accepted connection fewer (the router closed it, or it never got there)."""
        with self._connections_lock:
            self._connections -= 1
