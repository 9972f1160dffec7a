"""Seeded fuzzing of what comes before and during the TLS handshake, on both transports,
while two good members chat: every line still arrives, in order, and the host lives on.

The attacker opens connections and sends a real ClientHello with bytes flipped, cut or
repeated, records with lying lengths, plain JSON and text before any handshake, a whole
handshake followed by garbage records, and garbage inside a finished TLS session.
"""

from __future__ import annotations

import random
import socket
import time

from net.api import ClientState
from net.secure.tls import TlsError, TlsSession, client_context
from tests.helpers import wait_until

ROUNDS = 60


def _client_hello() -> bytes:
    return TlsSession(client_context(), server=False).take_output()


def _mutations(rng: random.Random) -> list[bytes]:
    hello = _client_hello()
    flipped = bytearray(hello)
    for _ in range(rng.randrange(1, 8)):
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
    lying_length = b"\x16\x03\x01" + rng.randrange(0x4000, 0xFFFF).to_bytes(2, "big") + rng.randbytes(40)
    choices = [
        bytes(flipped),
        hello[: rng.randrange(1, len(hello))],
        hello * rng.randrange(2, 4),
        lying_length,
        b"\x16" + rng.randbytes(rng.randrange(0, 3000)),
        rng.randbytes(rng.randrange(1, 3000)),
        b'{"type":"hello","version":2,"nick":"fuzz","client_id":"f"}\n',
        "小明\n你好\n".encode(),
        hello + rng.randbytes(rng.randrange(1, 500)),
    ]
    return rng.sample(choices, 3)


def _finished_session_then_garbage(sock_send, sock_recv, rng: random.Random) -> None:
    """Complete a handshake through the given send/recv, then send garbage records."""
    tls = TlsSession(client_context(), server=False)
    deadline = time.monotonic() + 3
    while not tls.handshake_done and time.monotonic() < deadline:
        sock_send(tls.take_output())
        data = sock_recv()
        if data is None:
            return
        try:
            tls.receive(data)
        except TlsError:
            return
    sock_send(tls.take_output())
    sock_send(b"\x17\x03\x03\x00\x20" + rng.randbytes(32))  # an application record that fails to decrypt


def _attack_tcp(port: int, rng: random.Random) -> None:
    for payload in _mutations(rng):
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            try:
                sock.sendall(payload)
            except OSError:
                pass
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:

        def recv() -> bytes | None:
            try:
                return sock.recv(65536) or None
            except OSError:
                return None

        try:
            _finished_session_then_garbage(sock.sendall, recv, rng)
        except OSError:
            pass


def _attack_udp(chat, port: int, rng: random.Random) -> None:
    from tests.udp.rawpeer import RawPeer

    for payload in _mutations(rng):
        peer = RawPeer(port)
        try:
            wait_until(lambda p=peer: p.channel.heard, timeout=3, pump=peer.pump, message="channel open")
            peer.channel.send(payload)
            _send_due(peer)
        finally:
            peer.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        for _ in range(5):
            raw.sendto(rng.randbytes(rng.randrange(1, 1400)), ("127.0.0.1", port))


def _send_due(peer) -> None:
    """Send what the channel has due (the attacker never reads the host's answers)."""
    for datagram in peer.channel.poll(time.monotonic()):
        peer.sock.send(datagram)


def test_two_members_chat_unharmed_through_handshake_fuzzing(chat) -> None:
    host = chat.host(allow_plaintext=False)
    alice, bob = chat.joined(host.port, "alice", "bob")
    rng = random.Random(20261207)
    sent: list[str] = []
    for round_number in range(ROUNDS):
        if chat.transport == "tcp":
            _attack_tcp(host.port, rng)
        else:
            _attack_udp(chat, host.port, rng)
        text = f"line {round_number} 你好"
        alice.send_message(text)
        sent.append(text)
    wait_until(lambda: chat.texts("bob") == sent, timeout=20, message="every line reached bob in order")
    assert alice.state is ClientState.CONNECTED and bob.state is ClientState.CONNECTED
    assert host.member_count == 2
