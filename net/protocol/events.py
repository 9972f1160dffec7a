"""The protocol's vocabulary: one small frozen dataclass per message kind.

Field names match the JSON keys on the wire (except `sender`, sent as ``from``), so the
codec can stay table-driven. Which side may send which event is decided in `codec.py`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar

# fmt: off
__all__ = [  # (compact: the names are also the classes below)
    "Ack", "Bye", "ChatMessage", "Delivered", "Error", "Event", "FileControl", "FileNotice", "Got",
    "Handover", "Held", "Hello", "Joined", "LeaveCause", "Left", "Mail", "MemberInfo", "Members",
    "Ping", "Pong", "Refuse", "Rename", "Renamed", "Say", "SuccessorEntry", "Successors", "Typing",
    "TypingNotice", "Welcome", "Who",
]
# fmt: on


class LeaveCause(enum.StrEnum):
    """What ended a member's stay or a connection, as the host saw it: the `cause` of `left`
    (told to the others) and of the host's `bye` (told to the member it closes).

    The host decides it (`net.host.driver`, `net.room`), once for both transports, so a
    member cannot pass a crash off as a goodbye nor the reverse. Receivers take a cause they
    do not know (a later host's) as none: the `reason` text still says what happened.
    """

    QUIT = "quit"  # the member said goodbye (`bye`, `/quit`)
    LOST = "lost"  # its connection ended without a goodbye (closed, reset, broken)
    TIMED_OUT = "timed_out"  # the host heard nothing from it for the heartbeat timeout
    REMOVED = "removed"  # the host closed it (flooding, broken input, not reading)
    STOPPED = "stopped"  # (bye only) the host is stopping
    REPLACED = "replaced"  # (bye only) a newer connection of the same member took its place


class Event:
    """Base of every protocol event; `TYPE` is the wire name of the message kind."""

    __slots__ = ()  # so that the slotted events below carry no per-instance dict
    TYPE: ClassVar[str] = ""


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """One entry of a member list."""

    nick: str
    host: bool = False
    since: float = 0.0
    #: Connected without encryption (a host that allows it says so to everyone).
    plaintext: bool = False


# --- client to host -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hello(Event):
    """First frame from a client: who it is and which protocol it speaks."""

    TYPE: ClassVar[str] = "hello"
    version: int
    nick: str
    client_id: str
    password: str | None = None
    #: The client's session secret: a reconnect with the same client id must present it
    #: again to take its place back (sent only inside TLS).
    resume: str | None = None
    #: The client's lasting secret (the same for every run of one installation, sent only
    #: inside TLS): the host keeps private messages for the member while it is away, and
    #: gives them to whoever presents this secret again. Sending it also announces that
    #: the client reads `held`, `mail` and `delivered` (`docs/PROTOCOL.md`).
    mailbox: str | None = None
    #: The client reads `successors` and `handover` and follows the room (docs/PROTOCOL.md,
    #: "Handover"); `host_port` and `host_key` besides: it can take the room over, hosting on
    #: that port with the key of that fingerprint (hex).
    handover: bool = False
    host_port: int | None = None
    host_key: str | None = None
    #: The client reads `file` notices: only then does the host send it any (docs/PROTOCOL.md).
    files: bool = False
    #: Not a member: a host that came back asks where the room is now (docs/PROTOCOL.md,
    #: "One room"). The host answers with its signed `successors` list and a `bye`.
    look: bool = False


@dataclass(frozen=True, slots=True)
class Say(Event):
    """A message the client wants delivered: to the room, or privately when `to` is set.

    `id` is the client's own message id; the host acks it and drops a repeat of it, which is
    what makes resending after a reconnect safe.
    """

    TYPE: ClassVar[str] = "say"
    id: str
    text: str
    to: str | None = None
    action: bool = False


@dataclass(frozen=True, slots=True)
class Rename(Event):
    TYPE: ClassVar[str] = "rename"
    nick: str


@dataclass(frozen=True, slots=True)
class Typing(Event):
    """The client started or stopped typing (to the room, or to one member)."""

    TYPE: ClassVar[str] = "typing"
    active: bool
    to: str | None = None


@dataclass(frozen=True, slots=True)
class Who(Event):
    """Asks the host for the current member list."""

    TYPE: ClassVar[str] = "who"


@dataclass(frozen=True, slots=True)
class Got(Event):
    """The client has the kept messages `ids` (from `mail`): the host forgets them."""

    TYPE: ClassVar[str] = "got"
    ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FileControl(Event):
    """A step of a file transfer, for the host to pass on (docs/PROTOCOL.md, "File
    transfers"): `op` is offer, accept, decline, cancel or grant. An offer without `to` goes
    to the whole room; the other steps go to one member. The file bytes never come here.
    """

    TYPE: ClassVar[str] = "file"
    op: str
    offer: str  # the sender's id for the offer
    to: str | None = None
    names: tuple[str, ...] = ()  # offer: the first names (for the receiver to see)
    count: int | None = None  # offer: files in it
    size: int | None = None  # offer: bytes in all
    port: int | None = None  # offer: the sender's transfer port
    key: str | None = None  # offer: SHA-256 of the sender's certificate (hex)
    token: str | None = None  # grant: the one-time token for `to`
    reason: str | None = None  # decline, cancel: why (optional)


# --- host to client -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Welcome(Event):
    """The host accepted a hello: the assigned nickname, who is here, recent history."""

    TYPE: ClassVar[str] = "welcome"
    version: int
    nick: str
    room: str
    members: tuple[MemberInfo, ...] = ()
    history: tuple[ChatMessage, ...] = ()
    time: float = 0.0
    heartbeat: float = 10.0
    rate: float | None = None  # the per-member rate limit (messages a second), if any
    burst: int | None = None
    #: The room's other hosts on a backbone ("host:port" and the host's key fingerprint in
    #: hex after a space): where a member goes when this host dies (`net.backbone`).
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Refuse(Event):
    """The host refused a hello; the connection closes after it."""

    TYPE: ClassVar[str] = "refuse"
    code: str
    text: str


@dataclass(frozen=True, slots=True)
class ChatMessage(Event):
    """A delivered message. `id` is unique across host restarts; `time` is the host's clock."""

    TYPE: ClassVar[str] = "message"
    id: str
    sender: str
    text: str
    time: float
    to: str | None = None
    action: bool = False

    @property
    def private(self) -> bool:
        return self.to is not None


@dataclass(frozen=True, slots=True)
class Ack(Event):
    """The host took the client's message `id`; it was delivered as `msg_id` at `time`."""

    TYPE: ClassVar[str] = "ack"
    id: str
    msg_id: str
    time: float


@dataclass(frozen=True, slots=True)
class Held(Event):
    """The host took the client's private message `id` for `to`, who is away: it is kept
    as `msg_id` (stamped `time`) and given to `to` on return, until `expires`."""

    TYPE: ClassVar[str] = "held"
    id: str
    msg_id: str
    time: float
    to: str
    expires: float


@dataclass(frozen=True, slots=True)
class Mail(Event):
    """Private messages kept for this member while it was away (oldest first); the client
    answers `got` with their ids."""

    TYPE: ClassVar[str] = "mail"
    messages: tuple[ChatMessage, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivered(Event):
    """The held message `msg_id` reached `to` (it said `got`) at `time`."""

    TYPE: ClassVar[str] = "delivered"
    msg_id: str
    to: str
    time: float


@dataclass(frozen=True, slots=True)
class Joined(Event):
    TYPE: ClassVar[str] = "joined"
    nick: str
    time: float
    host: bool = False
    plaintext: bool = False  # the member connected without encryption


@dataclass(frozen=True, slots=True)
class Left(Event):
    TYPE: ClassVar[str] = "left"
    nick: str
    time: float
    reason: str = ""
    cause: str | None = None  # a `LeaveCause` value; None from hosts before causes


@dataclass(frozen=True, slots=True)
class Renamed(Event):
    TYPE: ClassVar[str] = "renamed"
    old: str
    new: str
    time: float


@dataclass(frozen=True, slots=True)
class Members(Event):
    TYPE: ClassVar[str] = "members"
    members: tuple[MemberInfo, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class TypingNotice(Event):
    """Someone started or stopped typing; `to` is set when it was aimed at you privately."""

    TYPE: ClassVar[str] = "typing"
    nick: str
    active: bool
    to: str | None = None


@dataclass(frozen=True, slots=True)
class Error(Event):
    """Something the peer sent was refused; `ref` names the client message id it concerns."""

    TYPE: ClassVar[str] = "error"
    code: str
    text: str
    ref: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class FileNotice(Event):
    """A member's `FileControl` as the host passes it on: who sent it (`sender`, sent as
    ``from``), when, and for an offer the sender's address as the host sees it."""

    TYPE: ClassVar[str] = "file"
    op: str
    offer: str
    sender: str
    time: float
    to: str | None = None
    names: tuple[str, ...] = ()
    count: int | None = None
    size: int | None = None
    port: int | None = None
    key: str | None = None
    token: str | None = None
    reason: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class SuccessorEntry:
    """A member who can take the room over: where it would host it, and with which key."""

    nick: str
    addresses: tuple[str, ...]
    port: int
    transport: str
    key: str  # the fingerprint (SHA-256 of its certificate), 64 hex digits


@dataclass(frozen=True, slots=True)
class Successors(Event):
    """Who takes the room over if its host goes, in order, signed by the host's key
    (`net.secure.succession`): `cert` is the host's certificate (DER, base64), `sig` the
    ECDSA signature of the canonical encoding of `epoch`, `room` and `successors`."""

    TYPE: ClassVar[str] = "successors"
    epoch: int
    room: str
    successors: tuple[SuccessorEntry, ...]
    cert: str
    sig: str


@dataclass(frozen=True, slots=True)
class Handover(Event):
    """The host is leaving: `successors` holds the one member who hosts the room now (signed
    like `Successors`); members follow it."""

    TYPE: ClassVar[str] = "handover"
    epoch: int
    room: str
    successors: tuple[SuccessorEntry, ...]
    cert: str
    sig: str


# --- either direction ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ping(Event):
    TYPE: ClassVar[str] = "ping"
    token: str = ""

    def reply(self) -> Pong:
        """The pong that answers this ping (keeps heartbeat policy out of transports)."""
        return Pong(token=self.token)


@dataclass(frozen=True, slots=True)
class Pong(Event):
    TYPE: ClassVar[str] = "pong"
    token: str = ""


@dataclass(frozen=True, slots=True)
class Bye(Event):
    """Orderly goodbye; the sender closes after it."""

    TYPE: ClassVar[str] = "bye"
    reason: str = ""
    cause: str | None = None  # from the host: a `LeaveCause` value (clients send none)


# --- fast construction of the kinds a busy host builds per message ------------------------
#
# A frozen dataclass's __init__ sets each field through `object.__setattr__`, a generic
# attribute lookup per field: building a ChatMessage costs 1.4 us, as much as encoding it.
# These set the slots through their descriptors (what that lookup ends in) and cost a third
# of that. They take every field, positionally, and build exactly what the constructor
# builds (a test compares them).

_new = object.__new__
_say_id, _say_text, _say_to, _say_action = (Say.__dict__[n].__set__ for n in ("id", "text", "to", "action"))
_msg_fields = ("id", "sender", "text", "time", "to", "action")
_msg_id, _msg_sender, _msg_text, _msg_time, _msg_to, _msg_action = (
    ChatMessage.__dict__[n].__set__ for n in _msg_fields
)
_ack_id, _ack_msg_id, _ack_time = (Ack.__dict__[n].__set__ for n in ("id", "msg_id", "time"))


def build_say(id: str, text: str, to: str | None, action: bool) -> Say:
    say = _new(Say)
    _say_id(say, id)
    _say_text(say, text)
    _say_to(say, to)
    _say_action(say, action)
    return say


def build_message(id: str, sender: str, text: str, time: float, to: str | None, action: bool) -> ChatMessage:
    message = _new(ChatMessage)
    _msg_id(message, id)
    _msg_sender(message, sender)
    _msg_text(message, text)
    _msg_time(message, time)
    _msg_to(message, to)
    _msg_action(message, action)
    return message


def build_ack(id: str, msg_id: str, time: float) -> Ack:
    ack = _new(Ack)
    _ack_id(ack, id)
    _ack_msg_id(ack, msg_id)
    _ack_time(ack, time)
    return ack
