"""A room served by several hosts over a NATS JetStream backbone (issue 18).

`attach` joins a host's service loop to the backbone: `link.Backbone` speaks NATS in its
own thread, `shared.SharedRoom` serves what it hands over on the service thread, and
`wire` says what goes on the cluster. Nothing here is loaded by a host without
`HostConfig.backbone`.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from net.addresses import format_address
from net.backbone.config import BackboneConfig, parse_servers

if TYPE_CHECKING:
    from net.backbone.link import Backbone
    from net.host.loop import ServiceLoop

__all__ = ["BackboneConfig", "attach", "parse_servers"]


def attach(loop: ServiceLoop[Any], config: BackboneConfig, port: int, fingerprint: bytes | None) -> Backbone:
    """Serve `loop`'s room on the backbone (call before its thread starts); the backbone
    thread is the caller's to `start` and `stop`. The host keeps no journal of its own:
    the stream is the room's history."""
    from net.backbone.link import Backbone
    from net.backbone.shared import SharedRoom

    room, driver = loop.room, loop.driver
    host_id = config.host_id or f"{socket.gethostname()}:{port}"
    advertised = config.advertise or _this_pc()
    address = advertised if ":" in advertised else format_address(advertised, port)
    if fingerprint is not None:
        address += " " + fingerprint.hex()
    backbone = Backbone(config, room.name, host_id, room.config.history_size, loop.wake)
    shared = SharedRoom(room, backbone, address, driver.send, loop, apply=driver.apply)
    driver.intercept = shared.intercept
    loop.shared = shared
    loop.journal_factory = None
    return backbone


def _this_pc() -> str:
    """The address other PCs most likely reach this one at (LAN IPv4 first)."""
    from net.discovery.interfaces import addresses_to_share, list_interfaces

    try:
        return (addresses_to_share(list_interfaces()) or [socket.gethostname()])[0]
    except Exception:  # the list is a convenience: the administrator can say `advertise`
        return socket.gethostname()
