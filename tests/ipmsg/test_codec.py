"""The IP Messenger codec: the protocol document's examples, Feiq-style packets, and a fuzz test."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from net.ipmsg import codec as c
from net.ipmsg.encoding import (
    UTF8,
    check_legacy_encoding,
    decode_text,
    encode_text,
    peer_encoding,
    split_text,
)

FEIQ_VERSION = b"1_lbt6_0#128#A1B2C3D4E5F6#0#0#0#4001#9"


def test_the_protocol_documents_example_message() -> None:
    # "1:100:shirouzu:jupiter:32:Hello": version 1, packet 100, SENDMSG (32) with text Hello.
    packet = c.parse_packet(b"1:100:shirouzu:jupiter:32:Hello")
    assert packet == c.Packet(b"1", 100, b"shirouzu", b"jupiter", c.SENDMSG, b"Hello")
    assert packet.mode == c.SENDMSG and packet.mode_name == "SENDMSG" and packet.options == 0


def test_mode_and_options_are_split_from_the_command() -> None:
    command = c.SENDMSG | c.SENDCHECKOPT | c.UTF8OPT
    packet = c.parse_packet(b"1:7:u:h:%d:x\0" % command)
    assert packet.mode == c.SENDMSG
    assert packet.has(c.SENDCHECKOPT) and packet.has(c.UTF8OPT) and not packet.has(c.SECRETOPT)
    assert command == 0x00800120


def test_build_and_parse_round_trip_with_the_trailing_nul() -> None:
    packet = c.Packet(b"1", 4242, b"alice", b"pc1", c.BR_ENTRY | c.CAPUTF8OPT, b"Alice\0Sales")
    data = c.build_packet(packet)
    assert data == b"1:4242:alice:pc1:16777217:Alice\0Sales\0"
    assert c.parse_packet(data) == c.Packet(b"1", 4242, b"alice", b"pc1", 16777217, b"Alice\0Sales\0")


def test_the_extra_may_contain_colons() -> None:
    assert c.parse_packet(b"1:1:u:h:32:see http://x:80/a").extra == b"see http://x:80/a"


def test_a_packet_without_extra_is_accepted() -> None:
    packet = c.parse_packet(b"1:5:u:h:2")
    assert packet.mode == c.BR_EXIT and packet.extra == b""
    assert c.parse_packet(b"1:5:u:h:2\0").mode == c.BR_EXIT


def test_feiq_version_string_and_gbk_nickname() -> None:
    nick = "张三".encode("gbk")
    group = "研发部".encode("gbk")
    data = (
        FEIQ_VERSION
        + b":1700000001:zhangsan:ZHANG-PC:%d:" % (c.BR_ENTRY | c.ABSENCEOPT)
        + nick
        + b"\0"
        + group
    )
    packet = c.parse_packet(data)
    assert packet.version == FEIQ_VERSION
    entry = c.parse_entry_extra(packet.extra)
    assert (entry.nick, entry.group, entry.encoding) == (nick, group, b"")
    encoding = peer_encoding(packet.command, entry, "gbk")
    assert encoding == "gbk"
    assert decode_text(entry.nick, packet.command, encoding) == "张三"


def test_iptux_announces_utf8_in_its_fourth_part() -> None:
    extra = "李四".encode() + b"\0Dev\0icon-tux.png\0utf-8\0"
    packet = c.parse_packet(b"1_iptux 0.8.3:12:li:li-pc:%d:" % (c.BR_ENTRY | c.ABSENCEOPT) + extra)
    entry = c.parse_entry_extra(packet.extra)
    assert entry.encoding == b"utf-8"
    assert peer_encoding(packet.command, entry, "gbk") == UTF8


def test_ip_messengers_utf8_block_is_read() -> None:
    extra = b"Taro\0Group\0\nUN:taro\nHN:jupiter\nNN:" + "太郎".encode() + b"\nGN:G\n"
    entry = c.parse_entry_extra(extra)
    assert entry.utf8_nick == "太郎".encode() and entry.utf8_group == b"G"


def test_capability_flags_choose_utf8_and_cp932_is_a_setting() -> None:
    assert peer_encoding(c.BR_ENTRY | c.CAPUTF8OPT, None, "gbk") == UTF8
    assert peer_encoding(c.BR_ENTRY, None, "cp932") == "cp932"
    assert decode_text("こんにちは".encode("cp932"), c.SENDMSG, "cp932") == "こんにちは"
    assert check_legacy_encoding(" GBK ") == "gbk"
    with pytest.raises(ValueError):
        check_legacy_encoding("latin-1")


def test_utf8opt_wins_and_decoding_never_raises() -> None:
    assert decode_text("你好".encode(), c.SENDMSG | c.UTF8OPT, "gbk") == "你好"
    assert decode_text(b"\xff\xfe\x80", c.SENDMSG, "gbk")  # something, with replacement characters
    assert encode_text("你好", "gbk") == "你好".encode("gbk")
    assert encode_text("한국어", "gbk") == b"???"


def test_the_acknowledged_number_of_a_recvmsg() -> None:
    assert c.acknowledged_number(b"1700000005\0") == 1700000005
    assert c.acknowledged_number(b"") is None
    assert c.acknowledged_number(b"12x") is None
    assert c.acknowledged_number(b"99999999999") is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b"1:2:3:4",
        b"x:1:u:h:32:",
        b"1:-1:u:h:32:",
        b"1:1:u:h:thirty:",
        b"1:99999999999:u:h:32:",
        b"1:1:u:h:4294967296:",
        b"1:1:" + b"u" * 300 + b":h:32:",
        b"1:1:u:h:32:" + b"x" * c.MAX_PACKET_BYTES,
    ],
)
def test_malformed_and_giant_packets_are_refused_with_the_codecs_error(data: bytes) -> None:
    with pytest.raises(c.IpmsgFormatError):
        c.parse_packet(data)


def test_header_names_are_ascii_without_separators() -> None:
    assert c.header_name("li:si 李") == b"lisi"
    assert c.header_name("张三") == b"lanchat"
    with pytest.raises(ValueError):
        c.build_packet(c.Packet(b"1", 1, b"a:b", b"h", c.SENDMSG))


def test_a_long_message_is_split_at_character_boundaries_without_loss() -> None:
    text = ("这是一条很长的消息。" * 900) + "\nend"
    pieces = split_text(text, "gbk", 1000)
    assert len(pieces) > 10
    assert "".join(piece.text for piece in pieces) == text
    assert all(len(piece.data) <= 1000 for piece in pieces)
    assert all(piece.data.decode("gbk") == piece.text for piece in pieces)


def test_a_short_message_is_one_piece() -> None:
    assert [piece.text for piece in split_text("hi", UTF8, 100)] == ["hi"]


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_the_parser_raises_only_its_own_error(data: bytes) -> None:
    try:
        packet = c.parse_packet(data)
    except c.IpmsgFormatError:
        return
    assert 0 <= packet.packet_no <= 0xFFFFFFFF and 0 <= packet.command <= 0xFFFFFFFF
    assert len(packet.user) <= c.MAX_NAME_BYTES and len(packet.host) <= c.MAX_NAME_BYTES
    c.parse_entry_extra(packet.extra)
    c.acknowledged_number(packet.extra)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"1", b"1_lbt6_0#128#AB#", b":", b"\0", b"32", b"288", b"x", b"\xd5\xc5"]),
        max_size=30,
    )
)
def test_fuzz_structured_packets(parts: list[bytes]) -> None:
    data = b"".join(parts)
    try:
        c.parse_packet(data)
    except c.IpmsgFormatError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=300), st.sampled_from(["utf-8", "gbk", "cp932"]), st.integers(min_value=8, max_value=64)
)
def test_fuzz_split_never_loses_text(text: str, encoding: str, budget: int) -> None:
    pieces = split_text(text.replace("\0", ""), encoding, budget)
    assert "".join(piece.text for piece in pieces) == text.replace("\0", "")
    assert all(len(piece.data) <= budget for piece in pieces)
