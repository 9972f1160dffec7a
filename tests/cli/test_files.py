"""The terminal client's file lines for the newer transfer events: a fetch routed through
the host, paused and resumed (by the receiver with /pause and /resume, or by the sender).
Real `TerminalFiles` over real clients and a real host on 127.0.0.1 (in-process, so a test
can make the sender's port refuse connections and pause on the first block)."""

from __future__ import annotations

import functools
import os
import queue
import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import net.files.transfers as transfers_module
from cli.files import TerminalFiles
from net.api import ClientConfig, ClientState, HostConfig
from net.files import events as fe
from net.files.fetch import Fetch
from net.room import RoomConfig
from net.transports import make_client, make_host
from tests.helpers import wait_until
from tests.identity import secure

SIZE = 24 * 1024 * 1024


class Terminal:
    """`main.py join`'s file part: events queued by the client's threads, rendered and
    commands run on one thread (the test's), as `_chat` does."""

    def __init__(self, port: int, nick: str, downloads: Path) -> None:
        self.lines: list[str] = []
        self._inbox: queue.Queue[object] = queue.Queue()
        self.hook: Callable[[object], None] = lambda _event: None
        config = ClientConfig(host="127.0.0.1", port=port, nick=nick, backoff=(0.1, 0.2), files=True)
        self.client = make_client("tcp", config, lambda event: self.files.transfers.deliver(event))
        self.files = TerminalFiles(self.client, self._event, "127.0.0.1", downloads)
        self.client.start()
        wait_until(lambda: self.client.state is ClientState.CONNECTED, message=f"{nick} connected")

    def _event(self, event: object) -> None:
        self._inbox.put(event)
        self.hook(event)

    def type(self, line: str) -> str | None:
        word, _, rest = line.partition(" ")
        return self.files.command(word, rest.strip())

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            while not self._inbox.empty():
                line = self.files.render(self._inbox.get())
                if line is not None:
                    self.lines.append(line)
            return next((m for line in self.lines if (m := re.search(pattern, line))), None)

        return wait_until(found, message=f"a line like {pattern!r}", timeout=timeout)

    def close(self) -> None:
        self.files.close()
        self.client.close()


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[Callable[[str], Terminal]]:
    room = RoomConfig(name="files", rate_per_second=0)
    host = make_host("tcp", HostConfig(port=0, bind="127.0.0.1", room=room, **secure({})))
    host.start()
    started: list[Terminal] = []

    def join(nick: str) -> Terminal:
        started.append(Terminal(host.port, nick, tmp_path / f"in-{nick}"))
        return started[-1]

    try:
        yield join
    finally:
        for terminal in started:
            terminal.close()
        host.stop()


def _offer(alice: Terminal, bob: Terminal, path: Path) -> str:
    said = alice.type(f"/sendto bob {path}")
    assert said is not None and said.startswith("*** offered")
    return bob.wait_for(rf"alice offers 1 file\(s\), [\d,]+ bytes: {path.name} \(/accept (\w+)\)").group(1)


def test_a_fetch_through_the_host_says_so(terminals, tmp_path: Path) -> None:
    alice, bob = terminals("alice"), terminals("bob")
    with socket.socket() as refused:  # bound, never listening: the sender's firewall refuses
        refused.bind(("127.0.0.1", 0))
        alice.files.transfers._server.port = refused.getsockname()[1]
        source = tmp_path / "photo.jpg"
        source.write_bytes(os.urandom(300_000))
        offer = _offer(alice, bob, source)
        assert bob.type("/accept") == f"*** fetching {offer} from alice into {tmp_path / 'in-bob'}"
        bob.wait_for(rf"^\*\*\* {offer} from alice goes through the host now: .*refused.*relayed by the host")
        bob.wait_for(rf"^\*\*\* received {offer}: 1 file\(s\), 300,000 bytes")
    alice.wait_for(rf"^\*\*\* sent {offer} to bob through the host: 300,000 bytes$")


@pytest.fixture
def progress_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress after every block, so a test can pause on the first one."""
    monkeypatch.setattr(transfers_module, "Fetch", functools.partial(Fetch, progress_interval=0))


def _on_first_block(terminal: Terminal, act: Callable[[], object]) -> None:
    """`act()` on the first progress of a fetch, on the fetch's thread: cut mid-file."""
    done: list[bool] = []

    def hook(event: object) -> None:
        if isinstance(event, fe.TransferProgress) and not done and 0 < event.done < event.total:
            done.append(True)
            act()

    terminal.hook = hook


def test_the_receiver_pauses_and_resumes_with_commands(terminals, progress_at_once, tmp_path: Path) -> None:
    alice, bob = terminals("alice"), terminals("bob")
    source = tmp_path / "video.bin"
    source.write_bytes(os.urandom(SIZE))
    offer = _offer(alice, bob, source)
    said: list[str | None] = []
    _on_first_block(bob, lambda: said.append(bob.type(f"/pause {offer}")))  # typed mid-file
    bob.type("/accept")
    bob.wait_for(rf"^\*\*\* paused {offer} from alice \(/resume {offer} goes on\)$")
    assert said == [f"*** pausing {offer}"]
    assert bob.type("/pause") == "*** not done: nothing to pause there"
    assert bob.type(f"/resume {offer}") == f"*** resuming {offer}"
    bob.wait_for(rf"^\*\*\* resumed {offer} from alice$")
    bob.wait_for(rf"^\*\*\* received {offer}: 1 file\(s\)")
    assert (tmp_path / "in-bob" / "video.bin").read_bytes() == source.read_bytes()


def test_the_sender_pausing_and_resuming_is_shown(terminals, progress_at_once, tmp_path: Path) -> None:
    alice, bob = terminals("alice"), terminals("bob")
    source = tmp_path / "video.bin"
    source.write_bytes(os.urandom(SIZE))
    offer = _offer(alice, bob, source)
    paused = threading.Event()

    def sender_pauses() -> None:  # a window's sender pausing bob's fetch
        alice.files.transfers.pause_upload(offer, "bob")
        wait_until(lambda: ("alice", offer) in bob.files.transfers._paused, message="paused by alice")
        paused.set()

    _on_first_block(bob, sender_pauses)
    bob.type("/accept")
    bob.wait_for(rf"^\*\*\* alice paused {offer}; it goes on when they resume it$")
    assert paused.wait(10)
    alice.files.transfers.resume_upload(offer, "bob")
    bob.wait_for(rf"^\*\*\* alice resumed {offer}$")
    bob.wait_for(rf"^\*\*\* received {offer}: 1 file\(s\)")
