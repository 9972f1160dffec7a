"""The UDP datagram format: a small, versioned, strictly validated binary header.

Every datagram starts with the magic bytes ``LCUD`` and a version byte, so anything else
arriving on the chat port (a discovery probe, garbage) is told apart at the first bytes
and never mistaken for chat traffic. The header is packed with `struct`; nothing from the
network is ever unpickled or evaluated.

Layout (network byte order; `docs/PROTOCOL.md`, section "UDP transport", quotes it)::

    magic     4s  b"LCUD"
    version   B   3 (2: no address validation; 1: bundles with 2-byte length prefixes)
    kind      B   1 DATA, 2 ACK, 3 RESET, 4 RETRY
    flags     B   bit 0 OPEN (the sender has heard nothing on this connection yet; ACK only)
    sack_len  B   bytes of selective-ack bitmap that follow the fixed part (0..32)
    conn_id   Q   random connection id chosen by the client for one link
    ack       I   next sequence number the sender expects (cumulative ack), mod 2**32
    window    H   how many fragments from `ack` on the sender will buffer
    ts        I   the sender's clock when it sent this datagram, in 0.1 ms units, mod 2**32
    ts_echo   I   `ts` of the newest DATA datagram the sender received (0: none yet)
    -- OPEN (an ACK with the OPEN flag, a client's probe) only --
    token     16s the host's address-validation token, echoed (all zero: none yet)
    sack      sack_len bytes: bit i (LSB first) = fragment ack+1+i has arrived
    -- DATA only --
    seq       I   this fragment's sequence number, mod 2**32
    index     H   position of the fragment in its message (0-based)
    count     H   fragments in the message (1..MAX_FRAGMENTS); 0 marks a bundle: the payload
                  holds whole messages separated by LF (none with an LF; empty ones, such as
                  LF padding at the end, are skipped by receivers)
    payload   1..FRAGMENT_PAYLOAD bytes; a bundle up to BUNDLE_PAYLOAD, as long as the whole
              datagram stays within MAX_DATAGRAM_BYTES (its sender shortens the sack to fit)
    -- RESET only --
    reason    B   ResetReason
    -- RETRY only (host to client, no flags, no bitmap) --
    token     16s the token the client must echo in its next OPEN

Address validation (the host's side is `net.udp.retry`): the host creates a connection only
for an OPEN that echoes a valid token; it answers any other OPEN with a RETRY carrying one.
A RETRY is exactly as large as the smallest OPEN, so answering an OPEN never sends its
(possibly forged) source address more than it sent.
"""

from __future__ import annotations

import enum
import struct
from typing import NamedTuple

from net.protocol.limits import MAX_FRAME_BYTES

MAGIC = b"LCUD"
WIRE_VERSION = 3

#: Largest UDP payload we ever send: well under any LAN MTU (IPv6 minimum 1280), so a
#: datagram is never split into IP fragments, which get lost whole.
MAX_DATAGRAM_BYTES = 1200
#: Bytes of selective-ack bitmap at most (covers 256 fragments after the cumulative ack).
MAX_SACK_BYTES = 32
#: Receive buffers are this large: a datagram is never truncated by a short buffer.
RECEIVE_BUFFER_BYTES = 65_535

_FIXED = struct.Struct("!4sBBBBQIHII")
_DATA = struct.Struct("!IHH")
#: A DATA datagram without a selective-ack bitmap, the bulk of the traffic: parsed in one go.
_PLAIN_DATA = struct.Struct("!4sBBBBQIHIIIHH")
#: The DATA fields after the header (seq, index, count), for shells that pack many fragments.
DATA_FIELDS = _DATA
FIXED_HEADER_BYTES = _FIXED.size  # 30
#: Bytes of an address-validation token (in an OPEN and in a RETRY).
TOKEN_BYTES = 16
#: The token field of an OPEN from a client that has no token yet.
NO_TOKEN = bytes(TOKEN_BYTES)
#: The smallest OPEN (no bitmap) and the only size of a RETRY: the same, so a RETRY never
#: sends an unvalidated address more than it sent.
OPEN_BYTES = RETRY_BYTES = FIXED_HEADER_BYTES + TOKEN_BYTES  # 46
MAX_HEADER_BYTES = FIXED_HEADER_BYTES + MAX_SACK_BYTES + _DATA.size  # 70
#: Payload bytes of one fragment, chosen so that every datagram fits MAX_DATAGRAM_BYTES.
FRAGMENT_PAYLOAD = MAX_DATAGRAM_BYTES - MAX_HEADER_BYTES  # 1130
#: Payload bytes of a bundle at most: what a datagram with an empty sack has room for. A
#: bundle's datagram carries only as much of the sack as still fits (the sack is advisory).
#: Chat frames are ~190 bytes, so this fits six where FRAGMENT_PAYLOAD fits five.
BUNDLE_PAYLOAD = MAX_DATAGRAM_BYTES - FIXED_HEADER_BYTES - _DATA.size  # 1162
#: Fragments of one message at most: enough for the largest protocol frame plus newline.
MAX_FRAGMENTS = -(-(MAX_FRAME_BYTES + 1) // FRAGMENT_PAYLOAD)

SEQ_MODULO = 2**32
#: Timestamp units per second (0.1 ms); the 32-bit clock wraps after about five days.
TS_PER_SECOND = 10_000
OPEN_FLAG = 0x01


class Kind(enum.IntEnum):
    DATA = 1
    ACK = 2
    RESET = 3
    RETRY = 4  # "echo this token to prove you receive at your address"


class ResetReason(enum.IntEnum):
    UNKNOWN_CONNECTION = 0  # "I have no connection with that id" (e.g. the host restarted)
    CLOSED = 1  # orderly close after a bye
    BUSY = 2  # too many connections are opening at once
    PROTOCOL = 3  # the peer broke the datagram rules


class WireError(ValueError):
    """A datagram that is not valid LanChat UDP; the text says why (for debug logs)."""


class Datagram(NamedTuple):
    """One parsed datagram. Sequence and ack fields are the 32-bit wire values.

    A named tuple rather than a frozen dataclass: equally immutable, and several times
    cheaper to build, which counts because every datagram received is parsed into one.
    """

    kind: Kind
    conn_id: int
    ack: int
    window: int
    sack: bytes = b""
    opening: bool = False
    ts: int = 0
    ts_echo: int = 0
    seq: int = 0
    # `index` and `count` shadow tuple's methods of those names on purpose: they are the
    # wire's field names, and nothing here calls the methods.
    index: int = 0  # type: ignore[assignment]
    count: int = 0  # type: ignore[assignment]
    payload: bytes = b""
    reason: ResetReason = ResetReason.UNKNOWN_CONNECTION
    token: bytes = b""  # an OPEN's (NO_TOKEN: none yet) or a RETRY's; empty for the rest


def is_lanchat_datagram(data: bytes) -> bool:
    """True when `data` claims to be ours (starts with the magic), valid or not."""
    return data[:4] == MAGIC


def encode_header(
    kind: Kind,
    conn_id: int,
    ack: int,
    window: int,
    sack: bytes,
    opening: bool,
    ts: int,
    ts_echo: int,
    token: bytes = NO_TOKEN,
) -> bytes:
    """The header up to and including the bitmap (a channel builds it once per batch of datagrams).

    `token` goes only into an OPEN (an ACK with `opening`), whose header always has one.
    """
    if len(sack) > MAX_SACK_BYTES:
        raise ValueError("selective-ack bitmap too long")
    if opening and (kind is not Kind.ACK or len(token) != TOKEN_BYTES):
        raise ValueError(f"only an ACK may be OPEN, and it carries a {TOKEN_BYTES}-byte token")
    return (
        _FIXED.pack(
            MAGIC,
            WIRE_VERSION,
            kind,
            OPEN_FLAG if opening else 0,
            len(sack),
            conn_id,
            ack % SEQ_MODULO,
            window,
            ts % SEQ_MODULO,
            ts_echo % SEQ_MODULO,
        )
        + (token if opening else b"")
        + sack
    )


def encode_fragment(header: bytes, seq: int, index: int, count: int, payload: bytes) -> bytes:
    """A DATA datagram: a DATA header from `encode_header`, then the fragment fields and payload."""
    if not 0 < len(payload) <= (FRAGMENT_PAYLOAD if count else BUNDLE_PAYLOAD):
        raise ValueError(
            f"fragment payload must be 1..{FRAGMENT_PAYLOAD} bytes ({BUNDLE_PAYLOAD} for a bundle)"
        )
    if len(header) + _DATA.size + len(payload) > MAX_DATAGRAM_BYTES:
        raise ValueError("datagram too long (shorten the sack)")
    if not (0 <= index < count <= MAX_FRAGMENTS or index == count == 0):
        raise ValueError("bad fragment index or count")
    return header + _DATA.pack(seq % SEQ_MODULO, index, count) + payload


def encode(datagram: Datagram) -> bytes:
    """The bytes of `datagram`; refuses anything the parser would refuse."""
    d = datagram
    token = (d.token or NO_TOKEN) if d.opening else b""
    header = encode_header(d.kind, d.conn_id, d.ack, d.window, d.sack, d.opening, d.ts, d.ts_echo, token)
    if d.kind is Kind.DATA:
        return encode_fragment(header, d.seq, d.index, d.count, d.payload)
    if d.kind is Kind.RESET:
        return header + bytes((d.reason,))
    if d.kind is Kind.RETRY:
        if d.sack or len(d.token) != TOKEN_BYTES:
            raise ValueError(f"a RETRY carries no bitmap and a {TOKEN_BYTES}-byte token")
        return header + d.token
    return header


def encode_retry(conn_id: int, token: bytes) -> bytes:
    """The RETRY that answers an OPEN of `conn_id` without a valid token (RETRY_BYTES long)."""
    return encode(Datagram(Kind.RETRY, conn_id, 0, 0, token=token))


_KINDS = {kind.value: kind for kind in Kind}
#: Enum members as plain module constants: `Kind.DATA` is an attribute lookup of ~0.1 us on
#: CPython 3.11, and the hot paths (parsing and handling every datagram) look them up often.
DATA_KIND, ACK_KIND, RESET_KIND, RETRY_KIND = Kind.DATA, Kind.ACK, Kind.RESET, Kind.RETRY
_NO_REASON = ResetReason.UNKNOWN_CONNECTION
_new_datagram = tuple.__new__  # builds a Datagram without its Python-level __new__ (3 times cheaper)
_REASONS = {reason.value: reason for reason in ResetReason}


def parse(data: bytes, start: int = 0, end: int | None = None) -> Datagram:
    """Parse and validate one received datagram, `data[start:end]` (a segment of a coalesced
    read, without copying it out first); raises WireError for anything malformed."""
    if end is None:
        end = len(data)
    elif not 0 <= start <= end <= len(data):
        raise ValueError("the datagram's bounds lie outside the buffer")
    size = end - start
    if _PLAIN_DATA.size < size <= MAX_DATAGRAM_BYTES and data[start + 7] == 0 and data[start + 5] == 1:
        # A DATA datagram without a bitmap: every field in one unpack, the same checks as below.
        magic, version, _, flags, _, conn_id, ack, window, ts, ts_echo, seq, index, count = (
            _PLAIN_DATA.unpack_from(data, start)
        )
        if magic != MAGIC:
            raise WireError("bad magic")
        if version != WIRE_VERSION:
            raise WireError(f"unsupported version {version}")
        if flags:
            raise WireError("unknown flags" if flags & ~OPEN_FLAG else "only an ACK may be OPEN")
        if not (index < count <= MAX_FRAGMENTS or index == count == 0):
            raise WireError("bad fragment index or count")
        if count and size - _PLAIN_DATA.size > FRAGMENT_PAYLOAD:
            raise WireError("fragment payload too long")  # a bundle is bounded by the datagram size
        payload = data[start + _PLAIN_DATA.size : end]
        return _new_datagram(
            Datagram,
            (
                DATA_KIND,
                conn_id,
                ack,
                window,
                b"",
                False,
                ts,
                ts_echo,
                seq,
                index,
                count,
                payload,
                _NO_REASON,
                b"",
            ),
        )
    if start or end != len(data):
        data = data[start:end]
    if size > MAX_DATAGRAM_BYTES:
        raise WireError(f"datagram of {size} bytes exceeds {MAX_DATAGRAM_BYTES}")
    if size < FIXED_HEADER_BYTES:
        raise WireError("truncated header")
    magic, version, kind_value, flags, sack_len, conn_id, ack, window, ts, ts_echo = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise WireError("bad magic")
    if version != WIRE_VERSION:
        raise WireError(f"unsupported version {version}")
    kind = _KINDS.get(kind_value)
    if kind is None:
        raise WireError(f"unknown kind {kind_value}")
    if flags & ~OPEN_FLAG:
        raise WireError("unknown flags")
    opening = flags == OPEN_FLAG
    if opening and kind is not ACK_KIND:
        raise WireError("only an ACK may be OPEN")
    if sack_len > MAX_SACK_BYTES:
        raise WireError("selective-ack bitmap too long")
    if kind is RETRY_KIND:
        if sack_len or size != RETRY_BYTES:
            raise WireError(f"a retry carries no bitmap and exactly {TOKEN_BYTES} token bytes")
        return Datagram(kind, conn_id, ack, window, ts=ts, ts_echo=ts_echo, token=data[FIXED_HEADER_BYTES:])
    sack_at = OPEN_BYTES if opening else FIXED_HEADER_BYTES
    offset = sack_at + sack_len
    if size < offset:
        raise WireError("truncated token or selective-ack bitmap")
    sack = data[sack_at:offset] if sack_len else b""
    if kind is DATA_KIND:
        seq, index, count, payload = parse_fragment(data, 0, size, offset)
        return Datagram(kind, conn_id, ack, window, sack, opening, ts, ts_echo, seq, index, count, payload)
    if kind is ACK_KIND:
        if size != offset:
            raise WireError("trailing bytes after an ack")
        token = data[FIXED_HEADER_BYTES:OPEN_BYTES] if opening else b""
        return Datagram(kind, conn_id, ack, window, sack, opening, ts, ts_echo, token=token)
    if size != offset + 1:
        raise WireError("a reset carries exactly one reason byte")
    reason = _REASONS.get(data[offset])
    if reason is None:
        raise WireError("unknown reset reason")
    return Datagram(kind, conn_id, ack, window, sack, opening, ts, ts_echo, reason=reason)


def parse_fragment(data: bytes, start: int, end: int, fields_at: int) -> tuple[int, int, int, bytes]:
    """(seq, index, count, payload) of the DATA datagram `data[start:end]` whose header, bitmap
    included, is valid and ends at `fields_at`; raises WireError like `parse`.

    For datagrams that repeat the header of one parsed before (a burst of bundles shares its
    header, see `Channel.receive_segments`): only the fragment fields are left to check.
    """
    size = end - start
    if size > MAX_DATAGRAM_BYTES:
        raise WireError(f"datagram of {size} bytes exceeds {MAX_DATAGRAM_BYTES}")
    if end < fields_at + _DATA.size + 1:
        raise WireError("truncated fragment")
    seq, index, count = _DATA.unpack_from(data, fields_at)
    if not (index < count <= MAX_FRAGMENTS or index == count == 0):
        raise WireError("bad fragment index or count")
    payload = data[fields_at + _DATA.size : end]
    if count and len(payload) > FRAGMENT_PAYLOAD:
        raise WireError("fragment payload too long")  # a bundle is bounded by the datagram size
    return seq, index, count, payload


def unwrap(wire_value: int, reference: int) -> int:
    """The full sequence number closest to `reference` whose low 32 bits are `wire_value`."""
    delta = (wire_value - reference) % SEQ_MODULO
    if delta >= SEQ_MODULO // 2:
        delta -= SEQ_MODULO
    return reference + delta


def timestamp(now: float) -> int:
    """The wire timestamp for monotonic time `now` (seconds)."""
    return int(now * TS_PER_SECOND) % SEQ_MODULO


def elapsed_since(ts_echo: int, now: float) -> float | None:
    """Seconds from the echoed timestamp to `now`; None when there is no usable echo."""
    if ts_echo == 0:
        return None
    ticks = (timestamp(now) - ts_echo) % SEQ_MODULO
    if ticks >= SEQ_MODULO // 2:
        return None  # from the future: not an echo of ours
    return ticks / TS_PER_SECOND
