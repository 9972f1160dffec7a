"""The UDP host: one socket and one service thread around the same `Room` as the TCP host.

Methods for the owner: `start`, `stop`, and the `port`, `addresses` and `member_count`
properties; `discovery_handler` may be set (before or after `start`) to answer discovery
probes that arrive on the chat port. Everything else happens in the service thread
(`net.udp.service.HostLoop`), which owns the socket, the room and every timer.

Heartbeat: clients ping every `RoomConfig.heartbeat_interval` seconds (announced in the
welcome, lowered to fit the timeout) and are dropped after `heartbeat_timeout` seconds
of silence; the others see them leave.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

from net.api import EventSink, HostConfig, HostStartError, HostStopped
from net.room import Room
from net.tcp.listener import format_address
from net.udp.service import DiscoveryHandler, HostLoop
from net.udp.sockets import is_dual_stack, open_host_socket
from net.udp.tuning import UdpTuning

log = logging.getLogger(__name__)

#: `stop()` joins the service thread within this many seconds.
STOP_BUDGET_SECONDS = 2.0
#: Pings should come several times per heartbeat timeout, so one lost ping is harmless.
_PINGS_PER_TIMEOUT = 3


class UdpHost:
    """A chat host over UDP (implements `net.api.ChatHost`)."""

    def __init__(
        self,
        config: HostConfig,
        on_event: EventSink | None = None,
        *,
        tuning: UdpTuning | None = None,
        discovery_handler: DiscoveryHandler | None = None,
    ) -> None:
        self.config = config
        #: Called with (datagram, address) for datagrams on the chat port that are not
        #: LanChat UDP (discovery probes); may return a reply to send back.
        self.discovery_handler = discovery_handler
        self._on_event = on_event
        self._tuning = tuning or UdpTuning()
        self._loop: HostLoop | None = None
        self._thread: threading.Thread | None = None
        self._addresses: list[tuple[str, int]] = []
        self._port = 0
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
        return list(self._addresses)

    @property
    def member_count(self) -> int:
        return self._loop.member_count if self._loop else 0

    def peer_stats(self) -> dict[str, dict]:
        """Channel figures per member (retransmissions, duplicates, RTT...)."""
        return self._loop.peer_stats() if self._loop else {}

    def start(self) -> None:
        """Bind and start serving; raises HostStartError with a sentence for the user."""
        with self._lifecycle_lock:
            if self._started or self._stopped:
                raise HostStartError("This host was already started; create a new one to start again.")
            sock = open_host_socket(self.config.bind, self.config.port)
            self._started = True
        address = sock.getsockname()
        self._addresses = [(address[0], address[1])]
        self._port = address[1]
        self._loop = HostLoop(
            sock,
            Room(self._room_config()),
            self._tuning,
            heartbeat_timeout=self.config.heartbeat_timeout,
            handshake_timeout=self.config.handshake_timeout,
            discovery_handler=lambda: self.discovery_handler,
        )
        self._thread = threading.Thread(target=self._serve, name="lanchat-udp-host", daemon=True)
        self._thread.start()
        stacks = " (IPv4 and IPv6)" if is_dual_stack(sock) else ""
        log.info("Room %r listening on %s%s over UDP", self._loop.room.name, format_address(address), stacks)

    def stop(self, reason: str = "host stopped") -> None:
        """Tell every member, close the socket and join the thread within 2 s."""
        with self._lifecycle_lock:
            if self._stopped:
                return
            self._stopped = True
            started = self._started
        if not started or self._loop is None or self._thread is None:
            return
        deadline = time.monotonic() + STOP_BUDGET_SECONDS
        self._loop.request_stop(reason)
        if self._thread is not threading.current_thread():
            self._thread.join(max(0.0, deadline - time.monotonic()))
            if self._thread.is_alive():
                log.warning("the UDP host thread is still running after stop")

    # -- internals ------------------------------------------------------------------------

    def _room_config(self):
        """The room settings, with a ping interval that fits the heartbeat timeout."""
        room = self.config.room
        interval = min(room.heartbeat_interval, self.config.heartbeat_timeout / _PINGS_PER_TIMEOUT)
        return dataclasses.replace(room, heartbeat_interval=interval)

    def _serve(self) -> None:
        assert self._loop is not None
        reason = self._loop.run()
        log.info("host stopped: %s", reason)
        if self._on_event is not None:
            try:
                self._on_event(HostStopped(reason))
            except Exception:
                log.exception("the host's event handler failed")
