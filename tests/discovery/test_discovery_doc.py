"""The Discovery section of docs/PROTOCOL.md says what the code does (examples and numbers)."""

from __future__ import annotations

import re
from pathlib import Path

from net.discovery.answering import ANSWER_BURST, ANSWERS_PER_SECOND
from net.discovery.browser import BROADCAST_ANSWER_JITTER, DEFAULT_BROADCAST_PROBE_INTERVAL
from net.discovery.chatlist import HEARD_TOGETHER, MAX_ADDRESSES_PER_CHAT, MAX_CHATS
from net.discovery.destinations import IPV6_DISCOVERY_GROUP, MAX_SWEEP_ADDRESSES, directed_broadcast
from net.discovery.solicited import ANSWER_WINDOW
from net.discovery.wire import (
    DEFAULT_ANNOUNCE_INTERVAL,
    DEFAULT_TTL,
    DISCOVERY_FORMAT_VERSION,
    DISCOVERY_PORT,
    MAGIC,
    MAX_DATAGRAM_BYTES,
    MAX_REPLY_DELAY,
    PROBE_PORTS,
    decode_datagram,
    encode_datagram,
)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
SECTION = DOC.split("\n## Discovery\n", 1)[1].split("\n## ", 1)[0]
PROSE = " ".join(SECTION.split())  # line breaks fall anywhere in prose


def examples() -> list[bytes]:
    return [
        body.encode() for body in re.findall(r"^```discovery\n(.*?)\n```", SECTION, re.MULTILINE | re.DOTALL)
    ]


def test_every_example_decodes_and_is_what_the_encoder_writes() -> None:
    found = examples()
    assert len(found) == 4
    kinds = set()
    for data in found:
        message = decode_datagram(data)
        assert encode_datagram(message) == data
        kinds.add(data.split(b'"type":"', 1)[1].split(b'"', 1)[0])
    assert kinds == {b"probe", b"announce", b"answer", b"goodbye"}
    assert found[0].startswith(MAGIC)


def test_numbers_match_the_code() -> None:
    assert f"UDP **{DISCOVERY_PORT}**" in PROSE
    assert f"UDP **{PROBE_PORTS[0]}–{PROBE_PORTS[-1]}**" in PROSE
    assert f"{len(PROBE_PORTS)} ports" in PROSE
    assert f"**`{IPV6_DISCOVERY_GROUP}`**" in PROSE
    assert f"**{MAX_DATAGRAM_BYTES}** bytes" in PROSE
    assert f"**{DEFAULT_ANNOUNCE_INTERVAL:g} s** / **{DEFAULT_TTL:g} s**" in PROSE
    assert f"**{MAX_REPLY_DELAY:g} s**" in PROSE
    assert f"ask {BROADCAST_ANSWER_JITTER:g} s" in PROSE
    assert f"every {DEFAULT_BROADCAST_PROBE_INTERVAL:g} s" in PROSE
    assert f"{ANSWERS_PER_SECOND:g} answers a second (bursts of {ANSWER_BURST})" in PROSE
    assert f"({MAX_CHATS} chats, {MAX_ADDRESSES_PER_CHAT} addresses per chat)" in PROSE
    assert f"at most {MAX_ADDRESSES_PER_CHAT} addresses and a newcomer" in PROSE
    assert f"within {HEARD_TOGETHER:g} s of it (`HEARD_TOGETHER`" in PROSE
    assert f"(**{DISCOVERY_FORMAT_VERSION}**, `DISCOVERY_FORMAT_VERSION`)" in PROSE
    assert f"within the last {ANSWER_WINDOW:g} s (`ANSWER_WINDOW`" in PROSE
    assert f"at most {MAX_SWEEP_ADDRESSES:,} addresses" in PROSE
    assert (
        directed_broadcast("192.168.1.77", 24) == "192.168.1.255"
        and "`192.168.1.77/24` → `192.168.1.255`" in PROSE
    )
    assert (
        directed_broadcast("10.1.2.3", 8) == "10.255.255.255" and "`10.1.2.3/8` → `10.255.255.255`" in PROSE
    )
