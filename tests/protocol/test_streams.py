"""Property tests: whole conversations split anywhere, and random input that must not crash."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from net.protocol import events as ev
from net.protocol.codec import CLIENT_SCHEMA, HOST_SCHEMA, DecodeError, decode_frame, encode_event
from net.protocol.connection import NEED_DATA, Connection, ConnectionClosed, RemoteProtocolError, Role
from net.protocol.textmode import TextConnection
from tests.protocol import strategies
from tests.protocol.samples import CLIENT_EVENTS, HOST_EVENTS
from tests.protocol.strategies import split_at

HELLO = ev.Hello(version=1, nick="小明", client_id="c1")
WELCOME = ev.Welcome(version=1, nick="小明", room="房间")


def _host_reads(chunks: list[bytes]) -> list[ev.Event]:
    """A host connection fed `chunks`; it welcomes the client as soon as the hello is read."""
    host = Connection(Role.HOST)
    received: list[ev.Event] = []
    for chunk in chunks:
        host.receive_data(chunk)
        while (event := host.next_event()) is not NEED_DATA:
            received.append(event)
            if isinstance(event, ev.Hello):
                host.send(WELCOME)
            if isinstance(event, ConnectionClosed):
                return received
    return received


def _client_reads(chunks: list[bytes]) -> list[ev.Event]:
    client = Connection(Role.CLIENT)
    client.send(HELLO)
    received: list[ev.Event] = []
    for chunk in chunks:
        client.receive_data(chunk)
        received.extend(client.events())
    return received


def _chunkings(stream: bytes, cuts: list[int]) -> list[list[bytes]]:
    return [[stream], split_at(stream, cuts), [stream[i : i + 1] for i in range(len(stream))]]


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(strategies.client_open_events, max_size=12),
    bye=st.booleans(),
    cuts=st.lists(st.integers(min_value=0), max_size=40),
)
def test_a_client_stream_split_anywhere_gives_the_same_events(
    events: list[ev.Event], bye: bool, cuts: list[int]
) -> None:
    sent = [HELLO, *events, *([ev.Bye(reason="done")] if bye else [])]
    stream = b"".join(map(encode_event, sent))
    expected = [*sent, *([ConnectionClosed()] if bye else [])]
    for chunks in _chunkings(stream, cuts):
        assert _host_reads(chunks) == expected


@settings(max_examples=60, deadline=None)
@given(
    welcome=strategies.welcomes,
    events=st.lists(strategies.host_open_events, max_size=12),
    cuts=st.lists(st.integers(min_value=0), max_size=40),
)
def test_a_host_stream_split_anywhere_gives_the_same_events(
    welcome: ev.Welcome, events: list[ev.Event], cuts: list[int]
) -> None:
    sent = [welcome, *events]
    stream = b"".join(map(encode_event, sent))
    for chunks in _chunkings(stream, cuts):
        assert _client_reads(chunks) == sent


def test_the_sample_conversations_byte_by_byte_and_with_16_ki_texts() -> None:
    big = [ev.Say(id=f"b{i}", text=char * 16_384) for i, char in enumerate("a中😀")]
    client_sent = [HELLO, *(e for e in CLIENT_EVENTS if not isinstance(e, ev.Hello | ev.Bye)), *big]
    stream = b"".join(map(encode_event, client_sent))
    assert len(stream) > 8 * 16_384
    assert _host_reads([stream[i : i + 1] for i in range(len(stream))]) == client_sent
    assert _host_reads(split_at(stream, list(range(7, len(stream), 4093)))) == client_sent
    host_sent = [
        HOST_EVENTS[0],
        *(e for e in HOST_EVENTS if not isinstance(e, ev.Welcome | ev.Refuse | ev.Bye)),
    ]
    stream = b"".join(map(encode_event, host_sent))
    assert _client_reads([stream[i : i + 1] for i in range(len(stream))]) == host_sent


def test_every_cut_inside_a_multibyte_character_is_harmless() -> None:
    say = ev.Say(id="1", text="中😀é" * 50)
    stream = encode_event(HELLO) + encode_event(say)
    text_start = stream.index("中".encode())
    for cut in range(text_start, text_start + 40):
        assert _host_reads([stream[:cut], stream[cut:]]) == [HELLO, say]


# --- random input ------------------------------------------------------------------------

_CAP = 300


def _pump_random(conn: Connection, chunks: list[bytes]) -> None:
    """Feed `chunks`; only RemoteProtocolError may escape, and buffering stays under the cap."""
    for chunk in chunks:
        try:
            conn.receive_data(chunk)
        except RemoteProtocolError as exc:
            assert exc.fatal
        assert conn._framer.buffered <= _CAP + 1  # white-box: the bound the framer promises
        while True:
            try:
                event = conn.next_event()
            except RemoteProtocolError:
                continue
            if event is NEED_DATA or isinstance(event, ConnectionClosed):
                break
            if isinstance(event, ev.Hello) and conn.role is Role.HOST:
                conn.send(WELCOME)


_valid_prefixes = st.sampled_from([b"", encode_event(HELLO), encode_event(HELLO) + b'{"type":"who"}\n'])


@settings(max_examples=150, deadline=None)
@given(prefix=_valid_prefixes, chunks=st.lists(st.binary(max_size=120), max_size=20))
def test_random_bytes_to_a_host_only_raise_remote_protocol_errors(prefix: bytes, chunks: list[bytes]) -> None:
    _pump_random(Connection(Role.HOST, max_frame_bytes=_CAP), [prefix, *chunks])


@settings(max_examples=150, deadline=None)
@given(chunks=st.lists(st.binary(max_size=120), max_size=20))
def test_random_bytes_to_a_client_only_raise_remote_protocol_errors(chunks: list[bytes]) -> None:
    client = Connection(Role.CLIENT, max_frame_bytes=_CAP)
    client.send(HELLO)
    _pump_random(client, [encode_event(WELCOME), *chunks])


_lines = st.lists(
    st.one_of(st.binary(max_size=60), st.text(max_size=60).map(str.encode)).map(lambda b: b + b"\n"),
    max_size=15,
)


@settings(max_examples=150, deadline=None)
@given(_lines)
def test_random_lines_to_a_text_connection_only_raise_remote_protocol_errors(lines: list[bytes]) -> None:
    conn = TextConnection(max_frame_bytes=_CAP)
    for line in lines:
        try:
            conn.receive_data(line)
        except RemoteProtocolError:
            break
        while True:
            try:
                event = conn.next_event()
            except RemoteProtocolError as exc:
                assert not exc.fatal
                continue
            if event is NEED_DATA:
                break
            assert isinstance(event, ev.Event)
            if isinstance(event, ev.Say | ev.Hello | ev.Rename | ev.Bye):
                # What a text peer says is relayed: it must be valid on the wire as well.
                encode_event(event)


_WIRE_KEYS = sorted(
    {"type", "from", "members", "history"}
    | {
        spec.wire_key
        for schema in (CLIENT_SCHEMA, HOST_SCHEMA)
        for fields in schema.values()
        for spec in fields
    }
)
_TYPES = sorted({cls.TYPE for cls in (*CLIENT_SCHEMA, *HOST_SCHEMA)})
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(_TYPES),
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_WIRE_KEYS), inner, max_size=5)
    ),
    max_leaves=12,
)
_objects = st.dictionaries(st.sampled_from(_WIRE_KEYS), _json_values, max_size=8)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(_TYPES), obj=_objects, from_host=st.booleans())
def test_random_objects_of_real_kinds_decode_or_raise_decode_error(
    kind: str, obj: dict, from_host: bool
) -> None:
    frame = json.dumps({**obj, "type": kind}, ensure_ascii=False).encode("utf-8", "surrogatepass")
    try:
        event = decode_frame(frame, from_host=from_host)
    except DecodeError as exc:
        assert exc.code in {"bad_utf8", "bad_field", "too_long", "unknown_type"}
        return
    # Whatever was accepted re-encodes and decodes to the same event.
    assert decode_frame(encode_event(event)[:-1], from_host=from_host) == event
