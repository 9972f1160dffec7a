"""The transfer stream's codec, sans I/O: bytes in, events out (and events to bytes).

A transfer stream runs inside TLS and carries records: one kind byte, a 4-byte big-endian
length, and that many bytes of compact UTF-8 JSON. A file record (`F`) is followed by the
raw bytes it announces, unframed: the length is known, so a 1 GiB file costs one header,
and ten thousand small files one header each in one stream, never a round trip each.

    receiver -> sender   Q request {v, offer, member, token}
    sender -> receiver   M entry {path, size, sha256} or {path, dir}, ...,  N end {count, total}
    receiver -> sender   W wanted {want: [[index, offset], ...]}
    sender -> receiver   F {i, offset, length} + length raw bytes, ...,  D done {}
    either way           X error {code, text}, then the stream ends
    either, to the host  R relay {v, ticket} (a relayed leg's first record; net.files.relay)
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from net.files.limits import MAX_RECORD_BYTES

REQUEST, ENTRY, MANIFEST_END, WANTED, FILE, DONE, ERROR = (b"Q", b"M", b"N", b"W", b"F", b"D", b"X")
RELAY = b"R"  # to the host's relay: {v, ticket}, the first record of a relayed leg
KINDS = frozenset((REQUEST, ENTRY, MANIFEST_END, WANTED, FILE, DONE, ERROR, RELAY))
_HEADER = struct.Struct(">cI")


class StreamError(Exception):
    """The peer broke the stream's rules (or said so with an `X` record); `code` names it."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


@dataclass(frozen=True, slots=True)
class Record:
    """A control record: its kind (one of KINDS) and its JSON object."""

    kind: bytes
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Data:
    """Bytes of the file announced by the last `F` record (a slice of what was fed)."""

    data: memoryview


@dataclass(frozen=True, slots=True)
class FileEnd:
    """Every byte the last `F` record announced has arrived."""


Event = Record | Data | FileEnd
_FILE_END = FileEnd()


def encode_record(kind: bytes, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(payload) > MAX_RECORD_BYTES:
        raise ValueError(f"a {kind!r} record of {len(payload)} bytes exceeds {MAX_RECORD_BYTES}")
    return _HEADER.pack(kind, len(payload)) + payload


def file_header(index: int, offset: int, length: int) -> bytes:
    return encode_record(FILE, {"i": index, "offset": offset, "length": length})


class StreamDecoder:
    """Turns the bytes of one direction of a stream into events (not thread-safe).

    Holds at most one incomplete record (bounded by `max_record`) besides what it is fed;
    file bytes are handed out as slices of the fed buffer, never collected."""

    def __init__(self, *, max_record: int = MAX_RECORD_BYTES) -> None:
        self._max = max_record
        self._pending = bytearray()
        self._file_left = 0  # raw bytes of the current file still to come

    @property
    def in_file(self) -> bool:
        return self._file_left > 0

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """The events `data` completes; raises StreamError for a malformed record (an `X`
        record from the peer is raised too, with the peer's code and text)."""
        view = memoryview(data)
        events: list[Event] = []
        while view:
            if self._file_left:
                take = min(self._file_left, len(view))
                events.append(Data(view[:take]))
                view = view[take:]
                self._file_left -= take
                if not self._file_left:
                    events.append(_FILE_END)
                continue
            target = self._record_size() or _HEADER.size
            missing = target - len(self._pending)
            self._pending += view[:missing]
            view = view[missing:]
            if len(self._pending) < target:
                break  # everything fed is kept: the record is not complete yet
            size = self._record_size()
            if size is not None and len(self._pending) == size:
                self._take_record(events)
        return events

    def _record_size(self) -> int | None:
        if len(self._pending) < _HEADER.size:
            return None
        kind, length = _HEADER.unpack_from(self._pending)
        if kind not in KINDS:
            raise StreamError("bad_record", f"unknown record kind {kind!r}")
        if length > self._max:
            raise StreamError("record_too_large", f"a record of {length} bytes exceeds {self._max}")
        return int(_HEADER.size + length)

    def _take_record(self, events: list[Event]) -> None:
        kind = bytes(self._pending[:1])
        payload = bytes(self._pending[_HEADER.size :])
        self._pending.clear()
        try:
            body = json.loads(payload.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise StreamError("bad_json", f"a {kind.decode()} record is not valid JSON") from None
        if not isinstance(body, dict):
            raise StreamError("bad_json", "a record must hold a JSON object")
        if kind == ERROR:
            raise StreamError(_text(body.get("code"), "error"), _text(body.get("text"), "the peer gave up"))
        if kind == FILE:
            length = body.get("length")
            if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                raise StreamError("bad_record", "a file record without a valid length")
            self._file_left = length
        events.append(Record(kind, body))
        if kind == FILE and not self._file_left:
            events.append(_FILE_END)  # an empty file: nothing follows its header


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _text(value: Any, default: str) -> str:
    """A short printable string from the peer, or `default`."""
    if not isinstance(value, str) or not value:
        return default
    return "".join(char if char.isprintable() else "?" for char in value[:300])
