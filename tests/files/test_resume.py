"""Resume after a kill: the sender or the receiver dies mid-transfer (a real SIGKILL of a
real process); the next fetch sends only the bytes that are missing, and the result is
checked against the sender's SHA-256."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from net.files.fetch import Fetch, FetchError, Progress, Ticket
from net.files.manifest import build_manifest
from net.files.part_file import STAGE_BYTES, STAGES
from net.files.server import Served, TransferServer
from tests.helpers import wait_until
from tests.identity import session_identity

ROOT = Path(__file__).resolve().parents[2]
SIZE = 48 * 1024 * 1024
#: Where the killed receiver stalls: beyond the bytes a big `.part` may still hold in memory.
STALL_AT = 24 * 1024 * 1024


class Peer:
    """`python -m tests.files.peer ARGS`, its output lines in a queue."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "LANCHAT_LOOPBACK_ONLY": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.files.peer", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def line(self, prefix: str, timeout: float = 20.0) -> list[str]:
        while True:
            line = self.lines.get(timeout=timeout)
            if line.startswith(prefix):
                return line.split()[1:]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    started: list[Peer] = []
    try:
        yield started
    finally:
        for peer in started:
            peer.kill()


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "send" / "大文件.bin"
    path.parent.mkdir()
    with open(path, "wb") as handle:
        for _ in range(SIZE // (1024 * 1024)):
            handle.write(os.urandom(1024 * 1024))
    return path


def test_after_the_sender_is_killed_the_next_sender_sends_only_the_missing_bytes(
    peers: list[Peer], big_file: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    first = Peer("serve", str(big_file))
    peers.append(first)
    port, key, token = first.line("ready")

    def kill_the_sender(progress: Progress) -> None:
        if progress.done >= 8 * 1024 * 1024 and first.proc.poll() is None:
            first.kill()

    ticket = Ticket("127.0.0.1", int(port), bytes.fromhex(key), "o1", "bob", token)
    with pytest.raises(FetchError) as failed:
        Fetch(ticket, inbox, on_progress=kill_the_sender, progress_interval=0).run()
    assert failed.value.code == "lost"
    part = inbox / "大文件.bin.part"
    kept = part.stat().st_size
    assert 8 * 1024 * 1024 <= kept < SIZE
    assert not (inbox / "大文件.bin").exists()

    second = Peer("serve", str(big_file))  # the sender is back: a new offer, a new token
    peers.append(second)
    port, key, token = second.line("ready")
    ticket = Ticket("127.0.0.1", int(port), bytes.fromhex(key), "o1", "bob", token)
    result = Fetch(ticket, inbox).run()
    assert (result.received, result.resumed) == (SIZE - kept, kept)
    assert second.line("served") == [str(SIZE - kept)]  # counted by the sender: only the missing bytes
    assert (inbox / "大文件.bin").read_bytes() == big_file.read_bytes()
    assert not part.exists()


def test_after_the_receiver_is_killed_the_next_fetch_gets_only_the_missing_bytes(
    peers: list[Peer], big_file: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    reports: list[Served] = []
    server = TransferServer(session_identity(), bind="127.0.0.1", on_served=reports.append)
    server.add_offer("o1", build_manifest([big_file]).entries)
    server.start()
    try:
        token = server.grant("o1", "bob")
        receiver = Peer("fetch", str(server.port), server.fingerprint.hex(), token, str(inbox), str(STALL_AT))
        peers.append(receiver)
        receiver.line("stalled")
        receiver.kill()
        [cut] = wait_until(lambda: reports, message="the sender noticing the receiver gone", timeout=40)
        assert cut.error is not None
        kept = (inbox / "大文件.bin.part").stat().st_size
        # a big `.part` is written a stage at a time past the page cache: the stages still
        # in memory when the process died are lost (and fetched again), never more
        assert STALL_AT - STAGES * STAGE_BYTES <= kept < SIZE and kept > 0

        reports.clear()
        token = server.grant("o1", "bob")  # it accepts again: a new token
        ticket = Ticket("127.0.0.1", server.port, server.fingerprint, "o1", "bob", token)
        result = Fetch(ticket, inbox).run()
        assert (result.received, result.resumed) == (SIZE - kept, kept)
        [resumed] = wait_until(lambda: reports)
        assert (resumed.sent, resumed.error) == (SIZE - kept, None)
        assert (inbox / "大文件.bin").read_bytes() == big_file.read_bytes()
    finally:
        server.stop()


def test_a_full_disk_keeps_the_part_and_says_how_much_space_is_missing(
    peers: list[Peer], tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    inbox = tmp_path / "inbox"
    server = TransferServer(session_identity(), bind="127.0.0.1")
    server.add_offer("o1", build_manifest([source]).entries)
    server.start()
    try:
        args = (str(server.port), server.fingerprint.hex(), server.grant("o1", "bob"), str(inbox))
        cramped = Peer("small-disk", *args, str(1024 * 1024))
        peers.append(cramped)
        code, *text = cramped.line("failed")
        assert code == "disk_full"
        kept = (inbox / "big.bin.part").stat().st_size
        assert kept <= 1024 * 1024
        assert f"{3 * 1024 * 1024 - kept:,} more bytes are needed" in " ".join(text)

        ticket = Ticket("127.0.0.1", server.port, server.fingerprint, "o1", "bob", server.grant("o1", "bob"))
        result = Fetch(ticket, inbox).run()  # room again: it resumes
        assert (result.received, result.resumed) == (3 * 1024 * 1024 - kept, kept)
        assert (inbox / "big.bin").read_bytes() == source.read_bytes()
    finally:
        server.stop()
