"""The stream codec fed in every possible split, and the name rules on their own."""

from __future__ import annotations

import pytest

from net.files.names import UnsafeName, alternative, check_relative
from net.files.stream import (
    DONE,
    ENTRY,
    Data,
    FileEnd,
    Record,
    StreamDecoder,
    StreamError,
    encode_record,
    file_header,
)

STREAM = (
    encode_record(ENTRY, {"path": "相册/a.jpg", "size": 5, "sha256": "0" * 64})
    + file_header(0, 0, 5)
    + b"hello"
    + file_header(1, 2, 0)
    + encode_record(DONE, {})
)


def _collect(pieces: list[bytes]) -> list[object]:
    decoder = StreamDecoder()
    out: list[object] = []
    data = bytearray()
    for piece in pieces:
        for event in decoder.feed(piece):
            if isinstance(event, Data):
                data += event.data
            else:
                if data:
                    out.append(bytes(data))
                    data.clear()
                out.append(event)
    return out


def test_the_same_events_come_out_however_the_bytes_are_split() -> None:
    whole = _collect([STREAM])
    assert whole == [
        Record(ENTRY, {"path": "相册/a.jpg", "size": 5, "sha256": "0" * 64}),
        Record(b"F", {"i": 0, "offset": 0, "length": 5}),
        b"hello",
        FileEnd(),
        Record(b"F", {"i": 1, "offset": 2, "length": 0}),
        FileEnd(),
        Record(DONE, {}),
    ]
    assert _collect([STREAM[i : i + 1] for i in range(len(STREAM))]) == whole
    for cut in range(len(STREAM)):
        assert _collect([STREAM[:cut], STREAM[cut:]]) == whole


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"Z\x00\x00\x00\x02{}", "bad_record"),
        (b"M\xff\xff\xff\xff", "record_too_large"),
        (b"M\x00\x00\x00\x03[1]", "bad_json"),
        (b"M\x00\x00\x00\x03NaN", "bad_json"),
        (b"M\x00\x00\x00\x02\xff\xfe", "bad_json"),
        (b'F\x00\x00\x00\x0d{"length":-1}', "bad_record"),
        (encode_record(b"X", {"code": "refused", "text": "no"}), "refused"),
    ],
)
def test_malformed_records_are_refused(data: bytes, code: str) -> None:
    with pytest.raises(StreamError) as failed:
        StreamDecoder().feed(data)
    assert failed.value.code == code


@pytest.mark.parametrize(
    "path", ["相册/旅行/长城.jpg", "a b/c.d.e", "emoji😀.png", "x" * 255, "COM10", "CONSOLE.txt"]
)
def test_ordinary_names_pass(path: str) -> None:
    assert "/".join(check_relative(path)) == path


@pytest.mark.parametrize("path", ["aux", "Aux.c", "COM¹", "a/con/b", "a:b", "a|b", "x\u009b", "\ud800"])
def test_reserved_and_forbidden_names_are_refused(path: str) -> None:
    with pytest.raises(UnsafeName):
        check_relative(path)


def test_a_taken_name_gets_a_number_before_its_extension(tmp_path) -> None:
    assert alternative(tmp_path / "report.pdf", 2).name == "report (2).pdf"
    assert alternative(tmp_path / "README", 1).name == "README (1)"
