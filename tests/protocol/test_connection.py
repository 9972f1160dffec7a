"""The connection state machine: every (sender, state, event) combination, closing, error limits."""

from __future__ import annotations

import itertools

import pytest

from net.protocol import events as ev
from net.protocol.codec import encode_event
from net.protocol.connection import (
    MAX_REMOTE_ERRORS,
    NEED_DATA,
    Connection,
    ConnectionClosed,
    ConnectionState,
    LocalProtocolError,
    RemoteProtocolError,
    Role,
)
from tests.protocol.samples import CLIENT_EVENTS, HOST_EVENTS

H, O, C = ConnectionState.HANDSHAKE, ConnectionState.OPEN, ConnectionState.CLOSED  # noqa: E741 (a compact table)

#: The specification, restated independently of connection.py's table:
#: (sender, state) -> {event type: state after it}.
LEGAL: dict[tuple[Role, ConnectionState], dict[type, ConnectionState]] = {
    (Role.CLIENT, H): {ev.Hello: H, ev.Ping: H, ev.Pong: H, ev.Bye: C},
    (Role.HOST, H): {
        ev.Welcome: O,
        ev.Refuse: C,
        ev.Error: H,
        ev.Successors: H,  # the answer to a `look` hello (issue 18: a host that came back)
        ev.Ping: H,
        ev.Pong: H,
        ev.Bye: C,
    },
    (Role.CLIENT, O): {
        ev.Say: O,
        ev.Rename: O,
        ev.Typing: O,
        ev.Who: O,
        ev.Got: O,
        ev.FileControl: O,
        ev.Ping: O,
        ev.Pong: O,
        ev.Bye: C,
    },
    (Role.HOST, O): {
        ev.ChatMessage: O,
        ev.Ack: O,
        ev.Held: O,
        ev.Mail: O,
        ev.Delivered: O,
        ev.Joined: O,
        ev.Left: O,
        ev.Renamed: O,
        ev.Members: O,
        ev.TypingNotice: O,
        ev.FileNotice: O,
        ev.Successors: O,
        ev.Handover: O,
        ev.Error: O,
        ev.Ping: O,
        ev.Pong: O,
        ev.Bye: C,
    },
    (Role.CLIENT, C): {},
    (Role.HOST, C): {},
}

SAMPLE = {type(event): event for event in reversed((*CLIENT_EVENTS, *HOST_EVENTS))}
SCHEMA_OF = {Role.CLIENT: {type(e) for e in CLIENT_EVENTS}, Role.HOST: {type(e) for e in HOST_EVENTS}}
HELLO = ev.Hello(version=1, nick="a", client_id="c")
WELCOME = ev.Welcome(version=1, nick="a", room="r")


def _other(role: Role) -> Role:
    return Role.HOST if role is Role.CLIENT else Role.CLIENT


def connection_in(role: Role, state: ConnectionState) -> Connection:
    """A connection for `role`, brought into `state` through legal moves."""
    conn = Connection(role)
    if state is H:
        return conn
    if state is C:
        conn.send(ev.Bye())
        return conn
    if role is Role.CLIENT:
        conn.send(HELLO)
        conn.receive_data(encode_event(WELCOME))
        assert conn.next_event() == WELCOME
    else:
        conn.receive_data(encode_event(HELLO))
        assert conn.next_event() == HELLO
        conn.send(WELCOME)
    assert conn.state is O
    return conn


COMBINATIONS = [
    (sender, state, cls)
    for sender, state, cls in itertools.product(Role, ConnectionState, SAMPLE)
    if cls is not ev.MemberInfo
]


def _id(combination: tuple[Role, ConnectionState, type]) -> str:
    sender, state, cls = combination
    return f"{sender.value}-{state.value}-{cls.__name__}"


@pytest.mark.parametrize("combination", COMBINATIONS, ids=_id)
def test_sending_follows_the_table(combination: tuple[Role, ConnectionState, type]) -> None:
    sender, state, cls = combination
    conn = connection_in(sender, state)
    event = SAMPLE[cls]
    after = LEGAL[(sender, state)].get(cls)
    if after is None:
        with pytest.raises(LocalProtocolError, match="is not allowed from the"):
            conn.send(event)
        assert conn.state is state
    else:
        assert conn.send(event) == encode_event(event)
        assert conn.state is after


RECEIVABLE = [(sender, state, cls) for sender, state, cls in COMBINATIONS if cls in SCHEMA_OF[sender]]


@pytest.mark.parametrize("combination", RECEIVABLE, ids=_id)
def test_receiving_follows_the_table(combination: tuple[Role, ConnectionState, type]) -> None:
    sender, state, cls = combination
    conn = connection_in(_other(sender), state)
    event = SAMPLE[cls]
    conn.receive_data(encode_event(event))
    after = LEGAL[(sender, state)].get(cls)
    if state is C:
        assert conn.next_event() == ConnectionClosed()
    elif after is None:
        with pytest.raises(RemoteProtocolError) as info:
            conn.next_event()
        assert info.value.code == "not_allowed"
        assert (
            info.value.text == f"{event.TYPE!r} is not allowed from the {sender.value} in state {state.value}"
        )
        assert info.value.fatal is (state is H)
        assert conn.state is (C if state is H else state)
    else:
        assert conn.next_event() == event
        assert conn.state is after


def test_the_module_table_matches_the_specification() -> None:
    from net.protocol.connection import _TRANSITIONS

    assert {key: value for key, value in LEGAL.items() if value} == _TRANSITIONS


def test_a_second_hello_is_refused_both_locally_and_remotely() -> None:
    client = Connection(Role.CLIENT)
    client.send(HELLO)
    with pytest.raises(LocalProtocolError):
        client.send(HELLO)
    host = Connection(Role.HOST)
    host.receive_data(encode_event(HELLO) * 2)
    assert host.next_event() == HELLO
    with pytest.raises(RemoteProtocolError) as info:
        host.next_event()
    assert (info.value.code, info.value.fatal) == ("not_allowed", True)
    assert host.state is C
    assert host.next_event() == ConnectionClosed()


def test_a_full_conversation_between_two_connections() -> None:
    client, host = Connection(Role.CLIENT), Connection(Role.HOST)
    host.receive_data(client.send(HELLO))
    assert host.events() == [HELLO]
    client.receive_data(host.send(WELCOME))
    assert client.events() == [WELCOME]
    say = ev.Say(id="1", text="你好")
    host.receive_data(client.send(say) + client.send(ev.Ping(token="p")))
    assert host.events() == [say, ev.Ping(token="p")]
    replies = [ev.Ack(id="1", msg_id="h-1", time=1.0), ev.Ping(token="p").reply()]
    client.receive_data(b"".join(host.send(reply) for reply in replies))
    assert client.events() == [*replies]
    host.receive_data(client.send(ev.Bye(reason="done")))
    assert (client.state, host.state) == (C, O)
    assert host.events() == [ev.Bye(reason="done"), ConnectionClosed()]
    assert host.state is C


def test_a_refusal_closes_the_client_and_what_follows_is_dropped() -> None:
    client = Connection(Role.CLIENT)
    client.send(HELLO)
    refuse = ev.Refuse(code="nick_taken", text="taken")
    client.receive_data(encode_event(refuse) + encode_event(ev.Bye()))
    assert client.next_event() == refuse
    assert client.state is C
    assert client.next_event() == ConnectionClosed()
    with pytest.raises(LocalProtocolError):
        client.send(ev.Say(id="1", text="x"))


def test_bye_closes_and_frames_after_it_are_ignored() -> None:
    host = connection_in(Role.HOST, O)
    host.receive_data(encode_event(ev.Bye(reason="r")) + encode_event(ev.Who()) + b"garbage\n")
    assert host.next_event() == ev.Bye(reason="r")
    assert host.state is C
    assert host.next_event() == ConnectionClosed()
    host.receive_data(encode_event(ev.Who()))
    assert host.next_event() == ConnectionClosed()
    assert host.remote_errors == 0


def test_after_sending_bye_nothing_more_is_read_or_sent() -> None:
    client = connection_in(Role.CLIENT, O)
    client.receive_data(encode_event(ev.Ping()))
    client.send(ev.Bye())
    assert client.next_event() == ConnectionClosed()
    with pytest.raises(LocalProtocolError):
        client.send(ev.Pong())


def test_end_of_stream_yields_connection_closed_after_the_buffered_events() -> None:
    host = connection_in(Role.HOST, O)
    host.receive_data(encode_event(ev.Who()) + b'{"type":"wh')
    host.receive_data(b"")
    assert host.next_event() == ev.Who()
    assert host.next_event() == ConnectionClosed()  # the unfinished frame is dropped
    assert host.state is C
    assert host.next_event() == ConnectionClosed()


def test_end_of_stream_during_the_handshake() -> None:
    host = Connection(Role.HOST)
    assert host.next_event() is NEED_DATA
    host.receive_data(b"")
    assert host.events() == [ConnectionClosed()]


def test_nothing_is_returned_before_a_frame_is_complete() -> None:
    host = Connection(Role.HOST)
    frame = encode_event(HELLO)
    host.receive_data(frame[:-1])
    assert host.next_event() is NEED_DATA
    assert host.events() == []
    host.receive_data(frame[-1:])
    assert host.next_event() == HELLO


def test_any_bad_frame_in_the_handshake_is_fatal() -> None:
    for bad in (b"nonsense\n", b'{"type":"say","id":"1","text":"x"}\n', b'{"type":"hello"}\n'):
        host = Connection(Role.HOST)
        host.receive_data(bad)
        with pytest.raises(RemoteProtocolError) as info:
            host.next_event()
        assert info.value.fatal
        assert host.state is C
        assert host.next_event() == ConnectionClosed()


def test_errors_once_open_are_tolerated_up_to_the_limit_then_fatal() -> None:
    assert MAX_REMOTE_ERRORS == 20
    host = connection_in(Role.HOST, O)
    host.receive_data(b'{"type":"nope"}\n' * (MAX_REMOTE_ERRORS + 1) + encode_event(ev.Who()))
    for count in range(1, MAX_REMOTE_ERRORS + 1):
        with pytest.raises(RemoteProtocolError) as info:
            host.next_event()
        assert (info.value.code, info.value.fatal) == ("unknown_type", False)
        assert host.remote_errors == count
        assert host.state is O
    with pytest.raises(RemoteProtocolError) as info:
        host.next_event()
    assert (info.value.code, info.value.fatal) == ("unknown_type", True)
    assert host.state is C
    assert host.next_event() == ConnectionClosed()  # the good frame after it is not read


def test_good_events_around_a_bad_frame_are_all_delivered() -> None:
    host = connection_in(Role.HOST, O)
    host.receive_data(b'{"type":"who"}\n{"type":"zzz"}\n{"type":"ping"}\n')
    assert host.events() == [ev.Who()]
    with pytest.raises(RemoteProtocolError) as info:
        host.events()
    assert (info.value.code, info.value.fatal) == ("unknown_type", False)
    assert host.events() == [ev.Ping()]


def test_an_over_long_frame_is_fatal_at_once() -> None:
    host = connection_in(Role.HOST, O)
    host.receive_data(encode_event(ev.Who()))
    with pytest.raises(RemoteProtocolError) as info:
        host.receive_data(b"x" * (256 * 1024 + 1))
    assert (info.value.code, info.value.fatal) == ("frame_too_large", True)
    assert host.state is C
    assert host.next_event() == ConnectionClosed()


def test_a_smaller_frame_cap_can_be_chosen() -> None:
    host = Connection(Role.HOST, max_frame_bytes=64)
    with pytest.raises(RemoteProtocolError) as info:
        host.receive_data(encode_event(ev.Hello(version=1, nick="a" * 40, client_id="c" * 40)))
    assert info.value.text == "frame exceeds 64 bytes"


def test_an_event_too_large_to_encode_leaves_the_state_unchanged() -> None:
    host = Connection(Role.HOST)
    host.receive_data(encode_event(HELLO))
    host.next_event()
    members = tuple(ev.MemberInfo(nick="😀" * 24) for _ in range(3000))
    with pytest.raises(ValueError, match="exceeds"):
        host.send(ev.Welcome(version=1, nick="a", room="r", members=members))
    assert host.state is H
    host.send(WELCOME)
    assert host.state is O


def test_a_remote_error_becomes_an_error_frame() -> None:
    host = connection_in(Role.HOST, O)
    host.receive_data(b'{"type":"say","id":"1"}\n')
    with pytest.raises(RemoteProtocolError) as info:
        host.next_event()
    assert info.value.to_event() == ev.Error(code="bad_field", text="field 'text' is missing")
    assert (
        host.send_error(info.value)
        == b'{"type":"error","code":"bad_field","text":"field \'text\' is missing"}\n'
    )
    assert str(info.value) == "bad_field: field 'text' is missing"


def test_ping_knows_its_pong() -> None:
    assert ev.Ping(token="42").reply() == ev.Pong(token="42")


def test_connection_closed_is_a_value() -> None:
    assert ConnectionClosed() == ConnectionClosed()
    assert hash(ConnectionClosed()) == hash(ConnectionClosed())
    assert repr(ConnectionClosed()) == "ConnectionClosed()"
    assert repr(NEED_DATA) == "NEED_DATA"
