"""Attachment lists, file requests and folder-stream headers: parsed and built (no sockets)."""

from __future__ import annotations

import pytest

from net.ipmsg import codec as c
from net.ipmsg.attachments import (
    MAX_ATTACHMENTS,
    Attachment,
    FileRequest,
    build_attachments,
    build_dir_header,
    build_file_request,
    header_length,
    parse_attachments,
    parse_dir_header,
    parse_file_request,
    split_fields,
)
from net.ipmsg.engine import Identity, IpmsgEngine
from tests.ipmsg import peer as make

OFFER = c.SENDMSG | c.SENDCHECKOPT | c.FILEATTACHOPT


def test_the_protocol_documents_form_with_extended_attributes_and_both_separators() -> None:
    # fileID:filename:size:mtime:fileattr[:extend-attr=val1[,val2...]]:\a:fileID... (ipmsg.h / protocol.txt)
    extra = b"\0" + b"0:test.txt:1c:4a2b3c4d:1:14=4a2b3c4d:16=4a2b3c4d:\a:1:dir:0:4a2b3c4d:2:\a"
    found, refused = parse_attachments(extra, OFFER, "gbk")
    assert refused == 0
    assert found == [
        Attachment(0, "test.txt", 0x1C, 0x4A2B3C4D, c.FILE_REGULAR),
        Attachment(1, "dir", 0, 0x4A2B3C4D, c.FILE_DIR),
    ]
    assert found[1].is_dir and not found[0].is_dir


def test_iptux_form_after_the_text_and_a_gbk_name() -> None:
    # iptux: "%u:%s:%llx:%x:%x:\a" per file, decimal id; Feiq writes GBK without UTF8OPT
    extra = "请查收".encode("gbk") + b"\0" + b"12:" + "报告.pdf".encode("gbk") + b":400:5f5e1000:1:\a"
    found, refused = parse_attachments(extra, OFFER, "gbk")
    assert found == [Attachment(12, "报告.pdf", 0x400, 0x5F5E1000, c.FILE_REGULAR)] and refused == 0
    assert c.message_text_bytes(extra).decode("gbk") == "请查收"


def test_a_colon_in_a_name_is_doubled_and_refused_as_unsafe_on_windows() -> None:
    assert split_fields(b"0:a::b:1:2:1:") == [b"0", b"a:b", b"1", b"2", b"1", b""]
    found, refused = parse_attachments(b"\0" + b"0:a::b:1:2:1:\a1:ok.txt:2:0:1:\a", OFFER, "utf-8")
    assert [a.name for a in found] == ["ok.txt"] and refused == 1


@pytest.mark.parametrize(
    "entry",
    [
        b"0:..:1:0:1:",
        b"0:../../etc/passwd:1:0:1:",
        b"0:/etc/passwd:1:0:1:",
        b"0:C\\Windows:1:0:1:",
        b"0:CON.txt:1:0:1:",
        b"0:a\x01b:1:0:1:",
        b"0:trailing.:1:0:1:",
        b"0::1:0:1:",
        b"0:x:ffffffffffffffffff:0:1:",  # more than 64 bits
        b"0:x:4000000000001:0:1:",  # over 2**50: beyond any disk
        b"0:x:-1:0:1:",
        b"0:x:zz:0:1:",
        b"0:x:0x10:0:1:",  # Python would read these; the protocol has plain hex digits
        b"0:x:1_0:0:1:",
        b"x:x:1:0:1:",
        b"0:x:1:0",
        b"0:link:1:0:4:",  # a symlink: a kind we do not take
    ],
)
def test_hostile_entries_are_refused_one_by_one(entry: bytes) -> None:
    found, refused = parse_attachments(b"hi\0" + entry + b"\a1:fine.bin:10:0:1:\a", OFFER, "utf-8")
    assert [a.name for a in found] == ["fine.bin"]
    assert refused == 1


def test_entries_are_bounded_and_ids_unique() -> None:
    listing = b"".join(b"%d:f%d:1:0:1:\a" % (n, n) for n in range(MAX_ATTACHMENTS + 20))
    found, refused = parse_attachments(b"\0" + listing + b"0:dup:1:0:1:\a", OFFER, "utf-8")
    assert len(found) == MAX_ATTACHMENTS and refused == 21


def test_built_lists_read_back_and_escape_colons() -> None:
    files = [Attachment(0, "报告 v2.pdf", 123456, 0x5F000000), Attachment(11, "照片", 99, 7, c.FILE_DIR)]
    for encoding, command in (("utf-8", OFFER | c.UTF8OPT), ("gbk", OFFER)):
        built = build_attachments(files, encoding)
        assert parse_attachments(b"text\0" + built, command, encoding) == (files, 0)
    assert b"0:a::b:" in build_attachments([Attachment(0, "a:b", 1)], "utf-8")
    with pytest.raises(ValueError):
        build_attachments([Attachment(n, f"f{n}", 1) for n in range(MAX_ATTACHMENTS + 1)], "utf-8")


def test_file_requests_in_hexadecimal() -> None:
    assert build_file_request(FileRequest(0x6553F0A1, 11, 0x100000), False) == b"6553f0a1:b:100000"
    assert build_file_request(FileRequest(1, 2), True) == b"1:2:0"
    assert parse_file_request(b"6553f0a1:b:100000\0") == FileRequest(0x6553F0A1, 11, 0x100000)
    assert parse_file_request(b"1a:0") == FileRequest(0x1A, 0, 0)
    for bad in (b"", b"12", b"x:1:0", b"1:1:fffffffffffffffffffff", b"1:1:-5"):
        with pytest.raises(c.IpmsgFormatError):
            parse_file_request(bad)


def test_folder_headers_measure_themselves() -> None:
    header = build_dir_header("资料", 0, c.FILE_DIR, 0x5F000000, "utf-8")
    assert header_length(header[:3]) is None
    assert header_length(header) == len(header)
    assert int(header[:4], 16) == len(header) and header.endswith(b":")
    assert parse_dir_header(header, c.UTF8OPT, "utf-8").name == "资料"
    up = build_dir_header("", 0, c.FILE_RETPARENT, 0, "utf-8")
    assert parse_dir_header(up, 0, "utf-8").kind == c.FILE_RETPARENT
    # iptux's own form: "0000:%s:%.9llx:%lx:%lx=%lx:%lx=%lx:" with the size written over the zeros
    iptux = b"0033:notes.txt:00000000a:1:14=5f000000:16=5f000000:"
    assert len(iptux) == 0x33
    entry = parse_dir_header(iptux, 0, "utf-8")
    assert (entry.name, entry.size, entry.kind) == ("notes.txt", 10, c.FILE_REGULAR)
    for bad in (b"zzzz:", b"0002:", b"ffff:", b"1" * 40):
        with pytest.raises(c.IpmsgFormatError):
            header_length(bad)
    with pytest.raises(c.IpmsgFormatError):
        parse_dir_header(b"001a:../x:1:1:14=0:", 0, "utf-8")


def test_the_engine_reads_an_offer_and_sends_one() -> None:
    engine = IpmsgEngine(Identity("me"), 0.0, first_packet_no=100)
    engine.receive(make.iptux_entry("tux"), "10.0.0.7:2425", 0.0)
    engine.receive(
        make.packet(OFFER, b"\0" + b"0:a.txt:5:0:1:\a1:../x:1:0:1:\a", number=77), "10.0.0.7:2425", 0.1
    )
    _datagrams, events = engine.take()
    [message] = [e for e in events if type(e).__name__ == "IpmsgMessage"]
    assert message.files and message.attachments == (Attachment(0, "a.txt", 5),)  # type: ignore[attr-defined]
    assert message.refused == 1  # type: ignore[attr-defined]

    number, encoding = engine.send_files("10.0.0.7:2425", "", [Attachment(0, "b.bin", 3)], 0.2, "m1")
    [sent] = [d for d in engine.take()[0] if d.to == "10.0.0.7:2425"]
    packet = c.parse_packet(sent.data)
    assert packet.packet_no == number and packet.has(c.FILEATTACHOPT) and packet.has(c.SENDCHECKOPT)
    assert encoding == "utf-8" and packet.has(c.UTF8OPT)
    assert parse_attachments(packet.extra, packet.command, encoding) == ([Attachment(0, "b.bin", 3)], 0)
    with pytest.raises(ValueError):
        engine.send_files("10.0.0.7:2425", "", [Attachment(n, "x" * 200, 1) for n in range(60)], 0.3, "m2")
