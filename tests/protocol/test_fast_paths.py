"""The codec's fast paths (`net.protocol.fastcodec`, hot on a busy host) give exactly what the
readable reference (`net.protocol.codec`, the generic schema walk) gives."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from net.protocol import codec, fastcodec
from net.protocol import events as ev
from net.protocol.connection import NEED_DATA, Connection, ConnectionClosed, RemoteProtocolError, Role
from tests.protocol.strategies import chat_messages, ids, message_texts, nicks, times


def generic_bytes(event: ev.Event) -> bytes:
    obj = codec.event_to_object(event)
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@given(chat_messages)
def test_fast_message_encoding_equals_the_generic_one(message: ev.ChatMessage) -> None:
    assert fastcodec.encode_event(message) == codec.encode_event(message) == generic_bytes(message)


@given(st.builds(ev.Ack, id=ids, msg_id=ids, time=times))
def test_fast_ack_encoding_equals_the_generic_one(ack: ev.Ack) -> None:
    assert fastcodec.encode_event(ack) == codec.encode_event(ack) == generic_bytes(ack)


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
        reference = codec.event_from_object(obj, from_host=False)
    except codec.DecodeError:
        reference = None
    assert reference == (None if generic is None else ev.Say(**generic))
    # The shortcut takes only what is plainly valid, and builds what the reference builds.
    fast = fastcodec.plain_say(obj)
    assert fast is None or fast == reference


def _outcome(decode, frame: bytes):
    try:
        return decode(frame)
    except codec.DecodeError as exc:
        return ("error", exc.code)


def _host_decode(frame: bytes) -> ev.Event:
    return fastcodec.decode_frame(frame, from_host=False)


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
    assert fastcodec.plain_say_from_frame(frame) == ev.Say(id="m1", text="你好 <b> 😀")


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


@given(
    st.lists(chat_messages, max_size=8), st.sampled_from([None, "bench0001"]), st.sampled_from([None, 1.5])
)
def test_a_run_of_messages_encodes_as_each_message_does(
    messages: list[ev.ChatMessage], one_sender: str | None, one_time: float | None
) -> None:
    # A host's runs share one sender and one time; mixed runs must come out right too.
    if one_sender is not None:
        messages = [dataclasses.replace(m, sender=one_sender) for m in messages]
    if one_time is not None:
        messages = [dataclasses.replace(m, time=one_time) for m in messages]
    assert fastcodec.encode_messages(messages) == b"".join(map(codec.encode_event, messages))
    acked = [m.sender for m in messages]  # any strings: the senders' own ids of the messages
    acks = [ev.Ack(id=own, msg_id=m.id, time=m.time) for own, m in zip(acked, messages, strict=True)]
    assert fastcodec.encode_acks(acked, messages) == b"".join(map(codec.encode_event, acks))


_client_frames = st.one_of(
    st.builds(lambda i, t: codec.encode_event(ev.Say(id=i, text=t)), ids, message_texts | _awkward_text),
    st.builds(
        lambda i, t: b'{"type":"say","id":"%s","text":"%s"}\n' % (i, t),
        st.sampled_from([b"m1", b""]),
        st.sampled_from([b"hi", b"\xff", b"\x7f", b"\xc2\x85", b" "]),
    ),
    st.just(codec.encode_event(ev.Ping(token="p"))),
    st.just(codec.encode_event(ev.Who())),
    st.just(codec.encode_event(ev.Bye(reason="done"))),
    st.just(b'{"type":"say"}\n'),
    st.just(b"not json\n"),
)


def _open_host_connection() -> Connection:
    host = Connection(Role.HOST)
    host.receive_data(codec.encode_event(ev.Hello(version=1, nick="ann", client_id="c1")))
    assert host.next_event() == ev.Hello(version=1, nick="ann", client_id="c1")
    host.send(ev.Welcome(version=1, nick="ann", room="r"))
    return host


def _drain(take) -> list:
    """Everything a connection gives until it needs data, errors included (as their codes)."""
    out: list = []
    for _ in range(1000):
        try:
            got = take()
        except RemoteProtocolError as exc:
            out.append(("error", exc.code, exc.fatal))
            continue
        if not got:
            return out
        out += got
        if isinstance(got[-1], ConnectionClosed):
            return out
    raise AssertionError("the connection never ran dry")


@given(st.lists(_client_frames, max_size=12), st.booleans())
def test_events_takes_runs_of_messages_exactly_as_next_event_does(frames: list[bytes], end: bool) -> None:
    one_by_one, in_runs = _open_host_connection(), _open_host_connection()
    for connection in (one_by_one, in_runs):
        connection.receive_data(b"".join(frames))
        if end:
            connection.receive_data(b"")

    def next_one() -> list:
        event = one_by_one.next_event()
        return [] if event is NEED_DATA else [event]

    assert _drain(in_runs.events) == _drain(next_one)
