"""Encoding and decoding valid events: exact bytes, round trips in both directions, big texts."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from net.protocol import events as ev
from net.protocol.codec import (
    CLIENT_SCHEMA,
    HOST_SCHEMA,
    decode_frame,
    encode_event,
    event_to_object,
)
from net.protocol.limits import MAX_FRAME_BYTES, MAX_TEXT_CHARS
from tests.protocol import strategies
from tests.protocol.samples import CLIENT_EVENTS, HOST_EVENTS


def _round_trip(event: ev.Event, *, from_host: bool) -> ev.Event:
    frame = encode_event(event)
    assert frame.endswith(b"\n")
    assert frame.count(b"\n") == 1, "a raw newline inside a frame would split it"
    return decode_frame(frame[:-1], from_host=from_host)


def test_the_samples_cover_every_event_kind_of_both_directions() -> None:
    assert {type(event) for event in CLIENT_EVENTS} == set(CLIENT_SCHEMA)
    assert {type(event) for event in HOST_EVENTS} == set(HOST_SCHEMA)


@pytest.mark.parametrize("event", CLIENT_EVENTS, ids=repr)
def test_every_client_event_round_trips(event: ev.Event) -> None:
    assert _round_trip(event, from_host=False) == event


@pytest.mark.parametrize("event", HOST_EVENTS, ids=repr)
def test_every_host_event_round_trips(event: ev.Event) -> None:
    assert _round_trip(event, from_host=True) == event


@settings(deadline=None)  # timing varies on a shared machine; pytest-timeout bounds it
@given(strategies.client_events)
def test_generated_client_events_round_trip(event: ev.Event) -> None:
    assert _round_trip(event, from_host=False) == event


@settings(deadline=None)  # timing varies on a shared machine; pytest-timeout bounds it
@given(strategies.host_events)
def test_generated_host_events_round_trip(event: ev.Event) -> None:
    assert _round_trip(event, from_host=True) == event


def test_exact_bytes_of_a_say_compact_and_not_ascii_escaped() -> None:
    frame = encode_event(ev.Say(id="m1", text="你好 😀"))
    assert frame == '{"type":"say","id":"m1","text":"你好 😀"}\n'.encode()
    assert b"\\u" not in frame


def test_exact_bytes_of_a_message_uses_from_for_the_sender() -> None:
    message = ev.ChatMessage(id="h-1", sender="alice", text="hi", time=12.5, to="bob", action=True)
    assert encode_event(message) == (
        b'{"type":"message","id":"h-1","from":"alice","text":"hi","time":12.5,"to":"bob","action":true}\n'
    )


def test_optional_none_false_and_empty_fields_are_left_out_but_empty_strings_are_kept() -> None:
    assert event_to_object(ev.Say(id="1", text="x", to=None, action=False)) == {
        "type": "say",
        "id": "1",
        "text": "x",
    }
    assert event_to_object(ev.Joined(nick="a", time=1.0, host=False)) == {
        "type": "joined",
        "nick": "a",
        "time": 1.0,
    }
    assert event_to_object(ev.Ping()) == {"type": "ping", "token": ""}
    assert event_to_object(ev.Welcome(version=1, nick="a", room="", rate=0.0, burst=0)) == {
        "type": "welcome",
        "version": 1,
        "nick": "a",
        "room": "",
        "time": 0.0,
        "heartbeat": 10.0,
        "rate": 0.0,
        "burst": 0,
    }


def test_required_false_and_empty_fields_are_always_written() -> None:
    assert encode_event(ev.Typing(active=False)) == b'{"type":"typing","active":false}\n'
    notice = ev.TypingNotice(nick="a", active=False)
    assert encode_event(notice) == b'{"type":"typing","nick":"a","active":false}\n'
    assert encode_event(ev.Members()) == b'{"type":"members","members":[]}\n'


def test_nested_members_and_history_are_encoded_without_a_type() -> None:
    welcome = HOST_EVENTS[0]
    obj = json.loads(encode_event(welcome))
    assert obj["members"][0] == {"nick": "alice", "host": True, "since": 1_763_789_640.5}
    assert obj["members"][1] == {"nick": "小明", "since": 1_763_790_180.5}
    assert obj["history"][1] == {
        "id": "3f9a1c2e-42",
        "from": "小明",
        "text": "waves",
        "time": 1_763_790_241.5,
        "action": True,
    }


def test_newlines_and_tabs_in_a_text_are_escaped_not_raw() -> None:
    frame = encode_event(ev.Say(id="1", text="line one\nline two\ttab"))
    assert frame == b'{"type":"say","id":"1","text":"line one\\nline two\\ttab"}\n'
    assert decode_frame(frame[:-1], from_host=False) == ev.Say(id="1", text="line one\nline two\ttab")


def test_unicode_line_separators_stay_raw_and_are_not_frame_ends() -> None:
    text = "a\u2028b\u2029c"  # U+2028/U+2029 are not newlines for the framer
    frame = encode_event(ev.Say(id="1", text=text))
    assert frame.count(b"\n") == 1
    assert decode_frame(frame[:-1], from_host=False).text == text


@pytest.mark.parametrize(
    ("char", "utf8_bytes"),
    [("a", 1), ("é", 2), ("中", 3), ("😀", 4)],
    ids=["ascii", "latin", "cjk", "emoji"],
)
def test_a_text_of_the_maximum_length_fits_a_frame(char: str, utf8_bytes: int) -> None:
    say = ev.Say(id="m" * 64, text=char * MAX_TEXT_CHARS, to="n" * 24, action=True)
    frame = encode_event(say)
    assert len(frame) < MAX_FRAME_BYTES
    assert len(frame) > utf8_bytes * MAX_TEXT_CHARS
    assert decode_frame(frame[:-1], from_host=False) == say
    message = ev.ChatMessage(id="x" * 64, sender="s" * 24, text=char * MAX_TEXT_CHARS, time=1e9, to="t" * 24)
    assert decode_frame(encode_event(message)[:-1], from_host=True) == message


def test_16_ki_quotes_and_backslashes_still_fit_a_frame_after_escaping() -> None:
    say = ev.Say(id="1", text='"\\' * (MAX_TEXT_CHARS // 2))
    frame = encode_event(say)
    assert len(frame) == len('{"type":"say","id":"1","text":""}\n') + 2 * MAX_TEXT_CHARS
    assert decode_frame(frame[:-1], from_host=False) == say


def test_encoding_refuses_a_frame_over_the_limit() -> None:
    members = tuple(ev.MemberInfo(nick="😀" * 24, since=1e9) for _ in range(3000))
    with pytest.raises(ValueError, match="exceeds 262144"):
        encode_event(ev.Members(members=members))


def test_encoding_refuses_what_is_not_a_protocol_event() -> None:
    with pytest.raises(TypeError, match="not a protocol event"):
        encode_event(object())  # type: ignore[arg-type]


def test_integer_times_decode_as_floats() -> None:
    event = decode_frame(b'{"type":"ack","id":"a","msg_id":"b","time":7}', from_host=True)
    assert event == ev.Ack(id="a", msg_id="b", time=7.0)
    assert isinstance(event.time, float)


def test_unknown_extra_fields_are_ignored_for_forward_compatibility() -> None:
    frame = b'{"type":"who","colour":"red","future":{"nested":[1,2]}}'
    assert decode_frame(frame, from_host=False) == ev.Who()


def test_null_counts_as_absent_for_optional_fields() -> None:
    frame = b'{"type":"say","id":"1","text":"x","to":null,"action":null}'
    assert decode_frame(frame, from_host=False) == ev.Say(id="1", text="x")


def test_json_escapes_of_astral_characters_decode_to_one_character() -> None:
    frame = b'{"type":"say","id":"1","text":"\\ud83d\\ude00 \\u4e2d"}'
    assert decode_frame(frame, from_host=False) == ev.Say(id="1", text="😀 中")


def test_the_same_wire_type_means_different_events_per_direction() -> None:
    assert decode_frame(b'{"type":"typing","active":true}', from_host=False) == ev.Typing(active=True)
    assert decode_frame(b'{"type":"typing","nick":"a","active":true}', from_host=True) == ev.TypingNotice(
        nick="a", active=True
    )
