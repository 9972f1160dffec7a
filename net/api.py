"""What the rest of the program sees of a transport: host and client interfaces and events.

The TCP and UDP shells both implement `ChatHost` and `ChatClient`; the GUI, the command
line and the tests talk to these interfaces only, so switching the transport changes
which class is built (`net.transports`) and nothing else.

Events reach the owner through the `on_event` callable given to a client or host. It is
called from a network thread, so it must be thread-safe and quick (the GUI puts the event
on a queue; tests append to a list). Besides the protocol events of `net.protocol.events`
(ChatMessage, Joined, Left, Renamed, Members, TypingNotice, Error, Welcome, ...), a client
reports the local events defined here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from net.protocol.limits import (
    DEFAULT_HANDSHAKE_TIMEOUT,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HEARTBEAT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
    DEFAULT_PORT,
)
from net.room import RoomConfig

if TYPE_CHECKING:  # the type only: `cryptography` need not load before a host starts
    from net.backbone.config import BackboneConfig
    from net.host.journal import JournalFactory
    from net.protocol.events import ChatMessage, MemberInfo
    from net.secure.identity import Identity

EventSink = Callable[[object], None]


class Transport(enum.Enum):
    TCP = "tcp"
    UDP = "udp"


class ClientState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"


class FailureKind(enum.Enum):
    """Why a client could not connect or was disconnected; the GUI words each one."""

    REFUSED = "refused"  # nothing listens at that address and port
    TIMEOUT = "timeout"  # no answer in time
    UNREACHABLE = "unreachable"  # no route to the host / network down
    RESOLVE = "resolve"  # the host name could not be looked up
    VERSION = "version_mismatch"
    NICK_TAKEN = "nick_taken"
    NICK_INVALID = "nick_invalid"
    ROOM_FULL = "room_full"
    PASSWORD = "bad_password"
    PROTOCOL = "protocol"  # the peer broke the protocol
    ENCRYPTION = "encryption"  # the TLS handshake failed (an old host, or not a LanChat host)
    KEY_CHANGED = "key_changed"  # the room's key is not the one pinned at the first join
    KEY_MISMATCH = "key_mismatch"  # the room's key is not the one the invite's code names
    HOST_LEFT = "host_left"  # the host said bye (stopped)
    HANDED_OVER = "handed_over"  # the host left and handed the room over: the client follows it
    KICKED = "kicked"  # the host closed this member (e.g. flooding, replaced)
    TIMED_OUT_BY_HOST = "timed_out_by_host"  # the host heard nothing from this member for too long
    LOST = "lost"  # the connection dropped (reset, heartbeat timeout)
    CLOSED = "closed"  # this side closed it


#: Failures after which reconnecting cannot help: the client stops instead.
FINAL_FAILURES = frozenset(
    {
        FailureKind.VERSION,
        FailureKind.NICK_TAKEN,
        FailureKind.NICK_INVALID,
        FailureKind.ROOM_FULL,
        FailureKind.PASSWORD,
        FailureKind.CLOSED,
        FailureKind.KEY_CHANGED,
        FailureKind.KEY_MISMATCH,
        FailureKind.ENCRYPTION,
    }
)


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The client's connection state changed. `retry_in` counts down a reconnect."""

    state: ClientState
    reason: str = ""
    failure: FailureKind | None = None
    retry_in: float | None = None


@dataclass(frozen=True, slots=True)
class Delivered:
    """The host acknowledged the message this client queued as `local_id`."""

    local_id: str
    msg_id: str
    time: float


@dataclass(frozen=True, slots=True)
class DeliveryFailed:
    """The message `local_id` will not be delivered (refused by the host, or given up)."""

    local_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class HostVerified:
    """The host proved its key (TLS) and it is the one expected: pinned, from the invite's
    code, or seen for the first time (`first_use`: the owner pins it now)."""

    fingerprint: bytes
    first_use: bool


@dataclass(frozen=True, slots=True)
class KeyRejected:
    """The host's key is not the expected one; nothing was sent. `expected_code` is the
    pinned or invited code, `fingerprint` what the host presented. The owner may ask the
    user and, if they confirm, join again with the new key pinned."""

    expected_code: str
    fingerprint: bytes
    failure: FailureKind


@dataclass(frozen=True, slots=True)
class RoomMoved:
    """The room, known by its key, is now hosted elsewhere (its host came back on the other
    transport, or at another address or port): the client connects there from now on. Only
    with `ClientConfig.follow_room`; the host must still prove the key pinned before."""

    transport: Transport
    host: str
    port: int
    #: Set when the room moved because its host handed it over or vanished: the nickname
    #: of the member who hosts it now (docs/PROTOCOL.md, "Handover").
    new_host: str | None = None


@dataclass(frozen=True, slots=True)
class Takeover:
    """What a member that takes the room over starts its host with: the room's name, its
    new epoch, and the recent room messages it received (oldest first)."""

    room: str
    epoch: int
    history: tuple[ChatMessage, ...]
    members: tuple[MemberInfo, ...]


@dataclass(frozen=True, slots=True)
class HostOffer:
    """This member can take the room over: it would host on `port` with the key whose
    fingerprint is `key`; `start` starts that host (raises HostStartError)."""

    port: int
    key: bytes
    start: Callable[[Takeover], None]


@dataclass(frozen=True, slots=True)
class LatencyMeasured:
    """Round-trip time measured by the heartbeat."""

    seconds: float


@dataclass(frozen=True, slots=True)
class HostStopped:
    """A host owned by this process stopped (by request or because it failed)."""

    reason: str


class HostStartError(Exception):
    """The host could not start; the message is a sentence for the user (port in use, ...)."""


@dataclass(slots=True)
class HostConfig:
    port: int = DEFAULT_PORT  # 0 picks a free port
    bind: str = ""  # "" = every interface, IPv4 and IPv6 where the OS allows
    room: RoomConfig = field(default_factory=RoomConfig)
    heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT
    #: This installation's key and certificate: the host serves TLS with it, and the room
    #: is known by its fingerprint. None: no TLS at all (plain text only; tests of the
    #: plain protocol, benchmarks of it).
    identity: Identity | None = None
    #: Also serve unencrypted connections (`nc`, telnet) next to TLS; everyone is told.
    allow_plaintext: bool = False
    #: Open connections (members and connections still saying hello) one source address
    #: may hold; more are turned away (0: no cap).
    max_connections_per_address: int = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS
    #: Opens the room's journal (`net.host.journal`): its recent messages and the messages
    #: kept for members who are away survive a restart, and nothing is acknowledged before
    #: it is written. None: the room lives in memory only.
    journal: JournalFactory | None = None
    #: Name successors among the members and hand the room over when stopping
    #: (docs/PROTOCOL.md, "Handover"; needs an identity to sign with).
    handover: bool = True
    #: The room's epoch: 0 for a new room, one more than the old host's for a takeover.
    epoch: int = 0
    #: Recent room messages a successor starts with (oldest first): what it received.
    seed_history: tuple[ChatMessage, ...] = ()
    #: Serve the room together with the other hosts of a NATS JetStream backbone
    #: (`net.backbone`): its stream holds the history, so no journal is kept. None: alone.
    backbone: BackboneConfig | None = None


@dataclass(slots=True)
class ClientConfig:
    host: str
    port: int = DEFAULT_PORT
    nick: str = ""
    client_id: str = ""  # stable for the life of the program; generated when empty
    password: str | None = None
    connect_timeout: float = 5.0
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL
    heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT
    reconnect: bool = True
    #: Reconnect delays grow from the first to the last value, then stay there.
    backoff: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)
    #: TLS to the host (the default). Off only to speak to a plain-text host on purpose.
    encrypted: bool = True
    #: The room code from an invite: the host must present the key it names.
    expected_code: str | None = None
    #: The host's fingerprint pinned at an earlier join: it must present that key again.
    pinned: bytes | None = None
    #: Proves this client's session when it reconnects (sent only inside TLS); made when empty.
    resume_secret: str = ""
    #: This installation's lasting secret (sent only inside TLS): the host keeps private
    #: messages for us while we are away and gives them to this secret. Empty: none kept.
    mailbox: str = ""
    #: When a reconnect fails, look on the LAN for the room (by the key the host proved) and
    #: follow it to where it is hosted now, on either transport (reported as `RoomMoved`).
    follow_room: bool = False
    #: Follow the room when its host hands it over or vanishes, to the successors its host
    #: named in a signed list (docs/PROTOCOL.md, "Handover").
    follow_handover: bool = False
    #: This member can take the room over (a window's member; never a terminal's).
    host_offer: HostOffer | None = None
    #: The owner reads file notices (passes events through `net.files.transfers`): announced
    #: in the hello, and the host sends `file` frames only to members that announced it.
    files: bool = False
    #: Not a member: only ask the host where the room is (its signed successor list), as a
    #: host that comes back does (`net.host.returning`).
    look: bool = False


class ChatHost(Protocol):
    """A running host. Methods are for the owner; only `start` may raise."""

    @property
    def port(self) -> int: ...

    def start(self) -> None:
        """Bind and start serving; raises HostStartError with a sentence for the user."""

    def stop(self, reason: str = "host stopped") -> None:
        """Tell every member, close every socket and join every thread within 2 s."""


class ChatClient(Protocol):
    """A member's connection to a host. Every method is thread-safe and never blocks long."""

    @property
    def state(self) -> ClientState: ...

    @property
    def nick(self) -> str: ...

    @property
    def pending(self) -> list[str]:
        """Local ids of messages typed but not yet acknowledged by the host."""

    def start(self) -> None:
        """Begin connecting in the background; progress arrives as StateChanged events."""

    def send_message(self, text: str, *, to: str | None = None, action: bool = False) -> str:
        """Queue a message in the outbox and return its local id (see Delivered)."""

    def rename(self, nick: str) -> None: ...

    def set_typing(self, active: bool, to: str | None = None) -> None: ...

    def request_members(self) -> None: ...

    def close(self, reason: str = "") -> None:
        """Say bye, stop reconnecting and join the client's threads within 2 s."""
