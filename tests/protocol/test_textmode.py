"""The plain-text dialect for nc/telnet users: sniffing, commands, rendering."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from net.protocol import events as ev
from net.protocol.connection import NEED_DATA, ConnectionClosed, ConnectionState, RemoteProtocolError
from net.protocol.textmode import TEXT_HELP, TextConnection, looks_like_protocol, render_event

NOON = 1_700_000_000 - 1_700_000_000 % 86_400 + 12 * 3600 + 4 * 60  # 12:04 UTC on some day


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """Render clock times in UTC so the expected lines are exact."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "UTC")
    time.tzset()
    try:
        yield
    finally:
        mp.undo()
        time.tzset()


def _named(nick: str = "bob") -> TextConnection:
    conn = TextConnection()
    conn.receive_data(nick.encode() + b"\n")
    hello = conn.next_event()
    assert isinstance(hello, ev.Hello)
    return conn


def _parse(line: str) -> ev.Event | None:
    conn = _named()
    conn.receive_data(line.encode() + b"\n")
    event = conn.next_event()
    return None if event is NEED_DATA else event


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        (b"{", True),
        (b'  \r\n{"type":"hello"', True),
        (b"alice\n", False),
        (b"\xff\xfe", False),
        (b"[1]", False),
        (b"", None),
        (b" \r\n\t", None),
    ],
)
def test_sniffing_the_dialect_from_the_first_bytes(first: bytes, expected: bool | None) -> None:
    assert looks_like_protocol(first) is expected


def test_the_first_line_is_the_nickname() -> None:
    conn = TextConnection()
    conn.receive_data("\r\n  小明  \r\n".encode())
    hello = conn.next_event()
    assert hello == ev.Hello(version=1, nick="小明", client_id=conn.client_id)
    assert conn.client_id.startswith("text-")
    assert len(conn.client_id) == len("text-") + 16
    assert conn.next_event() is NEED_DATA


def test_text_client_ids_are_not_guessable() -> None:
    assert len({TextConnection().client_id for _ in range(50)}) == 50


def test_a_very_long_first_line_is_cut_for_the_room_to_refuse() -> None:
    conn = TextConnection()
    conn.receive_data(b"n" * 500 + b"\n")
    hello = conn.next_event()
    assert isinstance(hello, ev.Hello)
    assert hello.nick == "n" * 96


def test_lines_become_room_messages_with_their_own_ids() -> None:
    conn = _named()
    conn.receive_data("hello all\n  大家好  \n\n".encode())
    assert conn.events() == [ev.Say(id="t1", text="hello all"), ev.Say(id="t2", text="大家好")]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/me waves", ev.Say(id="t1", text="waves", action=True)),
        ("/ME  waves twice", ev.Say(id="t1", text="waves twice", action=True)),
        ("/msg alice hi there", ev.Say(id="t1", text="hi there", to="alice")),
        ("/msg 小明   你好  ", ev.Say(id="t1", text="你好", to="小明")),
        ("/nick robert", ev.Rename(nick="robert")),
        ("/who", ev.Who()),
        ("/quit", ev.Bye(reason="quit")),
        ("/quit see you", ev.Bye(reason="see you")),
        ("//me is not a command", ev.Say(id="t1", text="/me is not a command")),
        ("//", ev.Say(id="t1", text="/")),
        ("a/b", ev.Say(id="t1", text="a/b")),
        ("tab\there", ev.Say(id="t1", text="tab here")),
    ],
)
def test_commands(line: str, expected: ev.Event) -> None:
    assert _parse(line) == expected


@pytest.mark.parametrize("line", ["/dance", "/me", "/nick", "/msg", "/msg alice", "/msg alice   "])
def test_unknown_or_incomplete_commands_give_an_error_and_the_help(line: str) -> None:
    conn = _named()
    conn.receive_data(line.encode() + b"\n/who\n")
    with pytest.raises(RemoteProtocolError) as info:
        conn.next_event()
    word = line.split()[0]
    assert (info.value.code, info.value.fatal) == ("unknown_command", False)
    assert info.value.text == f"unknown command {word}. {TEXT_HELP}"
    assert conn.next_event() == ev.Who()


def test_an_invalid_utf8_line_gives_an_error_but_the_connection_survives() -> None:
    conn = _named()
    conn.receive_data(b"caf\xe9\nstill here\n")
    with pytest.raises(RemoteProtocolError) as info:
        conn.next_event()
    assert (info.value.code, info.value.text, info.value.fatal) == (
        "bad_utf8",
        "please send UTF-8 text",
        False,
    )
    assert conn.remote_errors == 1
    assert conn.next_event() == ev.Say(id="t1", text="still here")
    assert conn.state is ConnectionState.HANDSHAKE


@pytest.mark.parametrize("line", [b"bell\x07", b"\x1b[2Jclear", b"del\x7f", "csi\u009b2J".encode()])
def test_control_characters_are_refused_because_protocol_clients_would_refuse_them(line: bytes) -> None:
    conn = _named()
    conn.receive_data(line + b"\nok\n")
    with pytest.raises(RemoteProtocolError) as info:
        conn.next_event()
    assert (info.value.code, info.value.fatal) == ("bad_field", False)
    assert conn.next_event() == ev.Say(id="t1", text="ok")


def test_an_invalid_first_line_does_not_use_up_the_nickname() -> None:
    conn = TextConnection()
    conn.receive_data(b"\xff\nbob\n")
    with pytest.raises(RemoteProtocolError):
        conn.next_event()
    assert conn.next_event() == ev.Hello(version=1, nick="bob", client_id=conn.client_id)


def test_a_line_over_the_cap_is_fatal() -> None:
    conn = TextConnection(max_frame_bytes=100)
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(b"x" * 101)
    assert (info.value.code, info.value.text, info.value.fatal) == ("frame_too_large", "line too long", True)
    assert conn.state is ConnectionState.CLOSED
    assert conn.next_event() == ConnectionClosed()


def test_a_long_line_is_cut_to_the_text_limit() -> None:
    conn = _named()
    conn.receive_data(b"y" * 20_000 + b"\n")
    say = conn.next_event()
    assert isinstance(say, ev.Say)
    assert say.text == "y" * 16_384


def test_end_of_input_closes() -> None:
    conn = _named()
    conn.receive_data(b"last words\n")
    conn.receive_data(b"")
    assert conn.events() == [ev.Say(id="t1", text="last words"), ConnectionClosed()]
    assert conn.state is ConnectionState.CLOSED


def test_sending_welcome_opens_and_refuse_or_bye_closes() -> None:
    conn = _named()
    assert conn.send(ev.Welcome(version=1, nick="bob", room="Lab")).startswith(b"Welcome to Lab, bob!")
    assert conn.state is ConnectionState.OPEN
    assert conn.send(ev.Bye(reason="host stopped")) == b"Goodbye (host stopped)\n"
    assert conn.state is ConnectionState.CLOSED
    refused = TextConnection()
    assert refused.send(ev.Refuse(code="nick_taken", text="the nickname bob is already taken")) == (
        b"Cannot join: the nickname bob is already taken\n"
    )
    assert refused.state is ConnectionState.CLOSED


def test_errors_are_sent_as_lines() -> None:
    conn = _named()
    error = RemoteProtocolError("bad_utf8", "please send UTF-8 text", fatal=False)
    assert conn.send_error(error) == b"Error: please send UTF-8 text\n"
    assert conn.send_error(ev.Error(code="x", text="no")) == b"Error: no\n"


# --- rendering ---------------------------------------------------------------------------

ALICE = ev.MemberInfo(nick="alice", host=True, since=NOON)
BOB = ev.MemberInfo(nick="小明", since=NOON)


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (ev.ChatMessage(id="1", sender="alice", text="hello 你好", time=NOON), "[12:04] alice: hello 你好"),
        (
            ev.ChatMessage(id="1", sender="alice", text="waves", time=NOON + 60, action=True),
            "[12:05] * alice waves",
        ),
        (
            ev.ChatMessage(id="1", sender="alice", text="psst", time=NOON, to="bob"),
            "[12:04] (private) alice: psst",
        ),
        (
            ev.ChatMessage(id="1", sender="alice", text="nods", time=NOON, to="bob", action=True),
            "[12:04] (private) * alice nods",
        ),
        (ev.Joined(nick="小明", time=NOON), "[12:04] --> 小明 joined"),
        (ev.Left(nick="小明", time=NOON), "[12:04] <-- 小明 left"),
        (ev.Left(nick="小明", time=NOON, reason="quit"), "[12:04] <-- 小明 left (quit)"),
        (ev.Renamed(old="bob", new="robert", time=NOON), "[12:04] *** bob is now known as robert"),
        (ev.Members(members=(ALICE, BOB)), "Online: alice (host), 小明"),
        (
            ev.Refuse(code="room_full", text="the room is full (2 members)"),
            "Cannot join: the room is full (2 members)",
        ),
        (
            ev.Error(code="rate_limited", text="too many messages; wait 0.50 s"),
            "Error: too many messages; wait 0.50 s",
        ),
        (ev.Bye(), "Goodbye"),
        (ev.Bye(reason="host stopped"), "Goodbye (host stopped)"),
    ],
)
def test_rendering_each_event_kind(event: ev.Event, line: str) -> None:
    assert render_event(event) == line


def test_rendering_a_welcome_with_members_and_history() -> None:
    welcome = ev.Welcome(
        version=1,
        nick="bob",
        room="",
        members=(ALICE, BOB),
        history=(
            ev.ChatMessage(id="1", sender="alice", text="earlier", time=NOON - 3600),
            ev.ChatMessage(id="2", sender="小明", text="laughs", time=NOON, action=True),
        ),
    )
    assert render_event(welcome) == (
        f"Welcome to LanChat, bob! {TEXT_HELP}\n"
        "Online: alice (host), 小明\n"
        "[11:04] alice: earlier\n"
        "[12:04] * 小明 laughs"
    )


@pytest.mark.parametrize(
    "event",
    [ev.Ack(id="1", msg_id="2", time=NOON), ev.TypingNotice(nick="a", active=True), ev.Ping(), ev.Pong()],
)
def test_events_a_person_need_not_see_render_to_nothing(event: ev.Event) -> None:
    assert render_event(event) is None
    assert _named().send(event) == b""


def test_a_multiline_message_is_sent_as_utf8_lines() -> None:
    conn = _named()
    message = ev.ChatMessage(id="1", sender="alice", text="one\ntwo", time=NOON)
    assert conn.send(message) == b"[12:04] alice: one\ntwo\n"
