"""The codec's fast paths (hot on a busy host) give exactly what the generic schema walk gives."""

from __future__ import annotations

import json

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
