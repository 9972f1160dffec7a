"""The discovery datagrams: probe, announce, answer and goodbye, encoded as small JSON.

Every discovery datagram starts with the line ``LANCHAT/DISCOVERY`` followed by one JSON
object. The magic line lets a UDP chat host, which receives probes on its chat socket, tell a
discovery datagram from a chat datagram by its first bytes (`is_discovery_datagram`) and
lets a person reading a capture see what it is. The JSON carries a format version ``v``;
receivers read the fields they know and ignore the rest, so later versions can add fields.
An incompatible format would change the magic line instead. Since version 2 every room
datagram carries the room's key (its host's certificate fingerprint); see `RoomInfo`.

Decoding never trusts the sender: the size is bounded before anything is parsed, UTF-8 and
JSON are parsed strictly, every field is checked for type, range and characters, and a
datagram that fails any check raises `DiscoveryDecodeError` (callers log it at debug level
and drop it). Nothing here touches a socket.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from net.api import Transport
from net.protocol.limits import DEFAULT_PORT, MAX_ROOM_NAME_CHARS, PROTOCOL_VERSION

#: First bytes of every discovery datagram.
MAGIC = b"LANCHAT/DISCOVERY\n"
#: Version of the discovery format (not of the chat protocol, which `protocol` carries).
#: 2: announcements, answers and goodbyes carry the room's key; those without one are refused.
DISCOVERY_FORMAT_VERSION = 2
#: Largest discovery datagram sent or accepted: one unfragmented datagram on any LAN.
MAX_DATAGRAM_BYTES = 1200
#: Port that browsers listen on (shared, SO_REUSEADDR) for broadcast/multicast announcements.
DISCOVERY_PORT = DEFAULT_PORT - 1
#: Probes go to this many chat ports from DEFAULT_PORT on, so hosts that took the next
#: free port on a PC are found by a probe to that PC's address too.
PROBE_PORT_COUNT = 16
PROBE_PORTS = range(DEFAULT_PORT, DEFAULT_PORT + PROBE_PORT_COUNT)
#: Announcement schedule of a host; a chat is dropped from lists after `ttl` of silence.
DEFAULT_ANNOUNCE_INTERVAL = 5.0
DEFAULT_TTL = 3 * DEFAULT_ANNOUNCE_INTERVAL + 1.0
#: Bounds a receiver enforces on the announced schedule.
MIN_INTERVAL = 0.05
MAX_INTERVAL = 3600.0
#: Most an answerer waits before answering a probe (the probe asks for less or none).
MAX_REPLY_DELAY = 1.0
#: Browsers pad their probes to at least this size: a UDP chat host answers a datagram on
#: its chat port with at most three times its size (it cannot know that the prober's address
#: is not forged; QUIC's anti-amplification rule), and an answer is at most MAX_DATAGRAM_BYTES.
PROBE_MIN_BYTES = MAX_DATAGRAM_BYTES // 3
#: Loose bound on the host nickname (the room enforces the real rules).
_NICK_FIELD_CHARS = 96
_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
#: A room's key is the SHA-256 fingerprint of its host's certificate: 32 bytes, 64 hex digits.
KEY_BYTES = 32
_KEY_PATTERN = re.compile(r"[0-9a-fA-F]{64}")
_MAX_MEMBERS = 1_000_000
_MAX_PROTOCOL = 10_000

log = logging.getLogger(__name__)


class DiscoveryDecodeError(ValueError):
    """A datagram that is not a valid discovery datagram (foreign, damaged or hostile)."""


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """What a host tells browsers about its chat. The address is where the datagram came from.

    `key` is the room's identity: the fingerprint (SHA-256 of the DER certificate) of the
    host's installation. In a datagram it is only a claim; a client checks it against the
    certificate the host presents when it connects.
    """

    room: str
    nick: str
    transport: Transport
    port: int
    host_id: str
    key: bytes
    members: int = 0
    password: bool = False
    protocol: int = PROTOCOL_VERSION
    interval: float = DEFAULT_ANNOUNCE_INTERVAL
    ttl: float = DEFAULT_TTL


@dataclass(frozen=True, slots=True)
class Probe:
    """ "Which chats are here?" `max_delay` is how long an answerer may wait (jitter)."""

    probe_id: str
    max_delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Announcement:
    """A host's room info: periodic (`answer_to` None) or the answer to probe `answer_to`."""

    info: RoomInfo
    answer_to: str | None = None


@dataclass(frozen=True, slots=True)
class Goodbye:
    """The host at the sender's address stopped; drop its chat at that address from lists now."""

    host_id: str
    transport: Transport
    port: int
    key: bytes


Datagram = Probe | Announcement | Goodbye


def new_host_id() -> str:
    """A random id for one run of a host; it tells two hosts apart even on one address."""
    return secrets.token_hex(8)


def new_probe_id() -> str:
    return secrets.token_hex(6)


def is_discovery_datagram(data: bytes) -> bool:
    """True when `data` is meant for discovery (a UDP chat host routes it here)."""
    return data[: len(MAGIC)] == MAGIC


# --- encoding ----------------------------------------------------------------------------


def _info_fields(info: RoomInfo) -> dict[str, Any]:
    return {
        "room": info.room,
        "nick": info.nick,
        "transport": Transport(info.transport).value,
        "port": info.port,
        "protocol": info.protocol,
        "members": info.members,
        "password": info.password,
        "host_id": info.host_id,
        "key": info.key.hex(),
        "interval": info.interval,
        "ttl": info.ttl,
    }


def encode_datagram(message: Datagram) -> bytes:
    """The bytes of one discovery datagram; raises ValueError if it would not fit or is invalid."""
    obj: dict[str, Any] = {"v": DISCOVERY_FORMAT_VERSION}
    if isinstance(message, Probe):
        obj.update(type="probe", id=message.probe_id, mx=round(message.max_delay, 3))
    elif isinstance(message, Announcement):
        obj["type"] = "announce" if message.answer_to is None else "answer"
        if message.answer_to is not None:
            obj["probe"] = message.answer_to
        obj.update(_info_fields(message.info))
    elif isinstance(message, Goodbye):
        obj.update(
            type="goodbye",
            host_id=message.host_id,
            transport=Transport(message.transport).value,
            port=message.port,
            key=message.key.hex(),
        )
    else:
        raise TypeError(f"{type(message).__name__} is not a discovery datagram")
    data = MAGIC + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_DATAGRAM_BYTES:
        raise ValueError(f"discovery datagram of {len(data)} bytes exceeds {MAX_DATAGRAM_BYTES}")
    # Round-trip through the decoder so that a host never announces what browsers would refuse.
    decode_datagram(data)
    return data


def encode_probe(probe: Probe) -> bytes:
    """A probe as browsers send it: padded with spaces after the JSON (which every decoder
    accepts, old ones too) to PROBE_MIN_BYTES."""
    return encode_datagram(probe).ljust(PROBE_MIN_BYTES, b" ")


# --- decoding ----------------------------------------------------------------------------


def _text(obj: dict[str, Any], key: str, max_chars: int, *, allow_empty: bool = False) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise DiscoveryDecodeError(f"field {key!r} must be a string")
    if not value and not allow_empty:
        raise DiscoveryDecodeError(f"field {key!r} is empty")
    if len(value) > max_chars:
        raise DiscoveryDecodeError(f"field {key!r} is longer than {max_chars} characters")
    for char in value:
        code = ord(char)
        if code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
            raise DiscoveryDecodeError(f"field {key!r} contains control characters")
    return value


def _identifier(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not _ID_PATTERN.fullmatch(value):
        raise DiscoveryDecodeError(f"field {key!r} must be 1-64 letters, digits or _.:-")
    return value


def _key(obj: dict[str, Any]) -> bytes:
    value = obj.get("key")
    if value is None:
        raise DiscoveryDecodeError(
            "no room key (a LanChat from before discovery version 2): not listed, it cannot be told"
            " apart from a copy"
        )
    if not isinstance(value, str) or not _KEY_PATTERN.fullmatch(value):
        raise DiscoveryDecodeError(f"field 'key' must be {2 * KEY_BYTES} hex digits")
    return bytes.fromhex(value)


def _integer(obj: dict[str, Any], key: str, low: int, high: int) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DiscoveryDecodeError(f"field {key!r} must be an integer from {low} to {high}")
    return value


def _number(obj: dict[str, Any], key: str, low: float, high: float) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DiscoveryDecodeError(f"field {key!r} must be a number")
    if not low <= value <= high:
        raise DiscoveryDecodeError(f"field {key!r} must be from {low} to {high}")
    return float(value)


def _flag(obj: dict[str, Any], key: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise DiscoveryDecodeError(f"field {key!r} must be true or false")
    return value


def _transport(obj: dict[str, Any]) -> Transport:
    try:
        return Transport(obj.get("transport"))
    except ValueError:
        raise DiscoveryDecodeError("field 'transport' must be 'tcp' or 'udp'") from None


def _room_info(obj: dict[str, Any]) -> RoomInfo:
    interval = _number(obj, "interval", MIN_INTERVAL, MAX_INTERVAL)
    ttl = _number(obj, "ttl", MIN_INTERVAL, 3 * MAX_INTERVAL)
    if ttl < interval:
        raise DiscoveryDecodeError("field 'ttl' is shorter than the interval")
    return RoomInfo(
        room=_text(obj, "room", MAX_ROOM_NAME_CHARS, allow_empty=True),
        nick=_text(obj, "nick", _NICK_FIELD_CHARS, allow_empty=True),
        transport=_transport(obj),
        port=_integer(obj, "port", 1, 65535),
        host_id=_identifier(obj, "host_id"),
        key=_key(obj),
        members=_integer(obj, "members", 0, _MAX_MEMBERS),
        password=_flag(obj, "password"),
        protocol=_integer(obj, "protocol", 1, _MAX_PROTOCOL),
        interval=interval,
        ttl=ttl,
    )


def _refuse_constant(name: str) -> Any:
    raise DiscoveryDecodeError(f"JSON constant {name} is not allowed")


def decode_datagram(data: bytes) -> Datagram:
    """Validate and decode one discovery datagram, or raise DiscoveryDecodeError."""
    if len(data) > MAX_DATAGRAM_BYTES:
        raise DiscoveryDecodeError(f"datagram of {len(data)} bytes exceeds {MAX_DATAGRAM_BYTES}")
    if not is_discovery_datagram(data):
        raise DiscoveryDecodeError("not a LanChat discovery datagram (wrong first bytes)")
    try:
        obj = json.loads(data[len(MAGIC) :].decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:
        raise DiscoveryDecodeError("JSON nested too deeply") from None
    except UnicodeDecodeError:
        raise DiscoveryDecodeError("not valid UTF-8") from None
    except ValueError as exc:
        if isinstance(exc, DiscoveryDecodeError):
            raise
        raise DiscoveryDecodeError(f"invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise DiscoveryDecodeError("the payload must be a JSON object")
    _integer(obj, "v", 1, 1_000_000)
    kind = obj.get("type")
    if kind == "probe":
        return Probe(
            probe_id=_identifier(obj, "id"),
            max_delay=_number(obj, "mx", 0.0, 3600.0) if "mx" in obj else 0.0,
        )
    if kind == "announce":
        return Announcement(_room_info(obj))
    if kind == "answer":
        return Announcement(_room_info(obj), answer_to=_identifier(obj, "probe"))
    if kind == "goodbye":
        return Goodbye(
            host_id=_identifier(obj, "host_id"),
            transport=_transport(obj),
            port=_integer(obj, "port", 1, 65535),
            key=_key(obj),
        )
    shown = kind[:40] if isinstance(kind, str) else type(kind).__name__
    raise DiscoveryDecodeError(f"unknown discovery datagram type {shown!r}")


def with_schedule(info: RoomInfo, interval: float, ttl: float) -> RoomInfo:
    """`info` stamped with the announcer's real schedule (browsers expire chats by it)."""
    return replace(info, interval=interval, ttl=ttl)


def handle_discovery_datagram(data: bytes, info: RoomInfo | Callable[[], RoomInfo]) -> bytes | None:
    """The answer to send back when `data` is a probe, else None. Pure: for a UDP chat host.

    A UDP host receives probes on its chat socket; it calls this for every datagram for which
    `is_discovery_datagram` is true and sends the returned bytes (if any) to the sender. An
    `Announcer` given the same socket via `Announcer.feed` adds jitter and goodbyes instead.
    Anything else (announcements of other hosts, garbage) returns None.
    """
    try:
        message = decode_datagram(data)
    except DiscoveryDecodeError as exc:
        log.debug("ignored a discovery datagram: %s", exc)
        return None
    if not isinstance(message, Probe):
        return None
    room = info() if callable(info) else info
    return encode_datagram(Announcement(room, answer_to=message.probe_id))
