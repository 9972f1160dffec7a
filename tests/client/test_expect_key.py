"""`ClientSession.expect_key`: the room moved to a host whose key a trusted host named.

The threaded client calls it when it follows a backbone's `Welcome.hosts` or a signed
successor list; the next link must then present that key (and the old pin no longer
passes). Real TLS in memory: the session against a `TlsSession` holding a host identity.
"""

from __future__ import annotations

from net.api import ClientConfig, HostVerified, KeyRejected
from net.client.session import ClientSession, LinkVerdict
from net.secure.tls import TlsSession, server_context
from tests.identity import session_identity


def _handshake(session: ClientSession) -> tuple[list[object], LinkVerdict]:
    """Link `session` to a TLS host with the test identity; its events and last verdict."""
    host = TlsSession(server_context(session_identity()), server=True)
    session.link_up(0.0)
    verdict = LinkVerdict.KEEP
    for _ in range(10):
        sent = session.take_output()
        if sent:
            host.receive(sent)  # (b"" would be the end of the stream)
        reply = host.take_output()
        if not reply:
            break
        verdict = session.receive_data(reply, 0.1)
        if verdict is LinkVerdict.CLOSE:
            break
    return session.take_events(), verdict


def test_the_expected_key_replaces_the_old_pin() -> None:
    other_key = bytes(32)  # the key of the host the member was with before
    session = ClientSession(ClientConfig(host="127.0.0.1", port=1, nick="ann", pinned=other_key))
    session.expect_key(session_identity().fingerprint)
    events, verdict = _handshake(session)
    assert verdict is LinkVerdict.KEEP
    assert HostVerified(session_identity().fingerprint, False) in events
    assert session.room_key is None  # not welcomed yet: the key is the room's only after a welcome


def test_without_it_the_old_pin_rejects_the_new_host() -> None:
    session = ClientSession(ClientConfig(host="127.0.0.1", port=1, nick="ann", pinned=bytes(32)))
    events, verdict = _handshake(session)
    assert verdict is LinkVerdict.CLOSE
    assert any(isinstance(event, KeyRejected) for event in events)


def test_a_different_key_is_rejected_after_expect_key() -> None:
    session = ClientSession(ClientConfig(host="127.0.0.1", port=1, nick="ann"))
    session.expect_key(bytes(range(32)))  # first use would have passed: now this key is required
    events, verdict = _handshake(session)
    assert verdict is LinkVerdict.CLOSE
    assert any(isinstance(event, KeyRejected) for event in events)
