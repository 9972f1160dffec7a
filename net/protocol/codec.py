"""Encoding events to newline-delimited JSON and decoding them back, with full validation.

Newline-delimited JSON was chosen over a length prefix because JSON never contains a raw
newline (it escapes it), so a newline is an unambiguous frame end that a person can also
type: `nc HOST PORT` clients share the port (see `textmode.py`), captures are readable, and
any language can speak the protocol with its standard library.

Decoding never trusts the peer: UTF-8 is checked strictly on complete frames only, JSON
constants such as NaN are refused, nesting depth is bounded by the parser's recursion
guard, and every field is checked for type, size and allowed characters.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from net.files.limits import MAX_NAMES_IN_OFFER
from net.protocol import events as ev
from net.protocol.errors import DecodeError
from net.protocol.limits import (
    MAX_FRAME_BYTES,
    MAX_HISTORY_IN_WELCOME,
    MAX_ID_CHARS,
    MAX_MAIL_IN_FRAME,
    MAX_MEMBERS_IN_LIST,
    MAX_PASSWORD_CHARS,
    MAX_REASON_CHARS,
    MAX_ROOM_NAME_CHARS,
    MAX_TEXT_CHARS,
)

# --- field checks ------------------------------------------------------------------------

#: Loose nickname bound for the codec; the room applies the real nickname rules so that it
#: can answer with a `refuse`/`error` that names the problem.
_NICK_FIELD_CHARS = 4 * 24


#: Control characters (C0, DEL, C1) and lone surrogates; the second pattern lets newline and
#: tab through. A regex scans in C: this check runs on every text of every message.
BAD_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
BAD_CHARS_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def has_bad_chars(value: str, allow_newlines: bool = False) -> bool:
    """True when `value` holds a control character (C0, DEL, C1) or a lone surrogate.

    C1 controls count too: U+009B is a terminal's escape-sequence introducer, and plain-text
    peers print what they receive. Only newline and tab pass, and only in message texts.
    """
    pattern = BAD_CHARS_IN_TEXT if allow_newlines else BAD_CHARS
    return pattern.search(value) is not None


def _string(
    max_chars: int, *, allow_empty: bool = False, allow_newlines: bool = False
) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise DecodeError("bad_field", "expected a string")
        if not value and not allow_empty:
            raise DecodeError("bad_field", "must not be empty")
        if len(value) > max_chars:
            raise DecodeError("too_long", f"longer than {max_chars} characters")
        if has_bad_chars(value, allow_newlines):
            raise DecodeError("bad_field", "contains control characters or invalid code points")
        return value

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise DecodeError("bad_field", "expected true or false")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**53) <= value <= 2**53:
        raise DecodeError("bad_field", "expected an integer")
    return value


def _number(value: Any) -> float:
    # Integers are range-checked before float(): JSON allows 10**400, which float() refuses.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DecodeError("bad_field", "expected a number")
    if isinstance(value, int) and not -(2**53) <= value <= 2**53:
        raise DecodeError("bad_field", "number out of range")
    if not math.isfinite(value):
        raise DecodeError("bad_field", "expected a finite number")
    return float(value)


def _list_of(item_check: Callable[[Any], Any], max_items: int) -> Callable[[Any], tuple[Any, ...]]:
    def check(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise DecodeError("bad_field", "expected a list")
        if len(value) > max_items:
            raise DecodeError("too_long", f"more than {max_items} items")
        return tuple(item_check(item) for item in value)

    return check


_id = _string(MAX_ID_CHARS)
_nick = _string(_NICK_FIELD_CHARS)
_text = _string(MAX_TEXT_CHARS, allow_newlines=True)
_short = _string(MAX_REASON_CHARS, allow_empty=True)
_code = _string(64)


@dataclass(frozen=True, slots=True)
class _Field:
    attr: str
    check: Callable[[Any], Any]
    required: bool = True
    key: str | None = None  # the JSON key when it differs from the attribute name

    @property
    def wire_key(self) -> str:
        return self.key or self.attr


def _record(cls: type, fields: tuple[_Field, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            raise DecodeError("bad_field", "expected an object")
        return cls(**_read_fields(value, fields))

    return check


_MEMBER_FIELDS = (
    _Field("nick", _nick),
    _Field("host", _boolean, required=False),
    _Field("since", _number, required=False),
    _Field("plaintext", _boolean, required=False),
)
_MESSAGE_FIELDS = (
    _Field("id", _id),
    _Field("sender", _nick, key="from"),
    _Field("text", _text),
    _Field("time", _number),
    _Field("to", _nick, required=False),
    _Field("action", _boolean, required=False),
)
_member = _record(ev.MemberInfo, _MEMBER_FIELDS)
_message = _record(ev.ChatMessage, _MESSAGE_FIELDS)
_members = _list_of(_member, MAX_MEMBERS_IN_LIST)

#: A file transfer's control fields, the same both ways (docs/PROTOCOL.md, "File transfers").
_FILE_FIELDS = (
    _Field("op", _code),
    _Field("offer", _id),
    _Field("to", _nick, required=False),
    _Field("names", _list_of(_string(MAX_REASON_CHARS), MAX_NAMES_IN_OFFER), required=False),
    _Field("count", _integer, required=False),
    _Field("size", _integer, required=False),
    _Field("port", _integer, required=False),
    _Field("key", _code, required=False),
    _Field("token", _id, required=False),
    _Field("reason", _short, required=False),
)

#: A successor list (docs/PROTOCOL.md, "Handover"): `successors` and `handover` alike.
_ENTRY_FIELDS = (
    _Field("nick", _nick),
    _Field("addresses", _list_of(_short, 8)),
    _Field("port", _integer),
    _Field("transport", _code),
    _Field("key", _code),
)
_SUCCESSION_FIELDS = (
    _Field("epoch", _integer),
    _Field("room", _string(MAX_ROOM_NAME_CHARS, allow_empty=True)),
    _Field("successors", _list_of(_record(ev.SuccessorEntry, _ENTRY_FIELDS), 8)),
    _Field("cert", _string(4096)),
    _Field("sig", _string(512)),
)

#: What a client may send, and the fields of each kind.
CLIENT_SCHEMA: dict[type[ev.Event], tuple[_Field, ...]] = {
    ev.Hello: (
        _Field("version", _integer),
        _Field("nick", _nick),
        _Field("client_id", _id),
        _Field("password", _string(MAX_PASSWORD_CHARS, allow_empty=True), required=False),
        _Field("resume", _id, required=False),
        _Field("mailbox", _id, required=False),
        _Field("handover", _boolean, required=False),
        _Field("host_port", _integer, required=False),
        _Field("host_key", _code, required=False),
        _Field("files", _boolean, required=False),
        _Field("look", _boolean, required=False),
    ),
    ev.Say: (
        _Field("id", _id),
        _Field("text", _text),
        _Field("to", _nick, required=False),
        _Field("action", _boolean, required=False),
    ),
    ev.Rename: (_Field("nick", _nick),),
    ev.Typing: (_Field("active", _boolean), _Field("to", _nick, required=False)),
    ev.Who: (),
    ev.Got: (_Field("ids", _list_of(_id, MAX_MAIL_IN_FRAME)),),
    ev.FileControl: _FILE_FIELDS,
    ev.Ping: (_Field("token", _short, required=False),),
    ev.Pong: (_Field("token", _short, required=False),),
    ev.Bye: (_Field("reason", _short, required=False),),
}

#: What a host may send, and the fields of each kind.
HOST_SCHEMA: dict[type[ev.Event], tuple[_Field, ...]] = {
    ev.Welcome: (
        _Field("version", _integer),
        _Field("nick", _nick),
        _Field("room", _string(MAX_ROOM_NAME_CHARS, allow_empty=True)),
        _Field("members", _members, required=False),
        _Field("history", _list_of(_message, MAX_HISTORY_IN_WELCOME), required=False),
        _Field("time", _number, required=False),
        _Field("heartbeat", _number, required=False),
        _Field("rate", _number, required=False),
        _Field("burst", _integer, required=False),
        _Field("hosts", _list_of(_short, 16), required=False),
    ),
    ev.Refuse: (_Field("code", _code), _Field("text", _short)),
    ev.ChatMessage: _MESSAGE_FIELDS,
    ev.Ack: (_Field("id", _id), _Field("msg_id", _id), _Field("time", _number)),
    ev.Held: (
        _Field("id", _id),
        _Field("msg_id", _id),
        _Field("time", _number),
        _Field("to", _nick),
        _Field("expires", _number),
    ),
    ev.Mail: (_Field("messages", _list_of(_message, MAX_MAIL_IN_FRAME)),),
    ev.Delivered: (_Field("msg_id", _id), _Field("to", _nick), _Field("time", _number)),
    ev.Joined: (
        _Field("nick", _nick),
        _Field("time", _number),
        _Field("host", _boolean, required=False),
        _Field("plaintext", _boolean, required=False),
    ),
    ev.Left: (
        _Field("nick", _nick),
        _Field("time", _number),
        _Field("reason", _short, required=False),
        _Field("cause", _code, required=False),
    ),
    ev.Renamed: (_Field("old", _nick), _Field("new", _nick), _Field("time", _number)),
    ev.Members: (_Field("members", _members),),
    ev.TypingNotice: (
        _Field("nick", _nick),
        _Field("active", _boolean),
        _Field("to", _nick, required=False),
    ),
    ev.Error: (
        _Field("code", _code),
        _Field("text", _short),
        _Field("ref", _id, required=False),
        _Field("retry_after", _number, required=False),
    ),
    ev.FileNotice: (
        *_FILE_FIELDS[:2],
        _Field("sender", _nick, key="from"),
        _Field("time", _number),
        *_FILE_FIELDS[2:],
        _Field("address", _short, required=False),
    ),
    ev.Successors: _SUCCESSION_FIELDS,
    ev.Handover: _SUCCESSION_FIELDS,
    ev.Ping: (_Field("token", _short, required=False),),
    ev.Pong: (_Field("token", _short, required=False),),
    ev.Bye: (_Field("reason", _short, required=False), _Field("cause", _code, required=False)),
}

_NESTED_FIELDS: dict[type, tuple[_Field, ...]] = {
    ev.MemberInfo: _MEMBER_FIELDS,
    ev.SuccessorEntry: _ENTRY_FIELDS,
}
_CLIENT_BY_TYPE: dict[str, type[ev.Event]] = {cls.TYPE: cls for cls in CLIENT_SCHEMA}
_HOST_BY_TYPE: dict[str, type[ev.Event]] = {cls.TYPE: cls for cls in HOST_SCHEMA}
_ALL_FIELDS = {**CLIENT_SCHEMA, **HOST_SCHEMA}


def _read_fields(obj: dict[str, Any], fields: tuple[_Field, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in fields:
        raw = obj.get(spec.wire_key)
        if raw is None:
            if spec.required:
                raise DecodeError("bad_field", f"field {spec.wire_key!r} is missing")
            continue
        try:
            values[spec.attr] = spec.check(raw)
        except DecodeError as exc:
            raise DecodeError(exc.code, f"field {spec.wire_key!r}: {exc.text}") from None
    return values


# --- decoding ----------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise DecodeError("bad_json", f"{name} is not allowed")


#: One strict decoder for every frame: `json.loads` with an argument builds a new decoder
#: (and scanner) per call, which the host's readers would pay on every message.
_from_json = json.JSONDecoder(parse_constant=_refuse_constant).decode


def parse_frame(frame: bytes) -> dict[str, Any]:
    """Parse one complete frame into a JSON object, strictly (UTF-8, no NaN, bounded depth)."""
    if len(frame) > MAX_FRAME_BYTES:
        raise DecodeError("frame_too_large", f"frame exceeds {MAX_FRAME_BYTES} bytes")
    try:
        text = frame.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("bad_utf8", "frame is not valid UTF-8") from None
    try:
        obj = _from_json(text)
    except RecursionError:
        raise DecodeError("bad_json", "JSON nested too deeply") from None
    except ValueError as exc:
        if isinstance(exc, DecodeError):
            raise
        raise DecodeError("bad_json", f"invalid JSON: {exc.args[0] if exc.args else exc}") from None
    if not isinstance(obj, dict):
        raise DecodeError("bad_json", "a frame must be a JSON object")
    return obj


def event_from_object(obj: dict[str, Any], *, from_host: bool) -> ev.Event:
    """Build and validate the event a JSON object describes, for the given direction."""
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise DecodeError("bad_field", "field 'type' is missing")
    table = _HOST_BY_TYPE if from_host else _CLIENT_BY_TYPE
    cls = table.get(kind)
    if cls is None:
        raise DecodeError("unknown_type", f"unknown message type {kind[:40]!r}")
    schema = HOST_SCHEMA if from_host else CLIENT_SCHEMA
    return cls(**_read_fields(obj, schema[cls]))


def decode_frame(frame: bytes, *, from_host: bool) -> ev.Event:
    """Decode one complete frame (without its newline) sent by a host or by a client."""
    return event_from_object(parse_frame(frame), from_host=from_host)


# --- encoding ----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, ev.MemberInfo | ev.ChatMessage | ev.SuccessorEntry):
        return event_to_object(value, include_type=False)
    return value


def event_to_object(event: Any, *, include_type: bool = True) -> dict[str, Any]:
    """The JSON object for an event; None, and optional false flags and empty lists, are left out.

    Required fields are always written, even when false or empty (``"active":false``).
    """
    fields = _ALL_FIELDS.get(type(event), _NESTED_FIELDS.get(type(event)))
    if fields is None:
        raise TypeError(f"{type(event).__name__} is not a protocol event")
    obj: dict[str, Any] = {"type": event.TYPE} if include_type else {}
    for spec in fields:
        value = getattr(event, spec.attr)
        if value is None or (not spec.required and (value is False or value == ())):
            continue
        obj[spec.wire_key] = _plain(value)
    return obj


def json_number(value: Any) -> str:
    """A number as the JSON encoder writes it (`float.__repr__` for finite floats)."""
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)
    return to_json(value)


to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
#: The C string escaper `to_json` itself uses (ensure_ascii=False).
json_string = json.encoder.encode_basestring


def check_frame_size(kind: str, size: int) -> None:
    if size > MAX_FRAME_BYTES:
        raise ValueError(f"{kind} frame of {size} bytes exceeds {MAX_FRAME_BYTES}")


def encode_event(event: ev.Event) -> bytes:
    """One frame: compact JSON, UTF-8 (not ASCII-escaped), newline-terminated."""
    data = to_json(event_to_object(event)).encode("utf-8")
    check_frame_size(event.TYPE, len(data))
    return data + b"\n"
