"""Finding chats on the LAN: hosts announce and answer probes, browsers list what they hear.

Pure parts (no sockets): `wire` (the datagram format), `chatlist` (the list of found chats
with expiry), `destinations` (where datagrams go, and the loopback-only guard), `answering`
(jittered, rate-limited answers), `solicited` (which answers a browser asked for),
`interfaces` (the interface model, addresses to share), `advice` (what to tell a user when
nothing is found). Threaded shells: `Announcer` (host side) and `Browser` (joining side).
See the Discovery section of docs/PROTOCOL.md for the design.
"""

from net.discovery.announcer import Announcer
from net.discovery.browser import Browser, discover
from net.discovery.chatlist import ChatEvent, ChatFound, ChatList, ChatLost, ChatUpdated, FoundChat
from net.discovery.destinations import (
    LOOPBACK_ENV,
    ProbeTarget,
    directed_broadcast,
    loopback_only,
    parse_probe_target,
    plan_destinations,
)
from net.discovery.interfaces import NetworkInterface, addresses_to_share, list_interfaces
from net.discovery.wire import (
    DISCOVERY_PORT,
    PROBE_PORTS,
    RoomInfo,
    handle_discovery_datagram,
    is_discovery_datagram,
    new_host_id,
)

__all__ = [
    "DISCOVERY_PORT",
    "LOOPBACK_ENV",
    "PROBE_PORTS",
    "Announcer",
    "Browser",
    "ChatEvent",
    "ChatFound",
    "ChatList",
    "ChatLost",
    "ChatUpdated",
    "FoundChat",
    "NetworkInterface",
    "ProbeTarget",
    "RoomInfo",
    "addresses_to_share",
    "directed_broadcast",
    "discover",
    "handle_discovery_datagram",
    "is_discovery_datagram",
    "list_interfaces",
    "loopback_only",
    "new_host_id",
    "parse_probe_target",
    "plan_destinations",
]
