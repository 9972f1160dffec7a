"""Starting and stopping a host, the same for both transports.

`ThreadedHost` implements the owner's side of `net.api.ChatHost` once: `start` binds
(a bind error becomes `HostStartError` with a sentence for the user), builds the room and
the transport's service loop and starts its threads; `stop` asks the loop to say bye,
then joins every thread within `STOP_BUDGET_SECONDS`; a loop that ends by itself (it
failed) takes the other threads down and is reported to the owner as `HostStopped`.

Hooks for subclasses: `_bind()` opens the socket; `_make_loop(sock, room)` builds the
service loop; `_extra_threads()` names threads besides the loop's (TCP's accept thread);
`_request_stop(reason)` may wake them too; `_release()` closes what the threads leave
behind once they are joined.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from net.addresses import format_sockaddr
from net.api import EventSink, HostConfig, HostStartError, HostStopped
from net.files.relay import HostRelay
from net.host.loop import ServiceLoop
from net.host.peer import PLAINTEXT_ONLY, Security
from net.host.returning import check_the_room_is_here
from net.host.succession import HostSuccession
from net.room import Room, RoomConfig
from net.secure.succession import Signer
from net.secure.tls import server_context

log = logging.getLogger(__name__)

#: `stop()` joins every thread within this many seconds.
STOP_BUDGET_SECONDS = 2.0
#: Pings should come several times per heartbeat timeout, so one lost ping is harmless.
_PINGS_PER_TIMEOUT = 3


class ThreadedHost:
    """Base of the transport hosts (see the module docstring for the owner's calls vs hooks)."""

    #: For the log line that says where the room listens.
    transport_name = ""
    #: Name of the service loop's thread.
    loop_thread_name = "lanchat-host"
    #: The transport's tuning class (its defaults serve when none is given).
    tuning_type: type = object

    def __init__(
        self, config: HostConfig, on_event: EventSink | None = None, *, tuning: object = None
    ) -> None:
        self.config = config
        self._tuning = tuning or self.tuning_type()
        self._on_event = on_event
        self._loop: ServiceLoop[Any] | None = None
        self._threads: list[threading.Thread] = []
        self._addresses: list[tuple[str, int]] = []
        self._port = 0
        self._stopping = threading.Event()
        self.security = PLAINTEXT_ONLY  # made by `start` from the config's identity
        self._lifecycle_lock = threading.Lock()
        self._started = False
        self._stopped = False
        self._file_relay: HostRelay | None = None  # file transfers through the host
        self._backbone: Any = None  # `net.backbone.link.Backbone` on a backbone

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
        return self._loop.member_count if self._loop else 0

    def start(self) -> None:
        """Bind and start serving; raises HostStartError with a sentence for the user."""
        with self._lifecycle_lock:
            if self._started or self._stopped:
                raise HostStartError("This host was already started; create a new one to start again.")
            check_the_room_is_here(self.config)  # the room may have moved on while it was away
            sock = self._bind()
            self._started = True
        try:
            address = sock.getsockname()
            self._addresses = [(address[0], address[1])]
            self._port = address[1]
            self.security = _security_of(self.config)
            room = Room(self._room_config())
            self._file_relay = _start_file_relay(self.config)
            room.file_relay = self._file_relay.desk if self._file_relay else None
            self._loop = self._make_loop(sock, room)
            self._loop.journal_factory = self.config.journal
            self._loop.seed_history = self.config.seed_history
            self._loop.driver.succession = _succession_of(self.config, self.transport_name)
            if self.config.backbone is not None:
                self._start_backbone(self._loop)
            targets = [(self._run_loop, self.loop_thread_name), *self._extra_threads(sock)]
            for target, name in targets:
                thread = threading.Thread(target=target, name=name, daemon=True)
                thread.start()
                self._threads.append(thread)
        except Exception as exc:
            self._abandon_start(sock)
            log.debug("the host failed to start", exc_info=True)
            raise HostStartError(f"Cannot start the host: {exc}") from exc
        stacks = " (IPv4 and IPv6)" if _is_dual_stack(sock) else ""
        log.info(
            "Room %r listening on %s%s over %s",
            self._loop.room.name,
            format_sockaddr(address),
            stacks,
            self.transport_name,
        )

    def stop(self, reason: str = "host stopped") -> None:
        """Tell every member, close every socket and join every thread within 2 s."""
        with self._lifecycle_lock:
            if self._stopped:
                return
            self._stopped = True
            started = self._started
        if not started:
            self._release()
            return
        deadline = time.monotonic() + STOP_BUDGET_SECONDS
        self._request_stop(reason)
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join(max(0.0, deadline - time.monotonic()))
        self._stop_file_relay()
        if self._backbone is not None:
            self._backbone.stop()  # after the loop: it publishes what the loop handed it
        alive = [thread.name for thread in self._threads if thread.is_alive() and thread is not current]
        if alive:
            log.warning("host threads still running after stop: %s", ", ".join(alive))
            return  # leave their sockets open rather than close them under a running thread
        if current not in self._threads:
            self._release()

    # -- hooks ----------------------------------------------------------------------------

    def _bind(self) -> socket.socket:
        raise NotImplementedError

    def _make_loop(self, sock: socket.socket, room: Room) -> ServiceLoop[Any]:
        raise NotImplementedError

    def _extra_threads(self, sock: socket.socket) -> list[tuple[Callable[[], None], str]]:
        return []

    def _request_stop(self, reason: str) -> None:
        """Ask every thread to finish (from any thread, also a host thread)."""
        self._stopping.set()
        if self._loop is not None:
            self._loop.request_stop(reason)

    def _release(self) -> None:
        """Close what outlives the threads (after they are joined, or when never started)."""

    def _abandoned(self, sock: socket.socket) -> None:
        """A start failed half-way, its threads are joined: close what none of them owns."""

    # -- internals ------------------------------------------------------------------------

    def _start_backbone(self, loop: ServiceLoop[Any]) -> None:
        """Join the backbone and wait (`ready_timeout`) for the room's stream and history."""
        from net.backbone import attach  # only a host on a backbone loads it

        assert self.config.backbone is not None
        fingerprint = self.config.identity.fingerprint if self.config.identity else None
        self._backbone = attach(loop, self.config.backbone, self._port, fingerprint)
        self._backbone.start()
        if not self._backbone.ready.wait(self.config.backbone.ready_timeout):
            log.warning("the backbone is not ready yet: serving, the history comes when it is")

    def _room_config(self) -> RoomConfig:
        """The room settings, with a ping interval that fits the heartbeat timeout."""
        room = self.config.room
        interval = min(room.heartbeat_interval, self.config.heartbeat_timeout / _PINGS_PER_TIMEOUT)
        return dataclasses.replace(room, heartbeat_interval=interval)

    def _abandon_start(self, sock: socket.socket) -> None:
        """Undo a start that failed half-way: stop what runs, close what is open."""
        with self._lifecycle_lock:
            self._stopped = True
        self._on_event = None  # the owner hears of this failure from start(), not as HostStopped
        self._request_stop("the host failed to start")
        for thread in self._threads:
            thread.join(STOP_BUDGET_SECONDS)
        self._stop_file_relay()
        if self._backbone is not None:
            self._backbone.stop()
        self._abandoned(sock)
        self._release()

    def _stop_file_relay(self) -> None:
        relay, self._file_relay = self._file_relay, None
        if relay is not None:
            relay.stop()

    def _run_loop(self) -> None:
        assert self._loop is not None
        reason = self._loop.run()
        if not self._stopping.is_set():
            self._request_stop(reason)  # the loop failed: take the other threads down too
        log.info("host stopped: %s", reason)
        if self._on_event is not None:
            try:
                self._on_event(HostStopped(reason))
            except Exception:
                log.exception("the host's event handler failed")


def _security_of(config: HostConfig) -> Security:
    """TLS with this installation's certificate when the config has an identity."""
    if config.identity is None:
        log.warning("this host has no identity: it serves unencrypted connections only")
        return PLAINTEXT_ONLY
    return Security(server_context(config.identity), config.allow_plaintext)


def _succession_of(config: HostConfig, transport_name: str) -> HostSuccession | None:
    """Who names successors and signs them: this installation's key (none without one)."""
    if config.identity is None or not config.handover:
        return None
    signer = Signer(config.identity.key_path, config.identity.cert_path)
    return HostSuccession(signer, transport_name.lower(), config.epoch)


def _start_file_relay(config: HostConfig) -> HostRelay | None:
    """The relay for file transfers a firewall blocks (TLS only: it uses the host's key)."""
    if config.identity is None:
        return None
    relay = HostRelay(config.identity, bind=config.bind)
    relay.start()
    return relay


def _is_dual_stack(sock: socket.socket) -> bool:
    """True when an IPv6 socket also serves IPv4."""
    if sock.family != socket.AF_INET6:
        return False
    try:
        return not sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
    except OSError:
        return False
