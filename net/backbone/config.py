"""How a host joins a NATS JetStream backbone (`HostConfig.backbone`); no NATS import here."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

#: At most this many servers in one backbone setting (a cluster of 3, with room to spare).
MAX_SERVERS = 16
#: What nats-py connects with: plain, or TLS.
SCHEMES = ("nats", "tls")


class BadServer(ValueError):
    """`server` is not an address nats-py can connect to (or there are too many: `server` is "")."""

    def __init__(self, server: str) -> None:
        super().__init__(f"not a NATS server address: {server!r}" if server else "too many NATS servers")
        self.server = server


@dataclass(slots=True)
class BackboneConfig:
    #: The cluster's servers, e.g. ("nats://10.0.0.5:4222", "nats://10.0.1.5:4222").
    servers: tuple[str, ...]
    #: Names this host's durable consumer: the same name after a restart resumes where it
    #: stopped. Empty: made from this PC's name and the port.
    host_id: str = ""
    #: "host:port" where members elsewhere can reach this host (listed in the welcome of
    #: the room's other hosts). Empty: this PC's first LAN address and the port.
    advertise: str = ""
    #: The stream's replicas; 0: one per server given, at most 3 (R3 on a 3-node cluster).
    replicas: int = 0
    #: The stream keeps at most this many messages (the oldest go first).
    max_messages: int = 100_000
    #: Each host announces its members this often, and forgets a host silent for `presence_timeout`.
    presence_interval: float = 1.0
    presence_timeout: float = 4.0
    #: One NATS request (a publish, a stream look-up) waits this long before it is retried.
    request_timeout: float = 2.0
    #: `start` waits this long for the stream and the history before serving without them.
    ready_timeout: float = 20.0


def parse_servers(text: str) -> tuple[str, ...]:
    """`nats://a:4222,nats://b:4222` (commas or spaces) as a tuple; bare host:port gets nats://."""
    servers = [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]
    return tuple(server if "://" in server else f"nats://{server}" for server in servers)


def check_servers(text: str) -> tuple[str, ...]:
    """`parse_servers`, refusing (BadServer) what could never connect: another scheme, no
    host, a port outside 1-65535, a path, more than `MAX_SERVERS`. The settings file and
    the Settings dialog check the same way (`gui.settings.check_backbone`)."""
    servers = parse_servers(text)
    if len(servers) > MAX_SERVERS:
        raise BadServer("")
    for server in servers:
        try:
            parts = urlsplit(server)
            port = parts.port
        except ValueError:
            raise BadServer(server) from None
        if parts.scheme not in SCHEMES or not parts.hostname or port == 0 or parts.path not in ("", "/"):
            raise BadServer(server)
        if parts.query or parts.fragment:
            raise BadServer(server)
    return servers
