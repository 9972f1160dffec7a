"""Who may speak unencrypted: nobody by default, with a refusal that says what to do;
everyone marked as such with --allow-plaintext; and a person's terminal over TLS
(`openssl s_client`, `ncat --ssl`) speaks the plain-text dialect inside the encryption."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time

import pytest

from net.api import ClientConfig, ClientState, HostConfig
from net.protocol import events as ev
from net.room import RoomConfig
from net.secure.tls import client_context
from net.transports import make_client, make_host
from tests.helpers import wait_until
from tests.identity import session_identity
from tests.tcp.rawclient import RawClient, TextClient


@pytest.fixture
def encrypted_host():
    host = make_host(
        "tcp", HostConfig(port=0, bind="127.0.0.1", room=RoomConfig(name="tls"), identity=session_identity())
    )
    host.start()
    yield host
    host.stop()


def test_an_old_client_speaking_plain_json_is_told_to_update(encrypted_host) -> None:
    old = RawClient(encrypted_host.port)
    try:
        old.send(ev.Hello(version=1, nick="old", client_id="c-old"))
        old.wait_closed()
        [refusal] = [e for e in old.events if isinstance(e, ev.Refuse)]
        assert refusal.code == "version_mismatch" and "update LanChat" in refusal.text
    finally:
        old.close()


def test_a_person_typing_unencrypted_is_told_how_to_join(encrypted_host) -> None:
    person = TextClient(encrypted_host.port)
    try:
        person.send_line("alice")
        person.wait_closed()
        person.read()
        text = "\n".join(person.lines)
        assert "encrypted" in text and "ncat --ssl" in text and "openssl s_client" in text
    finally:
        person.close()


def test_a_plain_client_of_ours_is_refused_with_a_final_failure(encrypted_host) -> None:
    events: list[object] = []
    client = make_client(
        "tcp",
        ClientConfig(host="127.0.0.1", port=encrypted_host.port, nick="p", encrypted=False),
        events.append,
    )
    client.start()
    try:
        wait_until(lambda: client.state is ClientState.DISCONNECTED and len(events) > 1, message="refused")
        assert "encrypted" in events[-1].reason
    finally:
        client.close()


def test_a_plaintext_member_is_allowed_on_purpose_and_everyone_sees_it(encrypted_host) -> None:
    host = make_host(
        "tcp",
        HostConfig(
            port=0,
            bind="127.0.0.1",
            room=RoomConfig(name="mixed"),
            identity=session_identity(),
            allow_plaintext=True,
        ),
    )
    host.start()
    events: list[object] = []
    member = make_client("tcp", ClientConfig(host="127.0.0.1", port=host.port, nick="secure"), events.append)
    member.start()
    typist = TextClient(host.port)
    try:
        wait_until(lambda: member.state is ClientState.CONNECTED, message="secure member in")
        typist.send_line("typist")
        joined = wait_until(
            lambda: next((e for e in events if isinstance(e, ev.Joined) and e.nick == "typist"), None),
            message="the typist joins",
        )
        assert joined.plaintext, "the others are told this member is unencrypted"
        member.request_members()
        members = wait_until(
            lambda: next((e for e in reversed(events) if isinstance(e, ev.Members)), None),
            message="member list",
        )
        marks = {m.nick: m.plaintext for m in members.members}
        assert marks == {"secure": False, "typist": True}
    finally:
        typist.close()
        member.close()
        host.stop()


def _tls_text_session(port: int, lines: list[str], until: str, timeout: float = 10.0) -> str:
    """A person's terminal over TLS, as `ncat --ssl` would be: lines in, text out."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    with client_context().wrap_socket(raw) as tls:
        for line in lines:
            tls.sendall((line + "\n").encode())
        received = b""
        deadline = time.monotonic() + timeout
        while until.encode() not in received and time.monotonic() < deadline:
            try:
                data = tls.recv(65536)
            except (TimeoutError, ssl.SSLError):
                break
            if not data:
                break
            received += data
        return received.decode("utf-8", "replace")


def test_the_text_dialect_works_inside_tls(encrypted_host) -> None:
    events: list[object] = []
    reader = make_client(
        "tcp", ClientConfig(host="127.0.0.1", port=encrypted_host.port, nick="读者"), events.append
    )
    reader.start()
    try:
        wait_until(lambda: reader.state is ClientState.CONNECTED, message="the reader joined")
        text = _tls_text_session(encrypted_host.port, ["小明", "你好，加密的世界"], until="读者")
        assert "Welcome to tls, 小明!" in text and "读者" in text
        said = wait_until(
            lambda: next((e for e in events if isinstance(e, ev.ChatMessage)), None),
            message="the line arrives",
        )
        assert (said.sender, said.text) == ("小明", "你好，加密的世界")
    finally:
        reader.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")
def test_openssl_s_client_joins_an_encrypted_room(encrypted_host) -> None:
    proc = subprocess.run(
        ["openssl", "s_client", "-quiet", "-connect", f"127.0.0.1:{encrypted_host.port}"],
        input=b"terminal\n/quit\n",
        capture_output=True,
        timeout=20,
    )
    assert "Welcome to tls, terminal!" in proc.stdout.decode("utf-8", "replace")
