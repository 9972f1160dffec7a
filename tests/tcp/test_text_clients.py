"""Plain-text clients (someone typing into `nc`) chat with protocol clients, in Chinese too."""

from __future__ import annotations

import re
import socket
import ssl
import time

import pytest

from net.protocol import events as ev
from net.protocol.textmode import NICKNAME_PROMPT, PROMPT_AFTER_SILENCE
from tests.helpers import wait_until


def test_text_and_protocol_clients_chat_both_ways_in_chinese(start_host, connect) -> None:
    host = start_host()
    alice = connect(host.port, "alice")
    person = connect(host.port, text=True)
    nick = "小红".encode()
    person.send_raw(nick[:2])  # a character split between two reads
    person.send_raw(nick[2:] + b"\n")
    person.wait_for_line(lambda line: line.startswith("Welcome to"), what="the welcome line")
    assert any("alice" in line and "小红" in line for line in person.lines if line.startswith("Online:"))
    alice.wait_for(lambda e: isinstance(e, ev.Joined) and e.nick == "小红", what="小红 joined")

    person.send_line("你好，alice！今天一起吃午饭吗？")
    got = alice.wait_for(lambda e: isinstance(e, ev.ChatMessage), what="the text client's message")
    assert (got.sender, got.text) == ("小红", "你好，alice！今天一起吃午饭吗？")

    alice.say("好的，十二点见 🍜")
    line = person.wait_for_line(lambda line: "十二点" in line, what="alice's message")
    assert re.fullmatch(r"\[\d\d:\d\d\] alice: 好的，十二点见 🍜", line)

    alice.say("悄悄话", to="小红")
    person.wait_for_line(lambda line: "(private) alice: 悄悄话" in line, what="the private message")
    person.send_line("/me 挥手")
    action = alice.wait_for(lambda e: isinstance(e, ev.ChatMessage) and e.action, what="the action")
    assert action.text == "挥手"


def test_join_and_leave_lines_reach_the_text_client(start_host, connect) -> None:
    host = start_host()
    person = connect(host.port, text=True)
    person.send_line("bob")
    person.wait_for_line(lambda line: line.startswith("Welcome to"))
    carol = connect(host.port, "小明")
    # 小明 is a plain JSON client on a host that allows plain text: everyone is told.
    person.wait_for_line(lambda line: line.endswith("--> 小明 joined (unencrypted)"), what="the join line")
    carol.send(ev.Bye(reason="再见"))
    person.wait_for_line(lambda line: line.endswith("<-- 小明 left (再见)"), what="the leave line")


def test_text_client_quits_and_its_nickname_is_free_again(start_host, connect) -> None:
    host = start_host()
    alice = connect(host.port, "alice")
    person = connect(host.port, text=True)
    person.send_line("bob")
    alice.wait_for(lambda e: isinstance(e, ev.Joined) and e.nick == "bob")
    person.send_line("/quit bye all")
    person.wait_closed()
    assert any(line.startswith("Goodbye") for line in person.lines)
    assert alice.wait_for(lambda e: isinstance(e, ev.Left)).reason == "bye all"
    wait_until(lambda: host.member_count == 1, message="bob gone")
    assert connect(host.port, "bob").nick == "bob"


def test_text_client_with_a_taken_nickname_is_told_why(start_host, connect) -> None:
    host = start_host()
    connect(host.port, "alice")
    person = connect(host.port, text=True)
    person.send_line("Alice")
    person.wait_closed()
    assert any(line.startswith("Cannot join:") and "taken" in line for line in person.lines), person.lines


def test_text_client_sending_before_its_name_is_accepted_in_order(start_host, connect) -> None:
    host = start_host()
    alice = connect(host.port, "alice")
    person = connect(host.port, text=True)
    person.send_raw(b"bob\r\nfirst line\r\nsecond line\r\n")  # telnet sends CRLF
    alice.wait_for(lambda e: isinstance(e, ev.ChatMessage) and e.text == "second line")
    assert [m.text for m in alice.messages("bob")] == ["first line", "second line"]


def test_an_nc_user_that_never_types_a_nickname_is_let_go_at_the_handshake_deadline(
    start_host, connect
) -> None:
    host = start_host(handshake_timeout=0.5)
    silent = connect(host.port, text=True)  # connected, types nothing
    blank = connect(host.port, text=True)
    blank.send_raw(b"\n\n   \n")  # only empty lines: no nickname, no dialect yet
    typing = connect(host.port, text=True)
    typing.send_raw(b"alic")  # a nickname never finished with Enter
    for person in (silent, blank, typing):
        assert person.wait_closed(timeout=5) < 3
    assert typing.lines == ["Goodbye (no hello in time (handshake timed out))"]
    assert host.member_count == 0


# -- the nickname prompt (issue 15, 13: `nc` showed a blank screen) ----------------------------


def test_a_person_who_connects_and_waits_is_asked_for_a_nickname_in_one_line(start_host, connect) -> None:
    host = start_host()
    person = connect(host.port, text=True)
    opened = time.monotonic()
    prompt = person.wait_for_line(lambda line: bool(line), timeout=3, what="the prompt")
    assert prompt == NICKNAME_PROMPT.decode().rstrip("\n")
    assert time.monotonic() - opened >= PROMPT_AFTER_SILENCE
    person.send_line("bob")
    person.wait_for_line(lambda line: line.startswith("Welcome to"), what="the welcome")
    assert person.lines[0] == prompt and person.lines[1].startswith("Welcome to")
    assert sum(line == prompt for line in person.lines) == 1  # asked once, and nothing else extra


def test_a_script_that_types_at_once_gets_no_prompt(start_host, connect) -> None:
    host = start_host()
    alice = connect(host.port, "alice")
    script = connect(host.port, text=True)
    script.send_raw(b"robot\nhello from a script\n")
    alice.wait_for(lambda e: isinstance(e, ev.ChatMessage), what="the script's line")
    script.read(2 * PROMPT_AFTER_SILENCE)  # longer than any greeting would take
    assert script.lines[0].startswith("Welcome to"), script.lines
    assert NICKNAME_PROMPT.decode().rstrip("\n") not in script.lines


def test_a_silent_peer_at_a_host_without_plain_text_is_told_why_at_once(start_host, connect) -> None:
    host = start_host(allow_plaintext=False)
    person = connect(host.port, text=True)
    started = time.monotonic()
    person.wait_closed(timeout=5)
    assert time.monotonic() - started < 3  # not the 10 s handshake deadline
    assert person.lines[0].startswith("Cannot join: this chat is encrypted"), person.lines


def test_nothing_is_written_inside_tls_before_the_peer_speaks(start_host) -> None:
    """Inside TLS the peer is a program (LanChat, `ncat --ssl`, asyncio's TLS, which may write
    its first frame a while after its handshake): it is never greeted with text."""
    host = start_host()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", host.port), timeout=5)
    with raw, context.wrap_socket(raw) as tls:
        tls.settimeout(3 * PROMPT_AFTER_SILENCE)
        with pytest.raises(TimeoutError):
            tls.recv(4096)
        tls.sendall(b"carol\n")  # a person at `ncat --ssl` types a nickname unasked
        tls.settimeout(5)
        assert tls.recv(4096).startswith(b"Welcome to")


def test_lanchat_clients_are_never_greeted_and_skip_a_greeting_met_after_a_stall(start_host) -> None:
    """A LanChat client speaks first, at once; one that stalled past the silence (a busy PC)
    and met the prompt before the host's TLS records still joins, instead of failing for good."""
    from net.api import ClientConfig, ClientState
    from net.client.session import ClientSession, LinkVerdict

    host = start_host()
    with socket.create_connection(("127.0.0.1", host.port), timeout=5) as sock:
        greeting = sock.recv(4096)  # a client stalled before its ClientHello
        assert greeting == NICKNAME_PROMPT
        session = ClientSession(ClientConfig(host="127.0.0.1", port=host.port, nick="stalled"))
        session.link_up(time.monotonic())
        assert session.receive_data(greeting, time.monotonic()) is LinkVerdict.KEEP  # not a TLS failure
        sock.sendall(session.take_output())

        def welcomed() -> bool:
            session.receive_data(sock.recv(65536), time.monotonic())
            sock.sendall(session.take_output())
            return session.state is ClientState.CONNECTED

        wait_until(welcomed, message="the stalled client joins")
