"""The TLS byte stream over each transport: bursts of the largest messages arrive whole and
in order (over UDP the stream travels in pieces any peer accepts), and a member that ends
TLS politely (close_notify) is let go at once, not after the heartbeat timeout."""

from __future__ import annotations

import socket
import ssl
import time

from net.protocol.limits import MAX_TEXT_CHARS
from net.secure.tls import TlsSession, client_context
from tests.helpers import wait_until


def test_a_burst_of_the_largest_messages_arrives_whole_and_in_order(chat) -> None:
    host = chat.host()
    alice, _bob = chat.joined(host.port, "alice", "bob")
    texts = [chr(0x4E00 + n) * MAX_TEXT_CHARS for n in range(12)]  # 48 KiB of UTF-8 each
    for text in texts:
        alice.send_message(text)
    wait_until(lambda: chat.texts("bob") == texts, timeout=20, message="every large message reached bob")


def test_a_tls_close_notify_ends_the_membership_at_once() -> None:
    from net.api import HostConfig
    from net.room import RoomConfig
    from net.tcp.host import TcpHost
    from tests.identity import session_identity

    host = TcpHost(
        HostConfig(port=0, bind="127.0.0.1", room=RoomConfig(name="r"), identity=session_identity())
    )
    host.start()
    try:
        with socket.create_connection(("127.0.0.1", host.port), timeout=5) as raw:
            tls = client_context().wrap_socket(raw)
            tls.sendall(b"polite\n")  # the text dialect inside TLS
            wait_until(lambda: host.member_count == 1, message="joined")
            started = time.monotonic()
            tls.settimeout(0.2)
            try:
                tls.unwrap()  # sends close_notify; the TCP connection stays open
            except (OSError, ssl.SSLError):
                pass  # the host closes without a close_notify of its own: that is fine
            wait_until(lambda: host.member_count == 0, timeout=5, message="let go on close_notify")
            assert time.monotonic() - started < 5
    finally:
        host.stop()


def test_the_stream_pieces_fit_a_peer_still_saying_hello() -> None:
    from net.udp.channel import STREAM_PIECE_BYTES
    from net.udp.tuning import HELLO_MAX_BYTES

    assert STREAM_PIECE_BYTES <= HELLO_MAX_BYTES
    assert len(TlsSession(client_context(), server=False).take_output()) <= STREAM_PIECE_BYTES
