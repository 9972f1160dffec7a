"""Members that follow a handover, and members that can take the room over (issue 18).

A successor gets an identity of its own (its key is not the old host's: members trust it
because the old host's signed list names it) and a port it would host on; its `start`
starts a real host of the chat's transport, kept by the `chat` fixture for closing.
"""

from __future__ import annotations

import socket
import tempfile
import threading
from pathlib import Path

from net.api import ChatHost, Delivered, HostConfig, HostOffer, Takeover
from net.client.follow import KEPT_MESSAGES as TAKEOVER_HISTORY
from net.protocol import events as ev
from net.room import RoomConfig
from net.secure.identity import Identity, load_or_create_identity
from net.transports import make_host

#: Short timeouts so that a vanished host is noticed within seconds.
HEARTBEAT_TIMEOUT = 2.0
FOLLOWING = {
    "follow_handover": True,
    "heartbeat_timeout": HEARTBEAT_TIMEOUT,
    "heartbeat_interval": 0.5,
    "backoff": (0.1, 0.2),
}


def free_port(transport: str) -> int:
    kind = socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_identities: dict[str, Identity] = {}
_folder = Path(tempfile.mkdtemp(prefix="lanchat-handover-ids-"))


def identity_of(name: str) -> Identity:
    """A key and certificate of its own for `name` (made once per test session)."""
    if name not in _identities:
        _identities[name] = load_or_create_identity(_folder / name)
    return _identities[name]


class Successor:
    """What a member that can take the room over brings: a port, a key, a way to host."""

    def __init__(self, chat, name: str) -> None:
        self.chat = chat
        self.identity = identity_of(name)
        self.port = free_port(chat.transport)
        self.took: list[Takeover] = []
        self.host: ChatHost | None = None
        self.started = threading.Event()

    def offer(self) -> HostOffer:
        return HostOffer(self.port, self.identity.fingerprint, self.start)

    def start(self, takeover: Takeover) -> None:
        self.took.append(takeover)
        config = HostConfig(
            port=self.port,
            bind="127.0.0.1",
            room=RoomConfig(name=takeover.room, rate_per_second=0, history_size=TAKEOVER_HISTORY),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            identity=self.identity,
            epoch=takeover.epoch,
            seed_history=takeover.history,
        )
        self.host = make_host(self.chat.transport, config)
        self.chat.hosts.append(self.host)
        self.host.start()
        self.started.set()


def shown_ids(events: list[object]) -> list[str]:
    """Ids of the room messages a member was shown (live or in a welcome) and of its own
    delivered ones, in order, repeats included (there must be none)."""
    ids: list[str] = []
    for event in list(events):
        if isinstance(event, ev.Welcome):
            ids += [m.id for m in event.history]
        elif isinstance(event, ev.ChatMessage):
            ids.append(event.id)
        elif isinstance(event, Delivered):
            ids.append(event.msg_id)
    return ids


def shown_texts(events: list[object]) -> list[str]:
    texts: list[str] = []
    for event in list(events):
        if isinstance(event, ev.Welcome):
            texts += [m.text for m in event.history]
        elif isinstance(event, ev.ChatMessage):
            texts.append(event.text)
    return texts
