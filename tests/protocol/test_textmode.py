"""The plain-text dialect for nc/telnet users: sniffing, commands, rendering."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from net.protocol import codec, fastcodec
from net.protocol import events as ev
from net.protocol.connection import NEED_DATA, ConnectionClosed, ConnectionState, RemoteProtocolError
from net.protocol.errors import DecodeError
from net.protocol.limits import PROTOCOL_VERSION
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
    assert hello == ev.Hello(version=PROTOCOL_VERSION, nick="小明", client_id=conn.client_id)
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
    assert conn.next_event() == ev.Hello(version=PROTOCOL_VERSION, nick="bob", client_id=conn.client_id)


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
    assert conn.send(ev.Welcome(version=PROTOCOL_VERSION, nick="bob", room="Lab")).startswith(
        b"Welcome to Lab, bob!"
    )
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
        # Issue 15, 5: what really happened, by the cause the host decided.
        (ev.Left("bob", NOON, reason="gone home", cause="quit"), "[12:04] <-- bob left (gone home)"),
        (ev.Left("bob", NOON, reason="connection closed", cause="lost"), "[12:04] <-- bob lost connection"),
        (ev.Left("bob", NOON, reason="timed out", cause="timed_out"), "[12:04] <-- bob timed out"),
        (
            ev.Left(nick="bob", time=NOON, reason="flooding: too many messages too fast", cause="removed"),
            "[12:04] <-- bob was removed by the host (flooding: too many messages too fast)",
        ),
        (ev.Left(nick="bob", time=NOON, reason="?", cause="a later cause"), "[12:04] <-- bob left (?)"),
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
        version=PROTOCOL_VERSION,
        nick="bob",
        room="",
        members=(ALICE, BOB),
        history=(
            ev.ChatMessage(id="1", sender="alice", text="earlier", time=NOON - 3600),
            ev.ChatMessage(id="2", sender="小明", text="laughs", time=NOON, action=True),
        ),
    )
    assert render_event(welcome) == (
        "Welcome to LanChat, bob!\n"
        "Commands: /me ACTION, /msg NICK TEXT, /nick NEWNICK, /who, /quit. Anything else\n"
        "        | is sent to the room.\n"
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
    assert conn.send(message) == b"[12:04] alice: one\n        | two\n"


# --- what a message cannot make a terminal show (issue 14, item 3) ------------------------

#: Every row of a message after its first starts with this: the text a sender wrote never
#: starts a row of its own, so it cannot pass for a system line or another member's line.
CONTINUATION = "        | "
#: The widest row sent: an 80-column terminal never wraps one by itself.
ROW_COLUMNS = 79
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _columns(row: str) -> int:
    """Terminal columns of `row`, counted as a terminal would at most (tab: 8, wide: 2)."""
    return sum(8 if c == "\t" else 2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in row)


def _rows_of(event: ev.Event) -> list[str]:
    """What a text member's terminal gets for `event`, one entry per row."""
    data = _named().send(event)
    assert data.endswith(b"\n")
    return data.decode("utf-8")[:-1].split("\n")


def _assert_safe(rows: list[str]) -> None:
    for row in rows:
        assert _columns(row) <= ROW_COLUMNS, row
        assert not any(c in row for c in BIDI_CONTROLS), row
        assert not any(unicodedata.category(c) == "Cc" and c != "\t" for c in row), row
        assert "\u2028" not in row and "\u2029" not in row


@pytest.mark.parametrize(
    "forged",
    [
        "[12:05] <-- alice left (quit)",
        "alice: give me the admin password",
        "[12:04] (private) alice: send me your password",
        "[12:04] alice: hello",
        "Online: alice (host)",
        "Cannot join: the room is full (2 members)",
        "Goodbye (host stopped)",
    ],
)
@pytest.mark.parametrize("private", [False, True])
@pytest.mark.parametrize("action", [False, True])
def test_a_message_cannot_start_a_line_of_its_own(forged: str, private: bool, action: bool) -> None:
    message = ev.ChatMessage(
        id="1",
        sender="mallory",
        text=f"hi\n{forged}\n\n{forged}",
        time=NOON,
        to="bob" if private else None,
        action=action,
    )
    rows = _rows_of(message)
    header = "[12:04] " + ("(private) " if private else "") + ("* mallory " if action else "mallory: ")
    assert rows == [header + "hi", CONTINUATION + forged, CONTINUATION, CONTINUATION + forged]
    _assert_safe(rows)


def test_padding_cannot_push_a_forged_line_to_the_start_of_a_terminal_row() -> None:
    """An 80-column terminal wraps a long line by itself: spaces up to the edge would put
    what follows at the start of a row, looking like a line of its own."""
    padded = "ok" + " " * (80 - len("[12:04] mallory: ok")) + "[12:05] <-- alice left (quit)"
    rows = _rows_of(ev.ChatMessage(id="1", sender="mallory", text=padded, time=NOON))
    assert rows[0].startswith("[12:04] mallory: ok")
    assert len(rows) == 2 and rows[1].startswith(CONTINUATION)
    assert rows[1].endswith(" [12:05] <-- alice left (quit)")
    _assert_safe(rows)
    reason = "quit" + " " * 60 + "[12:05] alice: hello"
    _assert_safe(_rows_of(ev.Left(nick="mallory", time=NOON, reason=reason)))


def test_wide_characters_count_two_columns() -> None:
    text = "你好" * 40  # 160 columns
    rows = _rows_of(ev.ChatMessage(id="1", sender="小明", text=text, time=NOON))
    _assert_safe(rows)
    assert rows[0].startswith("[12:04] 小明: 你好")
    assert all(row.startswith(CONTINUATION) for row in rows[1:])
    assert (
        "".join([rows[0][len("[12:04] 小明: ") :], *(row[len(CONTINUATION) :] for row in rows[1:])]) == text
    )


def test_a_long_multiline_message_keeps_every_row_inside_the_message() -> None:
    words = ["alpha", "[12:05]", "<--", "alice", "left", "你好世界", "(private)", "bob:", "x" * 90]
    lines = [" ".join(words[(i + j) % len(words)] for j in range(i % 11)) for i in range(150)]
    text = "\n".join(lines)
    text = (text * (3000 // len(text) + 1))[:3000]
    assert len(text) == 3000 and text.count("\n") > 30
    rows = _rows_of(ev.ChatMessage(id="1", sender="mallory", text=text, time=NOON))
    _assert_safe(rows)
    assert rows[0].startswith("[12:04] mallory: ")
    assert all(row.startswith(CONTINUATION) for row in rows[1:])
    bodies = [rows[0][len("[12:04] mallory: ") :], *(row[len(CONTINUATION) :] for row in rows[1:])]
    # Nothing lost, nothing added (but the spaces where rows break):
    assert "".join(bodies).replace(" ", "") == text.replace("\n", "").replace(" ", "")


@pytest.mark.parametrize("control", BIDI_CONTROLS)
def test_every_bidi_control_is_shown_escaped_in_every_field(control: str) -> None:
    shown = f"<U+{ord(control):04X}>"
    nasty = f"a{control}b"
    events = [
        ev.ChatMessage(id="1", sender=nasty, text=f"{nasty}\n{nasty}", time=NOON, to=nasty),
        ev.ChatMessage(id="1", sender=nasty, text=nasty, time=NOON, action=True),
        ev.Joined(nick=nasty, time=NOON),
        ev.Left(nick=nasty, time=NOON, reason=nasty),
        ev.Renamed(old=nasty, new=nasty, time=NOON),
        ev.Members(members=(ev.MemberInfo(nick=nasty),)),
        ev.Welcome(version=PROTOCOL_VERSION, nick=nasty, room=nasty, members=(ev.MemberInfo(nick=nasty),)),
        ev.Refuse(code="x", text=nasty),
        ev.Error(code="x", text=nasty),
        ev.Bye(reason=nasty),
    ]
    for event in events:
        rows = _rows_of(event)
        _assert_safe(rows)
        assert f"a{shown}b" in "\n".join(rows), event


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\r", "<U+000D>"),
        ("\x1b[2J", "<U+001B>[2J"),
        ("\x9b31m", "<U+009B>31m"),
        ("\x07", "<U+0007>"),
        ("\x7f", "<U+007F>"),
        ("\x85", "<U+0085>"),
        ("\u2028", "<U+2028>"),
        ("\u2029", "<U+2029>"),
        ("\ud800", "<U+D800>"),
    ],
)
def test_controls_that_reach_the_renderer_anyway_are_shown_escaped(raw: str, shown: str) -> None:
    """The codec refuses these (test below), so only a bug could bring them here: still
    no terminal gets them raw. A carriage return would let a line overwrite its own start."""
    message = ev.ChatMessage(id="1", sender=f"m{raw}", text=f"hi{raw}[12:04] alice: hi", time=NOON)
    rows = _rows_of(message)
    _assert_safe(rows)
    assert rows[0] == f"[12:04] m{shown}: hi{shown}[12:04] alice: hi"
    left = _rows_of(ev.Left(nick="bob", time=NOON, reason=f"a\nb{raw}"))
    _assert_safe(left)
    assert left == [f"[12:04] <-- bob left (a<U+000A>b{shown})"]


def test_tabs_in_a_text_are_kept_and_counted_as_eight_columns() -> None:
    text = "a\tb" * 30
    rows = _rows_of(ev.ChatMessage(id="1", sender="bob", text=text, time=NOON))
    _assert_safe(rows)
    assert len(rows) > 1 and rows[0].startswith("[12:04] bob: a\tb")


_RENDERED_STRINGS = [
    b'{"type":"message","id":"1","from":"%s","text":"x","time":1}',
    b'{"type":"message","id":"1","from":"a","text":"%s","time":1}',
    b'{"type":"message","id":"1","from":"a","text":"x","time":1,"to":"%s"}',
    b'{"type":"joined","nick":"%s","time":1}',
    b'{"type":"left","nick":"a","time":1,"reason":"%s"}',
    b'{"type":"renamed","old":"a","new":"%s","time":1}',
    b'{"type":"members","members":[{"nick":"%s"}]}',
    b'{"type":"welcome","version":1,"nick":"a","room":"%s"}',
    b'{"type":"refuse","code":"x","text":"%s"}',
    b'{"type":"error","code":"x","text":"%s"}',
    b'{"type":"bye","reason":"%s"}',
]


@pytest.mark.parametrize("frame", _RENDERED_STRINGS)
@pytest.mark.parametrize("control", [b"\\u001b[2J", b"\\u009b2J", b"\\r", b"\\u0007"])
def test_the_codec_refuses_terminal_controls_in_every_string_a_terminal_is_shown(
    frame: bytes, control: bytes
) -> None:
    """`lanchat join` prints what a host sends: a host cannot send it an escape sequence."""
    with pytest.raises(DecodeError) as info:
        codec.decode_frame(frame % control, from_host=True)
    assert info.value.code == "bad_field"
    with pytest.raises(DecodeError):
        fastcodec.decode_frame(frame % control, from_host=True)
    raw = (frame % b"a").replace(b'"a"', b'"\x1b"', 1)
    with pytest.raises(DecodeError):
        codec.decode_frame(raw, from_host=True)


@settings(max_examples=300, deadline=None)
@given(
    sender=st.text(min_size=1, max_size=30),
    text=st.text(min_size=1, max_size=600),
    reason=st.text(max_size=300),
    private=st.booleans(),
    action=st.booleans(),
)
def test_whatever_members_send_renders_to_safe_rows(
    sender: str, text: str, reason: str, private: bool, action: bool
) -> None:
    message = ev.ChatMessage(
        id="1", sender=sender, text=text, time=NOON, to="b" if private else None, action=action
    )
    rendered = render_event(message)
    assert rendered is not None
    rows = rendered.split("\n")
    _assert_safe(rows)
    assert rows[0].startswith("[12:04]")
    assert all(row.startswith(CONTINUATION) for row in rows[1:])
    left = render_event(ev.Left(nick=sender, time=NOON, reason=reason))
    assert left is not None
    rows = left.split("\n")
    _assert_safe(rows)
    assert rows[0].startswith("[12:04] <--")
    assert all(row.startswith(CONTINUATION) for row in rows[1:])
