"""Bad input from one client never harms the others (issue 2, host-side acceptance).

Every test runs two well-behaved members, alice and bob, next to the offender and checks
afterwards that they still receive each other's messages and that the room holds exactly
who it should.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from types import SimpleNamespace

import pytest

from net.protocol import events as ev
from net.protocol.limits import FLOOD_STRIKES, MAX_FRAME_BYTES, PROTOCOL_VERSION
from net.protocol.textmode import NICKNAME_PROMPT
from net.room import RoomConfig
from tests.helpers import wait_until

HANDSHAKE_TIMEOUT = 1.0
_texts = itertools.count(1)


@pytest.fixture
def room(start_host, connect):
    host = start_host(handshake_timeout=HANDSHAKE_TIMEOUT, room=RoomConfig(rate_per_second=20, rate_burst=60))
    alice, bob = connect(host.port, "alice"), connect(host.port, "bob")
    return SimpleNamespace(
        host=host, alice=alice, bob=bob, connect=lambda *a, **k: connect(host.port, *a, **k)
    )


def assert_still_chatting(room, members: int = 2) -> None:
    for sender, receiver in ((room.alice, room.bob), (room.bob, room.alice)):
        text = f"still chatting {next(_texts)}"
        sender.say(text)
        receiver.wait_for(lambda e, t=text: isinstance(e, ev.ChatMessage) and e.text == t, what=repr(text))
    wait_until(lambda: room.host.member_count == members, message=f"{members} members")


def frame(obj: object) -> bytes:
    return json.dumps(obj).encode() + b"\n"


SAY = {"type": "say", "id": "b1", "text": "hello"}

# (what the member sends after joining, the error code the host answers with)
NON_FATAL_AFTER_HELLO = {
    "invalid UTF-8": (b'{"type":"say","id":"b1","text":"\xff\xfe\xc3"}\n', "bad_utf8"),
    "invalid JSON": (b'{"type":"say", "id": b1, }\n', "bad_json"),
    "not an object": (b'["say", "hello"]\n', "bad_json"),
    "unknown kind": (frame({"type": "dance", "id": "b1"}), "unknown_type"),
    "missing type": (frame({"id": "b1", "text": "hi"}), "bad_field"),
    "missing field": (frame({"type": "say", "id": "b1"}), "bad_field"),
    "mistyped field": (frame({**SAY, "text": 42}), "bad_field"),
    "mistyped flag": (frame({**SAY, "action": "yes"}), "bad_field"),
    "NaN": (b'{"type":"say","id":"b1","text":"x","action":NaN}\n', "bad_json"),
    "text over the limit": (frame({**SAY, "text": "x" * 20_000}), "too_long"),
    "nested 10,000 deep": (
        b'{"type":"say","id":"b1","text":' + b"[" * 10_000 + b"]" * 10_000 + b"}\n",
        "bad_json",
    ),
    "hello twice": (frame({"type": "hello", "version": 1, "nick": "again", "client_id": "x"}), "not_allowed"),
    "host-only kind": (frame({"type": "welcome", "version": 1, "nick": "me", "room": "r"}), "unknown_type"),
}


@pytest.mark.parametrize("name", list(NON_FATAL_AFTER_HELLO))
def test_bad_frame_from_a_member_gets_an_error_and_harms_no_one(room, name: str) -> None:
    data, code = NON_FATAL_AFTER_HELLO[name]
    mallory = room.connect("mallory")
    mallory.send_raw(data)
    error = mallory.wait_for(lambda e: isinstance(e, ev.Error), what="an error")
    assert error.code == code
    assert_still_chatting(room, members=3)
    mallory.say("sorry")  # one bad frame is forgiven: mallory may go on
    room.alice.wait_for(lambda e: isinstance(e, ev.ChatMessage) and e.text == "sorry")


FATAL_BEFORE_HELLO = {
    "invalid UTF-8": b'{"type":"hello","nick":"\xff"}\n',
    "invalid JSON": b"{hello}\n",
    "unknown kind": frame({"type": "dance"}),
    "missing fields": frame({"type": "hello", "version": 1}),
    "mistyped fields": frame({"type": "hello", "version": "1", "nick": "m", "client_id": "c"}),
    "nested 10,000 deep": b'{"type":"hello","nick":' + b"{" * 10_000 + b"}" * 10_000 + b"}\n",
    "say before hello": frame({"type": "say", "id": "1", "text": "hi"}),
    "nickname with control characters": frame(
        {"type": "hello", "version": 1, "nick": "bad\u0007\u001b[31m", "client_id": "c"}
    ),
}


@pytest.mark.parametrize("name", list(FATAL_BEFORE_HELLO))
def test_bad_frame_before_hello_gets_an_error_and_a_disconnect(room, name: str) -> None:
    mallory = room.connect()
    mallory.send_raw(FATAL_BEFORE_HELLO[name])
    mallory.wait_closed()
    assert mallory.errors(), f"no error frame before the disconnect: {mallory.events}"
    assert_still_chatting(room)


@pytest.mark.parametrize("nick", ["bad nick!", "/msg", "x" * 25, " "])
def test_invalid_nickname_is_refused_with_a_reason(room, nick: str) -> None:
    mallory = room.connect()
    mallory.send(ev.Hello(version=PROTOCOL_VERSION, nick=nick, client_id="m"))
    mallory.wait_closed()
    assert any(isinstance(e, ev.Refuse | ev.Error) for e in mallory.events), mallory.events
    assert_still_chatting(room)


def test_taken_nickname_is_refused(room) -> None:
    mallory = room.connect()
    mallory.send(ev.Hello(version=PROTOCOL_VERSION, nick="ALICE", client_id="m"))
    mallory.wait_closed()
    assert [e.code for e in mallory.events if isinstance(e, ev.Refuse)] == ["nick_taken"]
    assert_still_chatting(room)


def test_frame_over_the_limit_is_refused_before_it_is_complete(room) -> None:
    mallory = room.connect("mallory")
    mallory.send_raw(b'{"type":"say","id":"big","text":"')
    chunk = b"a" * 65536
    sent = 0
    # No newline ever: the host can only answer if it refuses the frame while it grows.
    while sent < 4 * MAX_FRAME_BYTES and not mallory.closed and not mallory.errors():
        try:
            mallory.send_raw(chunk)
        except OSError:
            break
        sent += len(chunk)
        mallory.read(0.01)
    mallory.wait_closed()
    assert [e.code for e in mallory.errors()] == ["frame_too_large"]
    assert sent <= 2 * MAX_FRAME_BYTES
    room.alice.wait_for(lambda e: isinstance(e, ev.Left) and e.nick == "mallory", what="mallory left")
    assert_still_chatting(room)


def test_ten_thousand_messages_a_second_are_rate_limited_then_cut_off(room) -> None:
    flooder = room.connect("flooder")
    frames = [frame({"type": "say", "id": f"f{i}", "text": f"flood {i}"}) for i in range(10_000)]
    start = time.monotonic()
    for first in range(0, len(frames), 500):  # 500 every 50 ms = 10,000 a second
        if flooder.closed:
            break
        try:
            flooder.send_raw(b"".join(frames[first : first + 500]))
        except OSError:
            break
        flooder.read(max(0.0, start + (first + 500) / 10_000 - time.monotonic()))
    flooder.wait_closed()
    limited = flooder.errors("rate_limited")
    assert len(limited) >= FLOOD_STRIKES // 2, f"only {len(limited)} rate_limited errors"
    assert limited[0].retry_after and limited[0].retry_after > 0
    left = room.alice.wait_for(lambda e: isinstance(e, ev.Left) and e.nick == "flooder", what="flooder left")
    assert "flood" in left.reason
    room.bob.wait_for(lambda e: isinstance(e, ev.Left) and e.nick == "flooder", what="flooder left")
    relayed = room.bob.messages("flooder")
    assert 0 < len(relayed) < 200  # the burst allowance and a little refill, nothing more
    assert_still_chatting(room)


def test_a_burst_of_renames_and_member_list_requests_is_rate_limited_then_cut_off(room) -> None:
    flooder = room.connect("flooder")
    requests = [
        frame({"type": "rename", "nick": f"fl{i}"}) if i % 2 else frame({"type": "who"}) for i in range(4_000)
    ]
    for first in range(0, len(requests), 500):
        if flooder.closed:
            break
        try:
            flooder.send_raw(b"".join(requests[first : first + 500]))
        except OSError:
            break
        flooder.read(0.01)
    flooder.wait_closed()
    limited = flooder.errors("rate_limited")
    assert len(limited) >= FLOOD_STRIKES // 2, f"only {len(limited)} rate_limited errors"
    assert {error.text.split(";")[0] for error in limited} == {
        "too many renames",
        "too many member list requests",
    }
    assert all(error.retry_after and error.retry_after > 0 for error in limited)
    left = room.bob.wait_for(
        lambda e: isinstance(e, ev.Left) and e.nick.startswith("fl"), what="flooder left"
    )
    assert "flood" in left.reason
    renames = [e for e in room.bob.events if isinstance(e, ev.Renamed)]
    lists = [e for e in flooder.events if isinstance(e, ev.Members)]
    assert 0 < len(renames) + len(lists) < 200  # the burst allowance and a little refill, nothing more
    assert_still_chatting(room)


@pytest.mark.parametrize("first_byte", [b"{", b"\x00", b"\x93"])
def test_raw_binary_garbage_is_dropped(room, first_byte: bytes) -> None:
    garbage = first_byte + random.Random(first_byte).randbytes(64 * 1024)
    mallory = room.connect(text=True)  # the answers may be JSON or text lines: just collect lines
    try:
        mallory.send_raw(garbage)
    except OSError:
        pass  # the host may cut it off before it has sent everything
    mallory.wait_closed(timeout=HANDSHAKE_TIMEOUT + 10)
    assert_still_chatting(room)


def test_garbage_without_newlines_is_dropped(room) -> None:
    garbage = random.Random(7).randbytes(200 * 1024).replace(b"\n", b" ")
    mallory = room.connect(text=True)
    mallory.send_raw(garbage)
    mallory.wait_closed(timeout=HANDSHAKE_TIMEOUT + 10)
    assert_still_chatting(room)


def test_a_client_that_sends_nothing_is_dropped_after_the_handshake_timeout(room) -> None:
    start = time.monotonic()
    silent = room.connect(text=True)  # silence is a person at `nc`: asked for a nickname, then dropped
    silent.wait_closed(timeout=HANDSHAKE_TIMEOUT + 10)
    assert time.monotonic() - start >= HANDSHAKE_TIMEOUT * 0.9
    assert silent.lines == [NICKNAME_PROMPT.decode().rstrip("\n")]
    assert_still_chatting(room)


def test_a_client_that_never_finishes_its_hello_is_dropped(room) -> None:
    start = time.monotonic()
    slow = room.connect()
    slow.send_raw(b'{"type":"hello","version":1,')
    slow.wait_closed(timeout=HANDSHAKE_TIMEOUT + 10)
    assert time.monotonic() - start >= HANDSHAKE_TIMEOUT * 0.9
    assert_still_chatting(room)


def test_a_member_that_keeps_sending_bad_frames_is_cut_off(room) -> None:
    mallory = room.connect("mallory")
    mallory.send_raw(b"{nope}\n" * 100)
    mallory.wait_closed()
    assert 10 <= len(mallory.errors("bad_json")) <= 30
    assert_still_chatting(room)


def test_a_flood_of_input_that_makes_no_output_does_not_hold_back_the_others(room) -> None:
    """Input that makes no output (pongs, as fast as a socket takes them) must never keep the
    router from writing everybody else's messages out (a router that kept reading while
    input kept coming would)."""
    flooder = room.connect("flooder")
    pongs = frame({"type": "pong", "token": "p"}) * 20_000
    stop = threading.Event()

    def flood() -> None:
        flooder.sock.settimeout(5.0)
        try:
            while not stop.is_set():
                flooder.sock.sendall(pongs)
        except OSError:
            pass  # closed at the end of the test

    flooding = threading.Thread(target=flood, name="pong flood")
    flooding.start()
    try:
        started = time.monotonic()
        assert_still_chatting(room, members=3)
        assert time.monotonic() - started < 5.0
    finally:
        stop.set()
        flooding.join(10)
    assert not flooding.is_alive()
