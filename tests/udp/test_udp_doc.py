"""The "UDP transport" section of docs/PROTOCOL.md cannot drift from the code."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from net.discovery.wire import PROBE_MIN_BYTES
from net.protocol.limits import MAX_FRAME_BYTES
from net.udp import channel, receiver, service, tuning, wire
from net.udp.rtt import RttConfig
from net.udp.wire import Datagram, Kind, encode

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
SECTION = DOC.split("\n## UDP transport\n", 1)[1].split("\n## ", 1)[0]


def _code_values() -> dict[str, object]:
    values: dict[str, object] = {
        name: getattr(wire, name)
        for name in (
            "MAX_DATAGRAM_BYTES",
            "FIXED_HEADER_BYTES",
            "MAX_HEADER_BYTES",
            "FRAGMENT_PAYLOAD",
            "BUNDLE_PAYLOAD",
            "MAX_FRAGMENTS",
            "MAX_SACK_BYTES",
            "RECEIVE_BUFFER_BYTES",
            "TOKEN_BYTES",
            "OPEN_BYTES",
        )
    }
    values["AMPLIFICATION_LIMIT"] = service.AMPLIFICATION_LIMIT
    values["HELLO_MAX_BYTES"] = tuning.HELLO_MAX_BYTES
    values["MAX_WINDOW"] = receiver.MAX_WINDOW
    values["PROBE_FIRST_INTERVAL"] = channel.PROBE_FIRST_INTERVAL
    values["PROBE_MAX_INTERVAL"] = channel.PROBE_MAX_INTERVAL
    values.update(dataclasses.asdict(tuning.UdpTuning()))
    values.update(dataclasses.asdict(RttConfig()))
    return values


def test_the_numbers_table_matches_the_code() -> None:
    rows = dict(re.findall(r"^\| [^|]+ \| `(\w+)` \| ([0-9.]+) \|$", SECTION, re.MULTILINE))
    assert len(rows) >= 20
    values = _code_values()
    for name, text in rows.items():
        assert name in values, name
        assert text == repr(values[name]), f"{name}: the document says {text}, the code {values[name]!r}"


def test_the_header_layout_matches_the_encoder() -> None:
    offsets = re.findall(r"^\| (\d+) \| (\d+|sack_len) \| (\w+) \|", SECTION, re.MULTILINE)
    names = [name for _, _, name in offsets]
    assert names == [
        "magic",
        "version",
        "kind",
        "flags",
        "sack_len",
        "conn_id",
        "ack",
        "window",
        "ts",
        "ts_echo",
        "sack",
    ]
    position = 0
    for offset, size, _ in offsets:
        assert int(offset) == position
        position += 0 if size == "sack_len" else int(size)
    assert position == wire.FIXED_HEADER_BYTES
    data = encode(Datagram(Kind.ACK, conn_id=0x0102030405060708, ack=9, window=10, ts=11, ts_echo=12))
    assert data[:4] == b"LCUD" and data[8:16] == bytes(range(1, 9)) and data[16:20] == (9).to_bytes(4, "big")


def test_the_sizes_quoted_in_the_text_are_the_real_ones() -> None:
    t = tuning.UdpTuning()
    reset = encode(Datagram(Kind.RESET, 1, 0, 0))
    smallest_open = encode(Datagram(Kind.ACK, 1, 0, 0, opening=True))
    retry = wire.encode_retry(1, bytes(wire.TOKEN_BYTES))
    smallest_data = encode(Datagram(Kind.DATA, 1, 0, 0, seq=0, index=0, count=1, payload=b"x"))
    quoted = {
        "fragments of at most 1,130 bytes": wire.FRAGMENT_PAYLOAD == 1130,
        "1 to 232": wire.MAX_FRAGMENTS == 232,
        "RESET (31 bytes": len(reset) == 31,
        "at least 39 bytes": len(smallest_data) == 39,
        "(at most 7,582 bytes)": receiver.Receiver(
            window=t.handshake_receive_window, max_message_bytes=tuning.HELLO_MAX_BYTES
        ).memory_bound
        == 7582,
        "(at most 409,718 bytes)": receiver.Receiver(
            window=t.member_receive_window, max_message_bytes=MAX_FRAME_BYTES
        ).memory_bound
        == 409_718,
        "up to 1,162 bytes": wire.BUNDLE_PAYLOAD == 1162,
        "version | 3;": wire.WIRE_VERSION == 3,
        "a RETRY (46 bytes, only in answer to an OPEN, which is at least 46 bytes)": len(retry)
        == len(smallest_open)
        == 46,
        "A RETRY is 46 bytes, the size of the smallest OPEN": len(retry) == len(smallest_open) == 46,
        "for 5 s (`retry_token_lifetime`)": t.retry_token_lifetime == 5.0,
        "the bitmap then starts at offset 46": wire.OPEN_BYTES == 46,
        "pad their probes to 400 bytes": PROBE_MIN_BYTES == 400,
        "the first 12 bytes of HMAC-SHA256": wire.TOKEN_BYTES - 4 == 12,
        "send window (128 fragments)": t.send_window == 128,
        "limited to 200 a second": t.reply_rate == 200,
        "the last 4,096 closed ids": t.closed_ids_remembered == 4096,
        "at most 1 s": t.close_grace == 1.0,
        "waits up to 0.5 s for the acks": t.stop_grace == 0.5,
        "resent at least 4 times": t.min_retransmits == 4,
        "more than 8 MiB": t.max_backlog_bytes == 8 * 1024 * 1024,
        "at most 64 such connections": t.max_handshakes == 64,
    }
    text = " ".join(SECTION.split())  # phrases may wrap across lines
    for phrase, holds in quoted.items():
        assert phrase in text, phrase
        assert holds, phrase
