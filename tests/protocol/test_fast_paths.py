"""The codec's fast paths (hot on a busy host) give exactly what the generic schema walk gives."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from net.protocol import codec
from net.protocol import events as ev
from tests.protocol.strategies import chat_messages, ids, message_texts, nicks, times


def generic_bytes(event: ev.Event) -> bytes:
    obj = codec.event_to_object(event)
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@given(chat_messages)
def test_fast_message_encoding_equals_the_generic_one(message: ev.ChatMessage) -> None:
    assert codec.encode_event(message) == generic_bytes(message)


@given(st.builds(ev.Ack, id=ids, msg_id=ids, time=times))
def test_fast_ack_encoding_equals_the_generic_one(ack: ev.Ack) -> None:
    assert codec.encode_event(ack) == generic_bytes(ack)


_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=5), ids, message_texts, nicks, st.just("")
)


@given(
    st.fixed_dictionaries(
        {"type": st.just("say")},
        optional={"id": _values, "text": _values, "to": _values, "action": _values},
    )
)
def test_fast_say_decoding_accepts_and_refuses_what_the_generic_path_does(obj: dict) -> None:
    try:
        generic = codec._read_fields(obj, codec.CLIENT_SCHEMA[ev.Say])
    except codec.DecodeError:
        generic = None
    try:
        fast = codec.event_from_object(obj, from_host=False)
    except codec.DecodeError:
        fast = None
    assert fast == (None if generic is None else ev.Say(**generic))


def _outcome(decode, frame: bytes):
    try:
        return decode(frame)
    except codec.DecodeError as exc:
        return ("error", exc.code)


def _host_decode(frame: bytes) -> ev.Event:
    return codec.decode_frame(frame, from_host=False)


def _generic_decode(frame: bytes) -> ev.Event:
    return codec.event_from_object(codec.parse_frame(frame), from_host=False)


_awkward_text = st.text(
    alphabet=st.sampled_from(['"', "\\", "\n", "\x00", "\x1f", "\x7f", "\x85", "é", "中", "😀", "x", " "]),
    max_size=12,
)


@given(
    ids | st.text(max_size=70),
    message_texts | _awkward_text,
    st.booleans(),
    st.binary(max_size=3),
    st.integers(min_value=0, max_value=200),
)
def test_plain_say_frames_decode_exactly_as_the_json_parser_does(
    message_id: str, text: str, ascii_only: bool, garbage: bytes, cut: int
) -> None:
    frame = json.dumps(
        {"type": "say", "id": message_id, "text": text}, ensure_ascii=ascii_only, separators=(",", ":")
    ).encode()
    assert _outcome(_host_decode, frame) == _outcome(_generic_decode, frame)
    mangled = frame[:cut] + garbage + frame[cut:]  # invalid UTF-8, a quote or a brace in the middle
    assert _outcome(_host_decode, mangled) == _outcome(_generic_decode, mangled)


def test_the_plain_say_shortcut_is_taken_for_the_frames_clients_send() -> None:
    frame = codec.encode_event(ev.Say(id="m1", text="你好 <b> 😀")).rstrip(b"\n")
    assert codec._say_from_frame(frame) == ev.Say(id="m1", text="你好 <b> 😀")


@given(chat_messages)
def test_the_fast_builders_build_what_the_constructors_build(message: ev.ChatMessage) -> None:
    m = message
    built = ev.build_message(m.id, m.sender, m.text, m.time, m.to, m.action)
    assert built == message and type(built) is ev.ChatMessage and hash(built) == hash(message)
    assert ev.build_ack(m.id, "m-1", m.time) == ev.Ack(id=m.id, msg_id="m-1", time=m.time)
    say = ev.Say(id=message.id, text=message.text, to=message.to, action=message.action)
    assert ev.build_say(say.id, say.text, say.to, say.action) == say
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.text = "changed"  # type: ignore[misc]
