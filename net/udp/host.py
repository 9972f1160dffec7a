"""The UDP host: one socket and one service thread around the same `Room` as the TCP host.

Methods for the owner: `start`, `stop`, and the `port`, `addresses` and `member_count`
properties (from `net.host.lifecycle.ThreadedHost`); `discovery_handler` may be set
(before or after `start`) to answer discovery probes that arrive on the chat port.
Everything else happens in the service thread (`net.udp.service.HostLoop`), which owns
the socket, the room driver and every timer.

Heartbeat: clients ping every `RoomConfig.heartbeat_interval` seconds (announced in the
welcome, lowered to fit the timeout) and are dropped after `heartbeat_timeout` seconds
of silence; the others see them leave.
"""

from __future__ import annotations

import socket
from typing import Any

from net.api import EventSink, HostConfig
from net.host.lifecycle import ThreadedHost
from net.room import Room
from net.udp.service import DiscoveryHandler, HostLoop
from net.udp.sockets import open_host_socket
from net.udp.tuning import UdpTuning


class UdpHost(ThreadedHost):
    """A chat host over UDP (implements `net.api.ChatHost`; lifecycle in `ThreadedHost`)."""

    transport_name = "UDP"
    loop_thread_name = "lanchat-udp-host"
    tuning_type = UdpTuning
    _tuning: UdpTuning

    def __init__(
        self,
        config: HostConfig,
        on_event: EventSink | None = None,
        *,
        tuning: UdpTuning | None = None,
        discovery_handler: DiscoveryHandler | None = None,
    ) -> None:
        super().__init__(config, on_event, tuning=tuning)
        #: Called with (datagram, address) for datagrams on the chat port that are not
        #: LanChat UDP (discovery probes); may return a reply to send back.
        self.discovery_handler = discovery_handler

    def peer_stats(self) -> dict[str, dict[str, Any]]:
        """Channel figures per member (retransmissions, duplicates, RTT...)."""
        return self._loop.peer_stats() if isinstance(self._loop, HostLoop) else {}

    # -- ThreadedHost hooks ---------------------------------------------------------------

    def _bind(self) -> socket.socket:
        return open_host_socket(self.config.bind, self.config.port)

    def _make_loop(self, sock: socket.socket, room: Room) -> HostLoop:
        return HostLoop(
            sock,
            room,
            self._tuning,
            heartbeat_timeout=self.config.heartbeat_timeout,
            handshake_timeout=self.config.handshake_timeout,
            discovery_handler=lambda: self.discovery_handler,
            security=self.security,
            max_per_address=self.config.max_connections_per_address,
        )

    def _abandoned(self, sock: socket.socket) -> None:
        if self._loop is None or not self._threads:
            sock.close()  # the loop closes it when it ran
