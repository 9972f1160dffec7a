"""Issue 17: the host's journal file (history/room_journal.py): what it keeps and what goes wrong."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

import history.room_journal as journal_module
from history.room_journal import SqliteRoomJournal, journal_path
from net.host.journal import JournalError
from net.protocol import events as ev
from net.room.mailbox import Away, Departed, Kept, Removed, Returned, Stored

T0 = 1_700_000_000.0


def message(n: int, text: str | None = None) -> ev.ChatMessage:
    return ev.ChatMessage(id=f"m-{n}", sender="小明", text=text or f"消息 {n}", time=T0 + n)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return journal_path(tmp_path, b"\x01" * 32, "午饭")


def test_messages_and_kept_mail_come_back_after_reopening(path: Path) -> None:
    journal = SqliteRoomJournal.open(path)
    assert journal.load(200).history == []
    bob = Away("bob", b"box-b", T0)
    kept = Kept(b"box-b", ev.ChatMessage("p-1", "alice", "psst", T0, "bob"), b"box-a", T0 + 99)
    gone = Kept(b"box-b", ev.ChatMessage("p-2", "alice", "gone", T0, "bob"), b"box-a", T0 + 99)
    journal.write([message(n) for n in range(5)], [Departed(bob), Stored(kept), Stored(gone)])
    journal.write([message(4), message(5)], [Removed("p-2")])  # a resend relayed again: kept once
    journal.close()

    again = SqliteRoomJournal.open(path)
    try:
        state = again.load(3)
        assert [m.text for m in state.history] == ["消息 3", "消息 4", "消息 5"]
        assert state.away == [bob]
        assert state.kept == [kept]
        again.write([], [Returned(b"box-b")])
        assert again.load(10).away == []
    finally:
        again.close()


def test_a_departure_under_a_nickname_replaces_the_earlier_one(path: Path) -> None:
    journal = SqliteRoomJournal.open(path)
    try:
        journal.write([], [Departed(Away("Bob", b"one", T0)), Departed(Away("bob", b"two", T0 + 1))])
        assert journal.load(0).away == [Away("bob", b"two", T0 + 1)]
    finally:
        journal.close()


def test_only_the_newest_messages_are_kept(path: Path, monkeypatch) -> None:
    monkeypatch.setattr(journal_module, "KEEP_MESSAGES", 50)
    journal = SqliteRoomJournal.open(path)
    try:
        for start in range(0, 300, 10):
            journal.write([message(n) for n in range(start, start + 10)], [])
        with sqlite3.connect(path) as reader:
            count = reader.execute("SELECT count(*) FROM room_messages").fetchone()[0]
        assert 50 <= count <= 60
        assert journal.load(1).history == [message(299)]
    finally:
        journal.close()


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_the_file_and_its_folder_are_the_owners_only(path: Path) -> None:
    SqliteRoomJournal.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_second_host_of_the_same_room_is_told_it_is_in_use(path: Path) -> None:
    journal = SqliteRoomJournal.open(path)
    try:
        with pytest.raises(JournalError, match="in use"):
            SqliteRoomJournal.open(path)
    finally:
        journal.close()
    SqliteRoomJournal.open(path).close()  # free again once the first one closed


def test_a_foreign_or_corrupt_file_is_set_aside_and_a_new_one_started(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database at all" * 100)
    journal = SqliteRoomJournal.open(path)
    try:
        journal.write([message(1)], [])
        assert [m.id for m in journal.load(5).history] == ["m-1"]
    finally:
        journal.close()
    aside = [p for p in path.parent.iterdir() if ".unreadable-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a database")


def test_a_full_disk_is_a_journal_error_and_nothing_half_written(path: Path, monkeypatch) -> None:
    journal = SqliteRoomJournal.open(path)
    db = journal._connection
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count={pages + 2}")  # SQLITE_FULL, as on a full disk
    try:
        with pytest.raises(JournalError, match="disk is full"):
            journal.write([message(n, "x" * 4000) for n in range(100)], [])
        assert not db.in_transaction
        assert journal.load(500).history == []  # the failed round left nothing behind
    finally:
        journal.close()


def test_each_room_and_key_has_its_own_file(tmp_path: Path) -> None:
    paths = {
        journal_path(tmp_path, b"k1", "午饭"),
        journal_path(tmp_path, b"k1", "standup"),
        journal_path(tmp_path, b"k2", "午饭"),
        journal_path(tmp_path, None, "午饭"),
    }
    assert len(paths) == 4
    assert journal_path(tmp_path, b"k1", "午饭") == journal_path(tmp_path, b"k1", "午饭")


def test_the_last_successor_list_comes_back_signed(path: Path, tmp_path: Path) -> None:
    """Issue 18: a restarted host looks for its room where its last signed list named it."""
    from net.secure.identity import load_or_create_identity
    from net.secure.succession import Signer, verify

    identity = load_or_create_identity(tmp_path / "identity")
    signer = Signer(identity.key_path, identity.cert_path)
    entry = ev.SuccessorEntry("鲍勃", ("192.168.1.21",), 47800, "tcp", "ab" * 32)
    journal = SqliteRoomJournal.open(path)
    assert journal.last_successors() is None
    journal.keep_successors(signer.signed(ev.Successors, 0, "午饭", [entry]))
    carol = ev.SuccessorEntry("carol", ("192.168.1.22",), 47801, "udp", "cd" * 32)
    last = signer.signed(ev.Successors, 1, "午饭", [entry, carol])
    journal.keep_successors(last)
    journal.close()
    again = SqliteRoomJournal.open(path)
    try:
        kept = again.last_successors()
        assert kept == last and verify(kept, identity.fingerprint)
    finally:
        again.close()
