"""The threaded TCP host: an accept thread and one router thread.

Methods for the owner: `start`, `stop`, and the `port`, `addresses` and `member_count`
properties (from `net.host.lifecycle.ThreadedHost`). The threads and how they share the work:

- the accept thread waits for connections, sets them up (TCP_NODELAY, keepalive,
  non-blocking) and hands each to the router through the inbox (`net.tcp.inbox`);
- the router (`net.tcp.router`) owns the room driver and every client socket: one `select`
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

import logging
import selectors
import socket
import threading
from collections.abc import Callable

from net.addresses import SockAddr, format_sockaddr
from net.host.lifecycle import ThreadedHost
from net.host.sources import AddressCounter
from net.room import Room
from net.tcp.inbox import Inbox
from net.tcp.listener import configure_client_socket, open_listener
from net.tcp.peer import Peer, PeerOpened
from net.tcp.router import Router
from net.tcp.tuning import HostTuning

log = logging.getLogger(__name__)

#: Extra connections allowed beyond the member limit, for peers still saying hello.
HANDSHAKE_MARGIN = 64
#: Where `select()` is the only selector (Windows), it takes at most 512 sockets; the router
#: watches every connection plus its wake-up socket, so connections stop short of that.
SELECT_CONNECTION_LIMIT = 500
#: Pause after the OS refused to accept (out of file descriptors), so we do not spin.
_ACCEPT_BACKOFF_SECONDS = 0.1


class TcpHost(ThreadedHost):
    """A chat host over TCP (implements `net.api.ChatHost`; lifecycle in `ThreadedHost`)."""

    transport_name = "TCP"
    loop_thread_name = "lanchat-router"

    tuning_type = HostTuning
    _tuning: HostTuning
    # Made by `_make_loop`, so a host that never started holds no descriptor.
    _listener: socket.socket | None = None
    _inbox: Inbox | None = None
    _accept_wake: tuple[socket.socket, socket.socket] | None = None

    # -- ThreadedHost hooks ---------------------------------------------------------------

    def _bind(self) -> socket.socket:
        return open_listener(self.config.bind, self.config.port)

    def _make_loop(self, sock: socket.socket, room: Room) -> Router:
        self._connections = 0  # accepted and not yet closed by the router
        self._per_address = AddressCounter(self.config.max_connections_per_address)  # the same ones
        self._connections_lock = threading.Lock()
        self._accept_wake = socket.socketpair()
        self._inbox = Inbox()
        sock.setblocking(False)
        self._listener = sock
        return Router(
            room,
            self._inbox,
            self._tuning,
            heartbeat_timeout=self.config.heartbeat_timeout,
            handshake_timeout=self.config.handshake_timeout,
            on_closed=lambda peer: self._connection_closed(peer.address),
            security=self.security,
        )

    def _extra_threads(self, sock: socket.socket) -> list[tuple[Callable[[], None], str]]:
        return [(self._accept_loop, "lanchat-accept")]

    def _request_stop(self, reason: str) -> None:
        super()._request_stop(reason)
        if self._accept_wake is not None:
            try:
                self._accept_wake[1].send(b"\0")
            except OSError:
                pass

    def _release(self) -> None:
        if self._inbox is not None:
            self._inbox.close()
        for sock in self._accept_wake or ():
            sock.close()

    def _abandoned(self, sock: socket.socket) -> None:
        if not any(thread.name == "lanchat-accept" for thread in self._threads):
            sock.close()  # the accept thread closes it when it ran

    # -- the accept thread ----------------------------------------------------------------

    def _accept_loop(self) -> None:
        listener, wake = self._listener, self._accept_wake
        assert listener is not None and wake is not None
        selector = selectors.DefaultSelector()
        try:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wake[0], selectors.EVENT_READ)
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
        where = format_sockaddr(address)
        limit = self._connection_limit()
        with self._connections_lock:
            refusal = None
            if self._connections >= limit:
                refusal = logging.WARNING, f"turning away {where}: {limit} connections are open already"
            elif not self._per_address.add(address):
                refusal = self._per_address.turned_away(address)
            else:
                self._connections += 1
        if refusal is not None:
            log.log(refusal[0], "%s", refusal[1])
            sock.close()
            return
        try:
            configure_client_socket(sock, self._tuning.socket_send_buffer)
            sock.setblocking(False)
        except OSError as exc:
            log.warning("cannot set up the connection from %s: %s", where, exc.strerror or exc)
            sock.close()
            self._connection_closed(address)
            return
        log.debug("connection from %s", where)
        # From here the router owns `sock` (it closes it, also when stopping).
        assert self._inbox is not None
        if not self._inbox.put(PeerOpened(Peer(sock, address))):
            sock.close()  # the router has finished: this socket never became its own
            self._connection_closed(address)

    def _connection_limit(self) -> int:
        limit = self._tuning.max_connections or self.config.room.max_members + HANDSHAKE_MARGIN
        if selectors.DefaultSelector is selectors.SelectSelector:  # type: ignore[comparison-overlap]
            limit = min(limit, SELECT_CONNECTION_LIMIT)
        return limit

    def _connection_closed(self, address: SockAddr) -> None:
        """One accepted connection fewer (the router closed it, or it never got there)."""
        with self._connections_lock:
            self._connections -= 1
            self._per_address.remove(address)
