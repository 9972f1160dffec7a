"""How a host joins a NATS JetStream backbone (`HostConfig.backbone`); no NATS import here."""

from __future__ import annotations

from dataclasses import dataclass


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
