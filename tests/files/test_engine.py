"""The transfer engine over real TLS sockets: sending, many files in one stream, and every
kind of hostile input from either end, refused cleanly with nothing written outside the
chosen folder."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from net.files.fetch import Fetch, FetchError, Ticket
from net.files.manifest import ManifestError, build_manifest
from net.files.server import Served, TransferServer
from net.files.stream import REQUEST, WANTED, StreamDecoder, StreamError, encode_record
from net.secure.tls import client_context
from tests.files.hostile import HostileSender, done, one_file
from tests.helpers import wait_until
from tests.identity import session_identity


@pytest.fixture
def server() -> Iterator[TransferServer]:
    reports: list[Served] = []
    server = TransferServer(session_identity(), bind="127.0.0.1", on_served=reports.append)
    server.reports = reports  # type: ignore[attr-defined]
    server.start()
    try:
        yield server
    finally:
        server.stop()


def ticket_for(
    server: TransferServer, offer: str = "o1", member: str = "bob", token: str | None = None
) -> Ticket:
    token = token if token is not None else server.grant(offer, member)
    return Ticket("127.0.0.1", server.port, server.fingerprint, offer, member, token)


def test_one_file(server: TransferServer, tmp_path: Path) -> None:
    source = tmp_path / "report.pdf"
    source.write_bytes(os.urandom(2_500_000))
    server.add_offer("o1", build_manifest([source]).entries)
    result = Fetch(ticket_for(server), tmp_path / "in").run()
    assert (tmp_path / "in" / "report.pdf").read_bytes() == source.read_bytes()
    assert (result.received, result.resumed) == (2_500_000, 0)


def test_many_small_files_go_in_one_stream(server: TransferServer, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(2000):
        (folder / f"f{n:04}.txt").write_bytes(f"file {n}".encode() * 50)
    server.add_offer("o1", build_manifest([folder]).entries)
    result = Fetch(ticket_for(server), tmp_path / "in").run()
    assert len(result.files) == 2000
    assert (tmp_path / "in" / "many" / "f1999.txt").read_bytes() == b"file 1999" * 50
    assert len(wait_until(lambda: server.reports)) == 1  # type: ignore[attr-defined]  # one connection


def test_a_second_fetch_of_files_already_there_sends_nothing_and_a_different_file_is_not_overwritten(
    server: TransferServer, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_bytes(b"new")
    server.add_offer("o1", build_manifest([tmp_path / "a.txt"]).entries)
    inbox = tmp_path / "in"
    inbox.mkdir()
    Fetch(ticket_for(server), inbox).run()
    assert Fetch(ticket_for(server), inbox).run().received == 0
    (inbox / "a.txt").write_bytes(b"mine")
    Fetch(ticket_for(server), inbox).run()
    assert (inbox / "a.txt").read_bytes() == b"mine"
    assert (inbox / "a (1).txt").read_bytes() == b"new"


# -- hostile receivers ----------------------------------------------------------------------


@pytest.fixture
def offered(server: TransferServer, tmp_path: Path) -> TransferServer:
    (tmp_path / "secret.txt").write_bytes(b"s" * 1000)
    server.add_offer("o1", build_manifest([tmp_path / "secret.txt"]).entries)
    server.add_offer("o2", build_manifest([tmp_path / "secret.txt"]).entries)
    return server


def refused(server: TransferServer, ticket: Ticket, folder: Path) -> str:
    with pytest.raises(FetchError) as failed:
        Fetch(ticket, folder).run()
    assert not (folder / "secret.txt").exists()
    return failed.value.code


def test_a_guessed_token_is_refused(offered: TransferServer, tmp_path: Path) -> None:
    assert refused(offered, ticket_for(offered, token="guess" * 6), tmp_path / "in") == "refused"


def test_a_token_works_once(offered: TransferServer, tmp_path: Path) -> None:
    ticket = ticket_for(offered)
    Fetch(ticket, tmp_path / "first").run()
    assert refused(offered, ticket, tmp_path / "again") == "refused"


def test_another_members_token_is_refused(offered: TransferServer, tmp_path: Path) -> None:
    alices = ticket_for(offered, member="alice")
    stolen = Ticket(alices.address, alices.port, alices.fingerprint, "o1", "mallory", alices.token)
    assert refused(offered, stolen, tmp_path / "in") == "refused"


def test_a_token_for_another_offer_is_refused(offered: TransferServer, tmp_path: Path) -> None:
    other = ticket_for(offered, offer="o2")
    assert (
        refused(
            offered,
            Ticket(other.address, other.port, other.fingerprint, "o1", "bob", other.token),
            tmp_path / "in",
        )
        == "refused"
    )


def test_an_expired_token_is_refused(tmp_path: Path) -> None:
    now = [0.0]
    server = TransferServer(session_identity(), bind="127.0.0.1", clock=lambda: now[0])
    server.add_offer("o1", build_manifest([_file(tmp_path)]).entries)
    server.start()
    try:
        ticket = ticket_for(server)
        now[0] += 121
        assert refused(server, ticket, tmp_path / "in") == "refused"
    finally:
        server.stop()


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_bytes(b"s" * 1000)
    return path


def _raw_request(
    server: TransferServer, request: dict[str, object], wanted: dict[str, object]
) -> StreamError:
    """Speak the stream by hand: `request`, then `wanted`; the sender's refusal."""
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    with client_context().wrap_socket(raw) as tls:
        tls.sendall(encode_record(REQUEST, request))
        decoder = StreamDecoder()
        tls.sendall(encode_record(WANTED, wanted))
        with pytest.raises(StreamError) as failed:
            while data := tls.recv(65536):
                decoder.feed(data)
    return failed.value


@pytest.mark.parametrize(
    "wanted",
    [
        {"want": [[5, 0]]},
        {"want": [[0, 1001]]},
        {"want": [[0, -1]]},
        {"want": [[0, 0], [0, 0]]},
        {"want": "all"},
    ],
)
def test_a_malformed_wanted_list_is_refused(offered: TransferServer, wanted: dict[str, object]) -> None:
    request = {"v": 1, "offer": "o1", "member": "bob", "token": offered.grant("o1", "bob")}
    assert _raw_request(offered, request, wanted).code == "bad_request"


def test_a_request_of_another_version_is_refused(offered: TransferServer) -> None:
    request = {"v": 99, "offer": "o1", "member": "bob", "token": offered.grant("o1", "bob")}
    assert _raw_request(offered, request, {"want": []}).code == "version_mismatch"


def test_the_sender_is_checked_by_the_key_its_offer_named(offered: TransferServer, tmp_path: Path) -> None:
    ticket = ticket_for(offered)
    impostor = Ticket(
        ticket.address, ticket.port, hashlib.sha256(b"another key").digest(), "o1", "bob", ticket.token
    )
    assert refused(offered, impostor, tmp_path / "in") == "key_mismatch"


# -- hostile senders ------------------------------------------------------------------------

DIGEST = hashlib.sha256(b"abc").hexdigest()


def _entry(path: str, size: int = 3, digest: str = DIGEST) -> dict[str, object]:
    return {"path": path, "size": size, "sha256": digest}


def _fetch_from(hostile: HostileSender, folder: Path, **options: int) -> str:
    ticket = Ticket("127.0.0.1", hostile.port, hostile.fingerprint, "o1", "bob", "t")
    try:
        with pytest.raises(FetchError) as failed:
            Fetch(ticket, folder, timeout=10, **options).run()
    finally:
        hostile.close()
    return failed.value.code


@pytest.mark.parametrize(
    "name",
    [
        "../evil.txt",
        "a/../../evil.txt",
        "/etc/evil",
        "C:evil.txt",
        "C:\\evil.txt",
        "\\\\server\\share",
        "CON",
        "nul.txt",
        "com1",
        "LPT9.log",
        "a" * 256,
        "x" * 100 + "中" * 52,
        "bad\x07name",
        "new\nline",
        "trailing.",
        "trailing ",
        "",
        ".",
        "a//b",
    ],
)
def test_unsafe_names_are_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "inbox"
    hostile = HostileSender([_entry("fine.txt"), _entry(name)], one_file(0, 0, b"abc") + done())
    assert _fetch_from(hostile, folder) == "unsafe_name"
    assert not folder.exists() or list(folder.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] in ([], ["inbox"])  # nothing outside it either


def test_an_offer_of_too_many_entries_is_refused(tmp_path: Path) -> None:
    hostile = HostileSender([_entry(f"f{n}") for n in range(11)], done())
    assert _fetch_from(hostile, tmp_path / "in", max_entries=10) == "too_many"


def test_a_name_twice_is_refused(tmp_path: Path) -> None:
    hostile = HostileSender([_entry("a.txt"), _entry("A.TXT")], done())
    assert _fetch_from(hostile, tmp_path / "in") == "unsafe_name"


@pytest.mark.parametrize("content", [b"ab", b"abcd"])
def test_a_size_that_lies_is_refused(tmp_path: Path, content: bytes) -> None:
    hostile = HostileSender([_entry("a.txt")], one_file(0, 0, content) + done())
    assert _fetch_from(hostile, tmp_path / "in") == "size_mismatch"
    assert not (tmp_path / "in" / "a.txt").exists()


def test_a_stream_that_ends_early_keeps_the_part_for_a_resume(tmp_path: Path) -> None:
    from net.files.stream import file_header

    hostile = HostileSender([_entry("a.txt")], file_header(0, 0, 3) + b"ab")
    assert _fetch_from(hostile, tmp_path / "in") == "lost"
    assert (tmp_path / "in" / "a.txt.part").read_bytes() == b"ab"


def test_a_hash_that_does_not_match_is_refused_and_the_part_discarded(tmp_path: Path) -> None:
    hostile = HostileSender([_entry("a.txt")], one_file(0, 0, b"abd") + done())
    assert _fetch_from(hostile, tmp_path / "in") == "hash_mismatch"
    assert list((tmp_path / "in").iterdir()) == []


def test_done_before_every_file_is_refused(tmp_path: Path) -> None:
    hostile = HostileSender([_entry("a.txt"), _entry("b.txt")], one_file(0, 0, b"abc") + done())
    assert _fetch_from(hostile, tmp_path / "in") == "incomplete"


def test_a_link_in_the_chosen_folder_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "photos").symlink_to(outside, target_is_directory=True)
    hostile = HostileSender([_entry("photos/a.txt")], one_file(0, 0, b"abc") + done())
    assert _fetch_from(hostile, folder) == "unsafe_name"
    assert list(outside.iterdir()) == []


# -- what a sender sends --------------------------------------------------------------------


def test_links_in_a_sent_folder_go_as_content_inside_it_and_are_skipped_outside(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "real.txt").write_text("shared")
    (folder / "inside-link.txt").symlink_to(folder / "real.txt")
    (folder / "outside-link.txt").symlink_to(secret)
    (folder / "dir-link").symlink_to(tmp_path, target_is_directory=True)
    manifest = build_manifest([folder])
    assert [e.path for e in manifest.entries] == ["share", "share/inside-link.txt", "share/real.txt"]
    assert sorted(Path(p).name for p in manifest.skipped) == ["dir-link", "outside-link.txt"]


def test_a_sent_folder_of_too_many_entries_is_refused(tmp_path: Path) -> None:
    for n in range(6):
        (tmp_path / f"{n}.txt").write_text("x")
    with pytest.raises(ManifestError):
        build_manifest([tmp_path], max_entries=5)


def test_a_file_changed_since_the_offer_is_not_sent(server: TransferServer, tmp_path: Path) -> None:
    source = _file(tmp_path)
    server.add_offer("o1", build_manifest([source]).entries)
    source.write_bytes(b"shorter")
    assert refused(server, ticket_for(server), tmp_path / "in") == "changed"


def test_the_server_serves_at_most_its_connection_limit(tmp_path: Path) -> None:
    server = TransferServer(session_identity(), bind="127.0.0.1", max_connections=1)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as first:
            wait_until(lambda: server._connections, message="the first connection served")
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as second:
                assert second.recv(1) == b""  # closed at once
            del first
    finally:
        server.stop()
