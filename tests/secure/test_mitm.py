"""A man in the middle with his own certificate is caught before anything is sent: on a
room pinned at the first join, and on a first join with the invite's code; TCP and UDP.

Over TCP the attacker relays to the real host (a TLS-terminating proxy); over UDP he runs
a room of his own at the address the member uses, which is what terminating TLS amounts
to there. Either way the member sees his key, refuses it with both codes named, and sends
neither its hello (nickname, password, session secret) nor any message.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from net.api import ClientConfig, ClientState, FailureKind, HostConfig, HostVerified, KeyRejected
from net.room import RoomConfig
from net.secure.identity import load_or_create_identity
from net.transports import make_client, make_host
from tests.helpers import wait_until
from tests.identity import session_identity
from tests.secure.relays import TlsInterceptor


@pytest.fixture(scope="module")
def attacker_identity():
    with tempfile.TemporaryDirectory(prefix="lanchat-attacker-") as folder:
        yield load_or_create_identity(Path(folder))


def _host(transport: str, identity, **room):
    host = make_host(
        transport,
        HostConfig(port=0, bind="127.0.0.1", room=RoomConfig(name="real", **room), identity=identity),
    )
    host.start()
    return host


def _join(transport: str, port: int, events: list, **config):
    client = make_client(
        transport,
        ClientConfig(
            host="127.0.0.1", port=port, nick="victim", password="pw", connect_timeout=5.0, **config
        ),
        events.append,
    )
    client.start()
    return client


@pytest.mark.parametrize("transport", ["tcp", "udp"])
@pytest.mark.parametrize("how", ["pinned", "code"])
def test_a_key_in_the_middle_is_refused_before_anything_is_sent(transport, how, attacker_identity) -> None:
    real = session_identity()
    host = _host(transport, real, password="pw")
    if transport == "tcp":
        middle = TlsInterceptor(("127.0.0.1", host.port), attacker_identity).start()
        port = middle.port
    else:
        middle = _host("udp", attacker_identity)  # answers at the address the victim uses
        port = middle.port
    trust = {"pinned": real.fingerprint} if how == "pinned" else {"expected_code": real.code}
    events: list[object] = []
    client = _join(transport, port, events, **trust)
    try:
        rejected = wait_until(
            lambda: next((e for e in events if isinstance(e, KeyRejected)), None),
            message="the key is refused",
        )
        assert rejected.fingerprint == attacker_identity.fingerprint
        assert rejected.expected_code == real.code
        expected = FailureKind.KEY_CHANGED if how == "pinned" else FailureKind.KEY_MISMATCH
        wait_until(lambda: client.state is ClientState.DISCONNECTED, message="the client gives up")
        final = [e for e in events if getattr(e, "state", None) is ClientState.DISCONNECTED][-1]
        assert final.failure is expected
        assert real.code in final.reason and attacker_identity.code in final.reason
        assert not any(isinstance(e, HostVerified) for e in events)
        if transport == "tcp":
            assert bytes(middle.plaintext_seen) == b"", "the victim sent nothing through the attacker"
        else:
            assert middle.member_count == 0
    finally:
        client.close()
        middle.stop()
        host.stop()


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_the_real_host_passes_both_checks_and_a_first_join_reports_the_key(transport) -> None:
    real = session_identity()
    host = _host(transport, real)
    try:
        for trust, first_use in (
            ({}, True),
            ({"pinned": real.fingerprint}, False),
            ({"expected_code": real.code}, False),
        ):
            events: list[object] = []
            client = _join(transport, host.port, events, **trust)
            try:
                wait_until(lambda c=client: c.state is ClientState.CONNECTED, message="joined")
                [verified] = [e for e in events if isinstance(e, HostVerified)]
                assert verified.fingerprint == real.fingerprint and verified.first_use is first_use
            finally:
                client.close()
    finally:
        host.stop()
