"""Pause and resume, through a real host: the receiver pauses its own fetch, or the sender
asks it to; the `.part` stays and the resumed fetch sends only the missing bytes."""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

import net.files.transfers as transfers_module
from net.files import events as fe
from net.files.fetch import Fetch
from tests.files.test_room_transfers import room  # noqa: F401  (the fixture)
from tests.helpers import wait_until

SIZE = 24 * 1024 * 1024


@pytest.fixture(autouse=True)
def progress_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress after every block, so a test can pause on the first one."""
    monkeypatch.setattr(transfers_module, "Fetch", functools.partial(Fetch, progress_interval=0))


def _pause_on_first_progress(member, pause) -> None:
    """Wrap `member`'s event sink: on the first progress, `pause()` (on the fetch's thread,
    so the fetch is cut mid-file, deterministically)."""
    paused: list[bool] = []
    sink = member.events.append

    def events(event: object) -> None:
        sink(event)
        if isinstance(event, fe.TransferProgress) and not paused and 0 < event.done < event.total:
            paused.append(True)
            pause()

    member.transfers._on_event = events


def _offer_big(alice, bob, tmp_path: Path) -> tuple[str, Path]:
    source = tmp_path / "video.bin"
    source.write_bytes(os.urandom(SIZE))
    offer = alice.transfers.offer([source], to="bob")
    wait_until(lambda: bob.of_type(fe.OfferReceived), message="the offer")
    return offer, source


def _check_resumed(bob, source: Path, inbox: Path) -> None:
    part = inbox / "video.bin.part"
    kept = part.stat().st_size
    assert 0 < kept < SIZE and not (inbox / "video.bin").exists()
    [done] = wait_until(lambda: bob.of_type(fe.TransferFinished), message="the resumed fetch", timeout=20)
    assert (done.resumed, done.received) == (kept, SIZE - kept)  # only the missing bytes came
    assert (
        hashlib.sha256((inbox / "video.bin").read_bytes()).digest()
        == hashlib.sha256(source.read_bytes()).digest()
    )
    assert bob.of_type(fe.TransferFailed) == []


def test_the_receiver_pauses_and_resumes_from_the_part(room, tmp_path: Path) -> None:  # noqa: F811
    alice, bob = room("alice"), room("bob")
    offer, source = _offer_big(alice, bob, tmp_path)
    _pause_on_first_progress(bob, lambda: bob.transfers.pause_fetch("alice", offer))
    bob.transfers.accept("alice", offer, tmp_path / "in")
    [paused] = wait_until(lambda: bob.of_type(fe.TransferPaused), message="paused")
    assert (paused.offer, paused.sender, paused.by) == (offer, "alice", "me")
    with pytest.raises(KeyError):
        bob.transfers.pause_fetch("alice", offer)  # nothing runs now
    bob.transfers.resume_fetch("alice", offer)
    _check_resumed(bob, source, tmp_path / "in")
    assert [r.by for r in bob.of_type(fe.TransferResumed)] == ["me"]


def test_the_sender_pauses_a_members_fetch_and_resumes_it(room, tmp_path: Path) -> None:  # noqa: F811
    alice, bob, carol = room("alice"), room("bob"), room("carol")
    offer, source = _offer_big(alice, bob, tmp_path)

    def sender_pauses() -> None:
        carol.transfers.pause_upload(offer, "bob")  # not the sender: the host names carol, ignored
        alice.transfers.pause_upload(offer, "bob")
        deadline = time.monotonic() + 10
        while ("alice", offer) not in bob.transfers._paused and time.monotonic() < deadline:
            time.sleep(0.01)

    _pause_on_first_progress(bob, sender_pauses)
    bob.transfers.accept("alice", offer, tmp_path / "in")
    [paused] = wait_until(lambda: bob.of_type(fe.TransferPaused), message="paused by the sender")
    assert paused.by == "sender"
    assert ("carol", offer) not in bob.transfers._paused
    alice.transfers.resume_upload(offer, "bob")
    _check_resumed(bob, source, tmp_path / "in")
    assert [r.by for r in bob.of_type(fe.TransferResumed)] == ["sender"]


def test_the_sender_learns_at_once_that_a_fetch_was_paused(room, tmp_path: Path) -> None:  # noqa: F811
    """bob's fetch stops reading (its window fills and alice's send blocks), then bob
    pauses: his connection is reset, so alice's serving ends now, not after its idle
    timeout (30 s), and she sees where it stopped."""
    alice, bob = room("alice"), room("bob")
    offer, _source = _offer_big(alice, bob, tmp_path)
    go_on, reached = threading.Event(), threading.Event()
    _pause_on_first_progress(bob, lambda: (reached.set(), go_on.wait(10)))
    bob.transfers.accept("alice", offer, tmp_path / "in")
    wait_until(reached.is_set, message="bob's fetch under way")
    bob.transfers.pause_fetch("alice", offer)
    go_on.set()
    [served] = wait_until(lambda: alice.of_type(fe.TransferServed), message="alice's serving ended")
    assert served.error is not None and 0 < served.sent < SIZE


def test_a_fetch_the_sender_paused_and_the_receiver_cancelled_stays_cancelled(
    room,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """bob cancels (stops and declines) a fetch alice paused: alice's resume later finds
    nothing to resume (no fetch starts, no error logged)."""
    alice, bob = room("alice"), room("bob")
    offer, _source = _offer_big(alice, bob, tmp_path)

    def sender_pauses() -> None:
        alice.transfers.pause_upload(offer, "bob")
        wait_until(lambda: ("alice", offer) in bob.transfers._paused, message="the pause reached bob")

    _pause_on_first_progress(bob, sender_pauses)
    bob.transfers.accept("alice", offer, tmp_path / "in")
    wait_until(lambda: bob.of_type(fe.TransferPaused), message="paused by the sender")
    bob.transfers.stop_fetch("alice", offer)
    bob.transfers.decline("alice", offer, "cancelled")
    assert ("alice", offer) not in bob.transfers._paused
    alice.transfers.resume_upload(offer, "bob")
    (tmp_path / "after.txt").write_text("after")
    alice.transfers.offer([tmp_path / "after.txt"], to="bob")  # comes after the resume
    wait_until(lambda: len(bob.of_type(fe.OfferReceived)) == 2, message="the next offer")
    assert bob.of_type(fe.TransferResumed) == [] and bob.transfers._fetches == {}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
