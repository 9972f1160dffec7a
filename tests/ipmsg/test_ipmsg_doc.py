"""The "IP Messenger bridge" section of docs/PROTOCOL.md says what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from net.ipmsg import attachments, engine, guard, offers, outbox, peers, streams
from net.ipmsg import codec as c
from net.ipmsg.attachments import parse_attachments
from net.ipmsg.engine import Identity, IpmsgEngine

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
SECTION = DOC.split("\n## IP Messenger bridge\n", 1)[1].split("\n## ", 1)[0]
PROSE = " ".join(SECTION.split())


def examples() -> list[bytes]:
    found = re.findall(r"^```ipmsg\n(.*?)\n```", SECTION, re.MULTILINE | re.DOTALL)
    return [text.encode("latin-1").decode("unicode_escape").encode("latin-1") for text in found]


def test_the_examples() -> None:
    first, ours, offer = examples()
    assert c.parse_packet(first).extra == b"Hello"
    packet = c.parse_packet(offer)
    assert packet.command == c.SENDMSG | c.SENDCHECKOPT | c.FILEATTACHOPT
    listed, refused = parse_attachments(packet.extra, packet.command, "utf-8")
    assert refused == 0 and [(a.name, a.size, a.is_dir) for a in listed] == [
        ("test.txt", 0x1C, False),
        ("dir", 0, True),
    ]
    me = IpmsgEngine(Identity("小王", "LanChat", "wang", "wang-pc"), 0.0, first_packet_no=1765087200)
    me.enter(0.0)
    [datagram] = me.take()[0]
    assert datagram.data == ours


def table_rows() -> dict[str, int]:
    return {
        name: int(value, 16) for name, value in re.findall(r"^\| (\w+) \| (0x[0-9a-fA-F]+) \|", SECTION, re.M)
    }


def test_every_mode_and_option_in_the_tables_has_its_value() -> None:
    rows = table_rows()
    assert len(rows) >= 19
    for name, value in rows.items():
        assert getattr(c, name) == value, name


@pytest.mark.parametrize("name", ["BR_ENTRY", "BR_EXIT", "ANSENTRY", "BR_ABSENCE", "SENDMSG", "RECVMSG",
                                  "READMSG", "GETINFO", "SENDINFO", "SENDCHECKOPT", "RETRYOPT", "UTF8OPT",
                                  "CAPUTF8OPT", "ABSENCEOPT", "SECRETOPT", "READCHECKOPT", "NOADDLISTOPT",
                                  "BROADCASTOPT", "FILEATTACHOPT", "GETFILEDATA", "RELEASEFILES",
                                  "GETDIRFILES", "FILE_REGULAR", "FILE_DIR", "FILE_RETPARENT",
                                  "FILE_MTIME"])  # fmt: skip
def test_every_command_and_flag_the_code_uses_is_documented(name: str) -> None:
    assert name in table_rows()


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (c.DEFAULT_PORT, "port **{}**"),
        (c.MAX_PACKET_BYTES, "than **{}** bytes"),
        (c.MAX_SEND_BYTES, "within **{}** bytes"),
        (engine.ANSWER_DELAY_MAX, "at most **{:g}** s"),
        (engine.MAX_PENDING_ANSWERS, "at most **{}** pending"),
        (peers.MAX_PEERS, "at most **{}** users"),
        (outbox.RESEND_INTERVAL, "every **{:g}** s"),
        (outbox.MAX_ATTEMPTS, "**{}** sends in all"),
        (outbox.MAX_PENDING, "At most **{}** pieces"),
        (guard.SOURCE_RATE, "**{:g}** packets/s"),
        (guard.SOURCE_BURST, "(burst **{:g}**)"),
        (guard.TOTAL_RATE, "together **{:g}**/s"),
        (guard.TOTAL_BURST, "(burst **{:g}**)"),
        (guard.ANSWER_RATE, "**{:g}**/s"),
        (guard.ANSWER_BURST, "(burst **{:g}**)"),
        (guard.MAX_SOURCES, "at most **{}**"),
        (guard.ENTRY_ANSWER_WINDOW, "within **{:g}** s"),
        (engine.MAX_MESSAGE_CHARS, "longer than {} characters"),
        (peers.MAX_SEEN_PER_PEER, "the last {})"),
        (peers.MAX_LABEL_CHARS, "cut to {} characters"),
        (attachments.MAX_ATTACHMENTS, "holds at most **{}** files"),
        (attachments.MAX_HEADER_BYTES, "header at most **{}** bytes"),
        (offers.OFFER_LIFETIME / 3600, "open for **{:g}** h"),
        (offers.MAX_OFFERS, "at most **{}** are open"),
        (streams.MAX_CONNECTIONS, "at most **{}** transfer connections"),
        (streams.MAX_REQUEST_BYTES, "a request at most **{}** bytes"),
        (streams.IDLE_TIMEOUT, "silent at most **{:g}** s"),
        (streams.REQUEST_TIMEOUT, "within **{:g}** s of connecting"),
    ],
)
def test_the_numbers(number: float, text: str) -> None:
    assert text.format(number) in PROSE


def test_the_delay_rule() -> None:
    assert (engine.ANSWER_DELAY_BASE, engine.ANSWER_DELAY_PER_USER) == (0.1, 0.01)
    assert "0.1 s + 0.01 s per listed user" in PROSE
