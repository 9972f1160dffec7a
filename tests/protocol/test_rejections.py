"""Every way a frame can be refused, with the error code the peer is told."""

from __future__ import annotations

import json

import pytest

from net.protocol import events as ev
from net.protocol.codec import DecodeError, decode_frame, encode_event, parse_frame
from net.protocol.limits import MAX_FRAME_BYTES, MAX_ID_CHARS, MAX_REASON_CHARS, MAX_TEXT_CHARS


def _refused(frame: bytes, *, from_host: bool = False) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode_frame(frame, from_host=from_host)
    return info.value


# --- the frame as a whole --------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        b'{"type":"say","id":"1","text":"\xff"}',  # never valid in UTF-8
        b'{"type":"say","id":"1","text":"\xe4\xb8"}',  # a CJK character cut short
        b'{"type":"say","id":"1","text":"\xc0\xaf"}',  # overlong encoding of "/"
        b'{"type":"say","id":"1","text":"\xed\xa0\x80"}',  # an encoded surrogate (CESU-8)
        b'{"type":"say","id":"1","text":"\xf4\x90\x80\x80"}',  # beyond U+10FFFF
        b"\xfe\xff{}",
    ],
    ids=["ff", "truncated", "overlong", "surrogate", "beyond-max", "bom16"],
)
def test_invalid_utf8_is_bad_utf8(frame: bytes) -> None:
    error = _refused(frame)
    assert (error.code, error.text) == ("bad_utf8", "frame is not valid UTF-8")


@pytest.mark.parametrize(
    "frame",
    [
        b"{",
        b'{"type":"who",}',
        b"{'type':'who'}",
        b'{"type":"who"} {"type":"who"}',
        b'{"type":"say","id":"1","text":"a\rb"}',  # a raw control character inside a string
        b'{"type":"say","id":"1","text":"a\x00b"}',
        b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark
        b"hello there",
    ],
)
def test_invalid_json_is_bad_json(frame: bytes) -> None:
    error = _refused(frame)
    assert error.code == "bad_json"
    assert error.text.startswith("invalid JSON: ")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(constant: str) -> None:
    error = _refused(b'{"type":"ack","id":"a","msg_id":"b","time":%s}' % constant.encode(), from_host=True)
    assert (error.code, error.text) == ("bad_json", f"{constant} is not allowed")


@pytest.mark.parametrize("number", [b"1e400", b"-1e400", b"1" + b"0" * 400, b"-" + b"9" * 400])
def test_numbers_beyond_a_float_are_refused_as_bad_fields(number: bytes) -> None:
    error = _refused(b'{"type":"ack","id":"a","msg_id":"b","time":%s}' % number, from_host=True)
    assert error.code == "bad_field"
    assert error.text.startswith("field 'time': ")


def test_integers_with_more_digits_than_python_converts_are_bad_json() -> None:
    error = _refused(b'{"type":"hello","version":' + b"7" * 5000 + b',"nick":"a","client_id":"c"}')
    assert error.code == "bad_json"


@pytest.mark.parametrize("frame", [b"[]", b'"who"', b"42", b"null", b"true", b'[{"type":"who"}]'])
def test_a_frame_must_be_a_json_object(frame: bytes) -> None:
    error = _refused(frame)
    assert (error.code, error.text) == ("bad_json", "a frame must be a JSON object")


@pytest.mark.parametrize(
    "frame",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b'{"type":"say","id":"1","text":"x","to":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    ],
    ids=["arrays", "objects", "inside-a-field"],
)
def test_json_nested_10000_deep_is_refused_without_a_recursion_error(frame: bytes) -> None:
    error = _refused(frame)
    assert (error.code, error.text) == ("bad_json", "JSON nested too deeply")


def test_moderate_nesting_in_an_ignored_field_is_fine() -> None:
    frame = b'{"type":"who","x":' + b"[" * 50 + b"]" * 50 + b"}"
    assert decode_frame(frame, from_host=False) == ev.Who()


def test_a_frame_over_the_limit_is_refused_before_parsing() -> None:
    frame = b'{"type":"say","id":"1","text":"' + b"a" * MAX_FRAME_BYTES + b'"}'
    with pytest.raises(DecodeError) as info:
        parse_frame(frame)
    assert (info.value.code, info.value.text) == ("frame_too_large", "frame exceeds 262144 bytes")


# --- the message kind ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "from_host", "text"),
    [
        (b'{"type":"teleport"}', False, "unknown message type 'teleport'"),
        (
            b'{"type":"message","id":"1","from":"a","text":"x","time":1}',
            False,
            "unknown message type 'message'",
        ),
        (b'{"type":"hello","version":1,"nick":"a","client_id":"c"}', True, "unknown message type 'hello'"),
        (b'{"type":"say","id":"1","text":"x"}', True, "unknown message type 'say'"),
        (b'{"type":"' + b"x" * 100 + b'"}', False, "unknown message type '" + "x" * 40 + "'"),
    ],
    ids=["made-up", "host-kind-from-client", "client-kind-from-host", "say-from-host", "long-type-cut"],
)
def test_unknown_types_for_the_direction(frame: bytes, from_host: bool, text: str) -> None:
    error = _refused(frame, from_host=from_host)
    assert (error.code, error.text) == ("unknown_type", text)


@pytest.mark.parametrize(
    "frame", [b"{}", b'{"type":null}', b'{"type":1}', b'{"type":["who"]}', b'{"Type":"who"}']
)
def test_a_missing_or_non_string_type(frame: bytes) -> None:
    error = _refused(frame)
    assert (error.code, error.text) == ("bad_field", "field 'type' is missing")


# --- fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "from_host", "field"),
    [
        (b'{"type":"hello","nick":"a","client_id":"c"}', False, "version"),
        (b'{"type":"hello","version":1,"client_id":"c"}', False, "nick"),
        (b'{"type":"hello","version":1,"nick":"a"}', False, "client_id"),
        (b'{"type":"say","text":"x"}', False, "id"),
        (b'{"type":"say","id":"1"}', False, "text"),
        (b'{"type":"say","id":"1","text":null}', False, "text"),
        (b'{"type":"rename"}', False, "nick"),
        (b'{"type":"typing"}', False, "active"),
        (b'{"type":"welcome","nick":"a","room":"r"}', True, "version"),
        (b'{"type":"welcome","version":1,"nick":"a"}', True, "room"),
        (b'{"type":"refuse","code":"room_full"}', True, "text"),
        (b'{"type":"message","id":"1","text":"x","time":1}', True, "from"),
        (b'{"type":"message","id":"1","from":"a","text":"x"}', True, "time"),
        (b'{"type":"ack","id":"1","time":1}', True, "msg_id"),
        (b'{"type":"joined","time":1}', True, "nick"),
        (b'{"type":"left","nick":"a"}', True, "time"),
        (b'{"type":"renamed","old":"a","time":1}', True, "new"),
        (b'{"type":"members"}', True, "members"),
        (b'{"type":"typing","active":true}', True, "nick"),
        (b'{"type":"error","text":"x"}', True, "code"),
    ],
)
def test_missing_required_fields(frame: bytes, from_host: bool, field: str) -> None:
    error = _refused(frame, from_host=from_host)
    assert (error.code, error.text) == ("bad_field", f"field {field!r} is missing")


@pytest.mark.parametrize(
    ("frame", "from_host", "field", "problem"),
    [
        (
            b'{"type":"hello","version":true,"nick":"a","client_id":"c"}',
            False,
            "version",
            "expected an integer",
        ),
        (
            b'{"type":"hello","version":"1","nick":"a","client_id":"c"}',
            False,
            "version",
            "expected an integer",
        ),
        (
            b'{"type":"hello","version":1.0,"nick":"a","client_id":"c"}',
            False,
            "version",
            "expected an integer",
        ),
        (
            b'{"type":"hello","version":9007199254740993,"nick":"a","client_id":"c"}',
            False,
            "version",
            "expected an integer",
        ),
        (b'{"type":"hello","version":1,"nick":7,"client_id":"c"}', False, "nick", "expected a string"),
        (
            b'{"type":"hello","version":1,"nick":"a","client_id":["c"]}',
            False,
            "client_id",
            "expected a string",
        ),
        (b'{"type":"say","id":1,"text":"x"}', False, "id", "expected a string"),
        (b'{"type":"say","id":"1","text":"x","action":1}', False, "action", "expected true or false"),
        (b'{"type":"say","id":"1","text":"x","action":"true"}', False, "action", "expected true or false"),
        (b'{"type":"typing","active":0}', False, "active", "expected true or false"),
        (b'{"type":"ack","id":"a","msg_id":"b","time":"12"}', True, "time", "expected a number"),
        (b'{"type":"ack","id":"a","msg_id":"b","time":true}', True, "time", "expected a number"),
        (
            b'{"type":"welcome","version":1,"nick":"a","room":"r","burst":2.5}',
            True,
            "burst",
            "expected an integer",
        ),
        (
            b'{"type":"welcome","version":1,"nick":"a","room":"r","members":{}}',
            True,
            "members",
            "expected a list",
        ),
        (
            b'{"type":"welcome","version":1,"nick":"a","room":"r","members":["a"]}',
            True,
            "members",
            "expected an object",
        ),
        (
            b'{"type":"welcome","version":1,"nick":"a","room":"r","members":[{"host":true}]}',
            True,
            "members",
            "field 'nick' is missing",
        ),
        (
            b'{"type":"welcome","version":1,"nick":"a","room":"r","history":[{"id":"1","from":"a","text":"x","time":"t"}]}',
            True,
            "history",
            "field 'time': expected a number",
        ),
        (
            b'{"type":"members","members":[{"nick":"a","since":"yesterday"}]}',
            True,
            "members",
            "field 'since': expected a number",
        ),
        (
            b'{"type":"error","code":"x","text":"y","retry_after":"soon"}',
            True,
            "retry_after",
            "expected a number",
        ),
    ],
)
def test_mistyped_fields(frame: bytes, from_host: bool, field: str, problem: str) -> None:  # fmt: skip
    error = _refused(frame, from_host=from_host)
    assert (error.code, error.text) == ("bad_field", f"field {field!r}: {problem}")


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        (b'{"type":"say","id":"","text":"x"}', "id"),
        (b'{"type":"say","id":"1","text":""}', "text"),
        (b'{"type":"hello","version":1,"nick":"","client_id":"c"}', "nick"),
        (b'{"type":"rename","nick":""}', "nick"),
    ],
)
def test_empty_required_strings(frame: bytes, field: str) -> None:
    error = _refused(frame)
    assert (error.code, error.text) == ("bad_field", f"field {field!r}: must not be empty")


def _say_frame(**fields: object) -> bytes:
    return json.dumps({"type": "say", "id": "1", "text": "x", **fields}, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("frame", "field", "limit"),
    [
        (_say_frame(text="字" * (MAX_TEXT_CHARS + 1)), "text", MAX_TEXT_CHARS),
        (_say_frame(id="i" * (MAX_ID_CHARS + 1)), "id", MAX_ID_CHARS),
        (_say_frame(to="n" * 97), "to", 96),
        (b'{"type":"bye","reason":"' + b"r" * (MAX_REASON_CHARS + 1) + b'"}', "reason", MAX_REASON_CHARS),
        (b'{"type":"ping","token":"' + b"t" * (MAX_REASON_CHARS + 1) + b'"}', "token", MAX_REASON_CHARS),
        (
            b'{"type":"hello","version":1,"nick":"a","client_id":"c","password":"' + b"p" * 129 + b'"}',
            "password",
            128,
        ),
    ],
    ids=["text", "id", "to", "reason", "token", "password"],
)
def test_over_long_fields(frame: bytes, field: str, limit: int) -> None:
    error = _refused(frame)
    assert (error.code, error.text) == ("too_long", f"field {field!r}: longer than {limit} characters")


def test_the_longest_allowed_fields_pass() -> None:
    say = decode_frame(_say_frame(text="字" * MAX_TEXT_CHARS, id="i" * MAX_ID_CHARS), from_host=False)
    assert isinstance(say, ev.Say)
    assert (len(say.text), len(say.id)) == (MAX_TEXT_CHARS, MAX_ID_CHARS)


def test_over_long_lists() -> None:
    history = [{"id": "1", "from": "a", "text": "x", "time": 1}] * 1001
    frame = json.dumps({"type": "welcome", "version": 1, "nick": "a", "room": "r", "history": history})
    error = _refused(frame.encode(), from_host=True)
    assert (error.code, error.text) == ("too_long", "field 'history': more than 1000 items")


@pytest.mark.parametrize(
    "escaped",
    [
        "\\u0000",
        "\\u0007",
        "\\u001b[31m",
        "\\r",
        "\\u007f",
        "\\u0085",
        "\\u009b31m",
        "\\ud800",
        "\\udfff",
        "\\ude00\\ud83d",  # a surrogate pair in the wrong order
        "x\\ud83d",
    ],
)
def test_control_characters_and_lone_surrogates_in_a_text(escaped: str) -> None:
    error = _refused(b'{"type":"say","id":"1","text":"%s"}' % escaped.encode())
    assert (error.code, error.text) == (
        "bad_field",
        "field 'text': contains control characters or invalid code points",
    )


@pytest.mark.parametrize("escaped", ["\\n", "\\t", "\\u0009"])
def test_newline_and_tab_are_allowed_in_texts_only(escaped: str) -> None:
    assert decode_frame(b'{"type":"say","id":"1","text":"a%sb"}' % escaped.encode(), from_host=False)
    for frame in (
        b'{"type":"rename","nick":"a%sb"}' % escaped.encode(),
        b'{"type":"bye","reason":"a%sb"}' % escaped.encode(),
        b'{"type":"say","id":"a%sb","text":"x"}' % escaped.encode(),
    ):
        assert _refused(frame).code == "bad_field"


@pytest.mark.parametrize(
    "frame",
    [
        b'{"type":"hello","version":1,"nick":"a\\u0000","client_id":"c"}',
        b'{"type":"hello","version":1,"nick":"a","client_id":"c\\ud800"}',
        b'{"type":"say","id":"1","text":"x","to":"\\u001b"}',
        b'{"type":"ping","token":"\\u007f"}',
    ],
)
def test_control_characters_in_other_fields(frame: bytes) -> None:
    assert _refused(frame).code == "bad_field"


def test_errors_inside_a_nested_message_name_the_outer_field() -> None:
    history = [{"id": "1", "from": "a\u0007", "text": "x", "time": 1}]
    frame = json.dumps({"type": "welcome", "version": 1, "nick": "a", "room": "r", "history": history})
    error = _refused(frame.encode(), from_host=True)
    assert (error.code, error.text) == (
        "bad_field",
        "field 'history': field 'from': contains control characters or invalid code points",
    )


def test_every_error_text_fits_an_error_frame() -> None:
    """The host sends these texts back in `error` frames, whose text is capped."""
    frames = [
        b"{" * 2,
        b'{"type":"' + b"x" * 5000 + b'"}',
        b'{"type":"hello","version":' + b"7" * 5000 + b',"nick":"a","client_id":"c"}',
        b"[" * 10_000,
        b'{"type":"welcome","version":1,"nick":"a","room":"r","history":[{"id":"1","from":"a","text":"x","time":"t"}]}',
    ]
    for frame in frames:
        error = _refused(frame, from_host=True)
        echoed = encode_event(ev.Error(code=error.code, text=error.text))
        assert decode_frame(echoed[:-1], from_host=True) == ev.Error(code=error.code, text=error.text)
