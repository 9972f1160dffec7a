"""TLS without sockets: two sessions joined by a hand-driven link, fed a byte at a time
(h11's way of testing), and a client session that sends nothing before the key is right."""

from __future__ import annotations

import random
import ssl

import pytest

from net.api import ClientConfig, FailureKind, HostVerified, KeyRejected
from net.client.session import ClientSession, LinkVerdict
from net.secure.identity import load_or_create_identity
from net.secure.tls import TlsError, TlsSession, client_context, server_context
from tests.identity import session_identity


def _pump(a: TlsSession, b: TlsSession, *, byte_at_a_time: bool = False) -> tuple[bytes, bytes]:
    """Move bytes both ways until quiet; returns the plaintext each side received."""
    got_a, got_b = bytearray(), bytearray()
    for _ in range(50):
        moved = False
        for source, sink, got in ((a, b, got_b), (b, a, got_a)):
            data = source.take_output()
            if data:
                moved = True
                pieces = [data[i : i + 1] for i in range(len(data))] if byte_at_a_time else [data]
                for piece in pieces:
                    got += sink.receive(piece)
        if not moved:
            break
    return bytes(got_a), bytes(got_b)


@pytest.mark.parametrize("byte_at_a_time", [False, True])
def test_a_handshake_and_data_both_ways_over_any_slicing(byte_at_a_time: bool) -> None:
    server = TlsSession(server_context(session_identity()), server=True)
    client = TlsSession(client_context(), server=False)
    client.send("早 before the handshake".encode())  # kept until it can be encrypted
    _, to_server = _pump(client, server, byte_at_a_time=byte_at_a_time)
    assert client.handshake_done and server.handshake_done
    assert client.peer_fingerprint == session_identity().fingerprint and server.peer_fingerprint is None
    assert to_server == "早 before the handshake".encode()
    big = random.Random(3).randbytes(200_000)
    server.send(big)
    to_client, _ = _pump(client, server, byte_at_a_time=False)
    assert to_client == big


def test_seal_encrypts_pieces_in_order_with_the_output_waiting_before_them() -> None:
    """`seal` is `send` of each piece then `take_output`: before the handshake it keeps the
    plaintext and gives the handshake bytes; after it, the records of every piece in order."""
    server = TlsSession(server_context(session_identity()), server=True)
    client = TlsSession(client_context(), server=False)
    hello = client.seal([b"early ", bytearray(b"bird")])  # the ClientHello; the text waits
    assert hello and not client.output_pending
    server.receive(hello)
    client.receive(server.seal([]))  # the server's handshake messages
    assert server.receive(client.seal([])) == b"early bird"  # the client's Finished, then the text
    round_bytes = random.Random(5).randbytes(70_000)
    view = memoryview(round_bytes)
    records = server.seal([view[:30_000], b"", b"ack\n", view[30_000:]])
    assert not server.output_pending
    assert client.receive(records) == round_bytes[:30_000] + b"ack\n" + round_bytes[30_000:]


class _CountingReads:
    """Stands in for a session's SSLObject and counts the reads that came back empty-handed."""

    def __init__(self, tls: ssl.SSLObject) -> None:
        self._tls = tls
        self.reads = self.wanting = 0

    def read(self, size: int) -> bytes:
        self.reads += 1
        try:
            return self._tls.read(size)
        except ssl.SSLWantReadError:
            self.wanting += 1
            raise

    def __getattr__(self, name: str):
        return getattr(self._tls, name)


def test_whole_records_are_read_without_asking_openssl_for_more() -> None:
    """A busy host reads dozens of small records a round: each costs one read, not a second
    that raises SSLWantReadError (an exception costs more than decrypting a small record).
    A record cut in two still waits for its end."""
    server = TlsSession(server_context(session_identity()), server=True)
    client = TlsSession(client_context(), server=False)
    _pump(client, server)
    counting = _CountingReads(server._tls)
    server._tls = counting  # type: ignore[assignment]
    records = client.seal([b"one\n"]) + client.seal([b"two\n"])
    assert server.receive(records) == b"one\ntwo\n"
    assert (counting.reads, counting.wanting) == (2, 0)
    third = client.seal([b"three\n"])
    assert server.receive(third[:7]) == b""  # half a record: OpenSSL says it wants the rest
    assert server.receive(third[7:]) == b"three\n"


def test_a_tampered_record_is_a_tls_error_not_plaintext() -> None:
    server = TlsSession(server_context(session_identity()), server=True)
    client = TlsSession(client_context(), server=False)
    _pump(client, server)
    server.send(b"secret")
    record = bytearray(server.take_output())
    record[-1] ^= 1
    with pytest.raises(TlsError):
        client.receive(bytes(record))


def test_garbage_instead_of_a_client_hello_is_a_tls_error() -> None:
    server = TlsSession(server_context(session_identity()), server=True)
    with pytest.raises(TlsError):
        server.receive(b"\x16\x03\x01\x00\x05hello" + b"x" * 100)


def _session(**config) -> ClientSession:
    return ClientSession(ClientConfig(host="h", nick="ann", password="pw", **config), rng=random.Random(1))


def _drive(session: ClientSession, server: TlsSession) -> tuple[bytes, LinkVerdict]:
    """Run the handshake between a client session and a TLS server; the server's plaintext."""
    received = bytearray()
    verdict = LinkVerdict.KEEP
    for _ in range(20):
        out = session.take_output()
        if out:
            received += server.receive(out)
        back = server.take_output()
        if not back:
            break
        verdict = session.receive_data(back, 0.0)
        if verdict is LinkVerdict.CLOSE:
            received += server.receive(session.take_output())
            break
    return bytes(received), verdict


def test_the_hello_goes_out_only_after_the_key_checked_out(tmp_path) -> None:
    session = _session(pinned=session_identity().fingerprint)
    session.link_up(0.0)
    server = TlsSession(server_context(session_identity()), server=True)
    received, verdict = _drive(session, server)
    assert verdict is LinkVerdict.KEEP
    assert received.startswith(b'{"type":"hello"') and b'"resume":' in received
    assert HostVerified(session_identity().fingerprint, False) in session.take_events()


def test_a_different_key_gets_nothing_not_even_the_nickname(tmp_path) -> None:
    impostor = load_or_create_identity(tmp_path)
    for config, failure in (
        ({"pinned": session_identity().fingerprint}, FailureKind.KEY_CHANGED),
        ({"expected_code": session_identity().code}, FailureKind.KEY_MISMATCH),
    ):
        session = _session(**config)
        session.link_up(0.0)
        server = TlsSession(server_context(impostor), server=True)
        received, verdict = _drive(session, server)
        assert verdict is LinkVerdict.CLOSE and received == b""
        events = session.take_events()
        [rejected] = [e for e in events if isinstance(e, KeyRejected)]
        assert rejected.failure is failure and rejected.fingerprint == impostor.fingerprint
        assert session.link_down(FailureKind.LOST, "") is None  # final: no retry into the impostor
