"""The receiving pipeline over a real TLS socket: large blocks to the consumer (not one
TLS record each), errors from either thread surfaced, bounded buffers; and the `.part`
reservation that keeps a file's size (resume counts on it)."""

from __future__ import annotations

import os
import socket
import ssl
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from net.files.pipeline import pump
from net.files.preallocate import reserve
from net.files.stream import StreamError
from net.secure.tls import client_context, server_context
from tests.identity import session_identity

MIB = 1024 * 1024


@pytest.fixture
def tls_pair() -> Iterator[tuple[ssl.SSLSocket, ssl.SSLSocket]]:
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[ssl.SSLSocket] = []

    def accept() -> None:
        sock, _ = listener.accept()
        sock.settimeout(10)
        accepted.append(server_context(session_identity()).wrap_socket(sock, server_side=True))

    thread = threading.Thread(target=accept)
    thread.start()
    client = client_context().wrap_socket(
        socket.create_connection(("127.0.0.1", listener.getsockname()[1]), timeout=10)
    )
    thread.join(10)
    try:
        yield accepted[0], client
    finally:
        client.close()
        accepted[0].close()
        listener.close()


def _send_then_close(sock: ssl.SSLSocket, data: bytes) -> threading.Thread:
    def send() -> None:
        try:
            sock.sendall(data)
        finally:
            sock.close()

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_the_consumer_gets_large_blocks_not_one_tls_record_each(tls_pair) -> None:
    sender, receiver = tls_pair
    data = os.urandom(8 * MIB)
    got = bytearray()
    calls = []

    def consume(view: memoryview) -> bool:
        got.extend(view)
        calls.append(len(view))
        return len(got) == len(data)

    thread = _send_then_close(sender, data)
    pump(receiver, consume, threading.Event())
    thread.join(10)
    assert bytes(got) == data
    assert len(calls) < 8 * MIB // (16 * 1024) // 4  # far fewer than one per 16 KiB record
    assert max(calls) > 16 * 1024


def test_a_stream_that_ends_before_the_consumer_is_done_is_lost(tls_pair) -> None:
    sender, receiver = tls_pair
    thread = _send_then_close(sender, b"x" * 1000)
    with pytest.raises(StreamError) as lost:
        pump(receiver, lambda view: False, threading.Event())
    thread.join(10)
    assert lost.value.code == "lost"


def test_a_consumer_error_stops_the_reader_even_when_the_sender_keeps_sending(tls_pair) -> None:
    sender, receiver = tls_pair
    stop = threading.Event()

    def flood() -> None:
        block = b"y" * MIB
        try:
            while not stop.is_set():
                sender.sendall(block)
        except OSError:
            pass

    thread = threading.Thread(target=flood)
    thread.start()

    def consume(view: memoryview) -> bool:
        raise StreamError("bad_stream", "refused")

    try:
        with pytest.raises(StreamError) as refused:
            pump(receiver, consume, threading.Event())
        assert refused.value.code == "bad_stream"
    finally:
        stop.set()
        sender.close()
        thread.join(10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fallocate is Linux's")
def test_a_reserved_part_keeps_its_size(tmp_path: Path) -> None:
    part = tmp_path / "a.bin.part"
    with open(part, "wb") as handle:
        handle.write(b"z" * 1000)
        handle.flush()
        assert reserve(handle.fileno(), 1000, 64 * MIB)
    assert part.stat().st_size == 1000
    assert part.stat().st_blocks * 512 >= 64 * MIB  # the blocks are there, the size is not


def test_a_fetch_cancelled_mid_file_keeps_a_true_prefix_and_resumes(tmp_path: Path) -> None:
    """A cancel from another thread must not leave the reader reading raw TLS records as
    data (SSLSocket.shutdown drops the TLS state): the `.part` is the file's true start."""
    from net.files.fetch import Fetch, FetchError, Progress, Ticket
    from net.files.manifest import build_manifest
    from net.files.server import TransferServer

    server = TransferServer(session_identity(), bind="127.0.0.1")
    server.start()
    try:
        data = os.urandom(24 * MIB)
        (tmp_path / "v.bin").write_bytes(data)
        server.add_offer("o1", build_manifest([tmp_path / "v.bin"]).entries)
        fetches: list[Fetch] = []

        def cancel_once(progress: Progress) -> None:
            if 0 < progress.done < progress.total and fetches:
                fetches.pop().cancel()

        ticket = Ticket("127.0.0.1", server.port, server.fingerprint, "o1", "bob", server.grant("o1", "bob"))
        fetch = Fetch(ticket, tmp_path / "in", on_progress=cancel_once, progress_interval=0)
        fetches.append(fetch)
        with pytest.raises(FetchError):
            fetch.run()
        kept = (tmp_path / "in" / "v.bin.part").read_bytes()
        assert 0 < len(kept) < len(data) and kept == data[: len(kept)]
        again = Ticket("127.0.0.1", server.port, server.fingerprint, "o1", "bob", server.grant("o1", "bob"))
        assert Fetch(again, tmp_path / "in").run().received == len(data) - len(kept)
        assert (tmp_path / "in" / "v.bin").read_bytes() == data
    finally:
        server.stop()
