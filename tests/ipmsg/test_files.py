"""Files both ways with a raw IP Messenger peer on loopback: real UDP and TCP sockets, the
running bridge's file server and fetcher (GETFILEDATA with offsets, GETDIRFILES streams)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from net.ipmsg import codec as c
from net.ipmsg import fileserve
from net.ipmsg.attachments import (
    Attachment,
    build_attachments,
    build_dir_header,
    header_length,
    parse_attachments,
    parse_dir_header,
    parse_file_request,
)
from net.ipmsg.bridge import IpmsgBridge
from net.ipmsg.engine import Identity
from net.ipmsg.events import (
    IpmsgMessage,
    IpmsgOfferSent,
    IpmsgTransferDone,
    IpmsgTransferFailed,
    IpmsgUsers,
)
from net.ipmsg.streams import MAX_CONNECTIONS
from tests.ipmsg import peer as make
from tests.ipmsg.rawpeer import RawPeer, mode, raw_peer
from tests.ipmsg.test_bridge import Events

CONTENT = os.urandom(300_000) + "结尾".encode()


@pytest.fixture
def peer() -> Iterator[RawPeer]:
    with raw_peer() as created:
        yield created


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def bridge(peer: RawPeer, events: Events) -> Iterator[IpmsgBridge]:
    created = IpmsgBridge(Identity("小王", "LanChat", "wang", "wang-pc"), events.post, port=0,
                          broadcast_ports=(peer.port,))  # fmt: skip
    created.start()
    try:
        peer.send(make.iptux_entry("tux", host=b"TUX-PC"), created.port)
        events.wait_for(lambda e: isinstance(e, IpmsgUsers) and e.users)
        yield created
    finally:
        created.stop()
        created.join()
    assert created.fetcher.workers.running == 0 and created.files.workers.running == 0


class PeerFiles:
    """The raw peer's TCP side, on its UDP port's number (IP Messenger serves files there):
    answers one connection with `answer(request_packet, connection)`."""

    def __init__(
        self, port: int, answer: Callable[[c.Packet, socket.socket], None], connections: int = 1
    ) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.settimeout(5.0)
        self.requests: list[c.Packet] = []
        self._answer = answer
        self._connections = connections
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for _ in range(self._connections):
            try:
                conn, _peer = self.listener.accept()
            except OSError:
                return
            self._one(conn)

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\0" not in data:
                chunk = conn.recv(1024)
                if not chunk:
                    return
                data += chunk
            packet = c.parse_packet(data.split(b"\0")[0])
            self.requests.append(packet)
            self._answer(packet, conn)

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


def offer_to_bridge(
    peer: RawPeer, bridge: IpmsgBridge, events: Events, listing: list[Attachment]
) -> IpmsgMessage:
    extra = "给你".encode() + b"\0" + build_attachments(listing, "utf-8")
    peer.send(
        make.packet(c.SENDMSG | c.SENDCHECKOPT | c.FILEATTACHOPT | c.UTF8OPT, extra, number=9001), bridge.port
    )
    message = events.wait_for(lambda e: isinstance(e, IpmsgMessage) and e.files)
    assert isinstance(message, IpmsgMessage)
    return message


def outcome(events: Events, file_id: int = 0) -> IpmsgTransferDone | IpmsgTransferFailed:
    found = events.wait_for(
        lambda e: (
            isinstance(e, IpmsgTransferDone | IpmsgTransferFailed) and e.file_id == file_id and not e.sending
        )
    )
    assert isinstance(found, IpmsgTransferDone | IpmsgTransferFailed)
    return found


def test_a_file_from_them_arrives_and_an_interrupted_one_resumes_by_offset(
    bridge: IpmsgBridge, peer: RawPeer, events: Events, tmp_path: Path
) -> None:
    message = offer_to_bridge(peer, bridge, events, [Attachment(0, "数据.bin", len(CONTENT))])
    assert message.text == "给你" and message.attachments[0].name == "数据.bin"
    (tmp_path / "数据.bin.part").write_bytes(b"another file's bytes")  # not ours: never resumed

    def half(packet: c.Packet, conn: socket.socket) -> None:
        conn.sendall(CONTENT[:100_000])  # then the sender goes away

    server = PeerFiles(peer.port, half)
    try:
        assert bridge.fetch(peer.address, 9001, [message.attachments[0]], tmp_path)
        failed = outcome(events)
    finally:
        server.close()
    assert isinstance(failed, IpmsgTransferFailed) and "early" in failed.reason
    assert parse_file_request(server.requests[0].extra).offset == 0
    part = tmp_path / "数据 (1).bin.part"
    assert part.read_bytes() == CONTENT[:100_000]
    events.seen.clear()

    def rest(packet: c.Packet, conn: socket.socket) -> None:
        conn.sendall(CONTENT[parse_file_request(packet.extra).offset :])

    server = PeerFiles(peer.port, rest)
    try:
        assert bridge.fetch(peer.address, 9001, [message.attachments[0]], tmp_path)  # Try again
        done = outcome(events)
    finally:
        server.close()
    assert isinstance(done, IpmsgTransferDone), done
    assert done.path == tmp_path / "数据 (1).bin" and done.path.read_bytes() == CONTENT
    [request] = server.requests
    assert request.mode == c.GETFILEDATA
    asked = parse_file_request(request.extra)
    assert (asked.packet_no, asked.file_id, asked.offset) == (9001, 0, 100_000)
    assert not part.exists() and (tmp_path / "数据.bin.part").read_bytes() == b"another file's bytes"


def test_an_offer_of_many_files_is_received_one_after_the_other(
    bridge: IpmsgBridge, peer: RawPeer, events: Events, tmp_path: Path
) -> None:
    count = MAX_CONNECTIONS + 4  # more files than fetches may run at once
    listing = [Attachment(n, f"f{n}.txt", len(b"file %d" % n)) for n in range(count)]
    message = offer_to_bridge(peer, bridge, events, listing)

    def answer(packet: c.Packet, conn: socket.socket) -> None:
        conn.sendall(b"file %d" % parse_file_request(packet.extra).file_id)

    server = PeerFiles(peer.port, answer, connections=count)
    try:
        assert bridge.fetch(peer.address, 9001, list(message.attachments), tmp_path)
        assert not bridge.fetch(peer.address, 9001, list(message.attachments), tmp_path)  # running already
        for n in range(count):
            assert isinstance(outcome(events, n), IpmsgTransferDone)
    finally:
        server.close()
    assert sorted(p.read_bytes() for p in tmp_path.iterdir()) == sorted(b"file %d" % n for n in range(count))


def test_a_folder_from_them_arrives_with_its_hierarchy(
    bridge: IpmsgBridge, peer: RawPeer, events: Events, tmp_path: Path
) -> None:
    message = offer_to_bridge(peer, bridge, events, [Attachment(3, "照片", 0, 0, c.FILE_DIR)])

    def answer(packet: c.Packet, conn: socket.socket) -> None:
        def head(name: str, size: int, kind: int) -> bytes:
            return build_dir_header(name, size, kind, 0, "utf-8")

        conn.sendall(head("照片", 0, c.FILE_DIR) + head("a.txt", 5, c.FILE_REGULAR) + b"hello"
                     + head("sub", 0, c.FILE_DIR) + head("b.bin", len(CONTENT), c.FILE_REGULAR) + CONTENT
                     + head("", 0, c.FILE_RETPARENT) + head("empty", 0, c.FILE_REGULAR)
                     + head("", 0, c.FILE_RETPARENT))  # fmt: skip

    server = PeerFiles(peer.port, answer)
    try:
        assert bridge.fetch(peer.address, 9001, [message.attachments[0]], tmp_path)
        done = outcome(events, 3)
    finally:
        server.close()
    assert isinstance(done, IpmsgTransferDone), done
    top = tmp_path / "照片"
    assert done.path == top and server.requests[0].mode == c.GETDIRFILES
    assert (top / "a.txt").read_bytes() == b"hello" and (top / "sub" / "b.bin").read_bytes() == CONTENT
    assert (top / "empty").read_bytes() == b""
    assert sorted(p.name for p in top.rglob("*")) == ["a.txt", "b.bin", "empty", "sub"]


@pytest.mark.parametrize(
    ("name", "stream", "reason"),
    [
        ("lies.bin", b"x" * 20, "more than it announced"),  # announced 10, sends 20
        ("short.bin", b"x" * 5, "closed the connection early"),
        ("dir", b"EVIL", "folder"),  # a folder stream that is not one
    ],
)
def test_a_sender_whose_sizes_lie_is_refused(
    bridge: IpmsgBridge, peer: RawPeer, events: Events, tmp_path: Path, name: str, stream: bytes, reason: str
) -> None:
    kind = c.FILE_DIR if name == "dir" else c.FILE_REGULAR
    message = offer_to_bridge(peer, bridge, events, [Attachment(0, name, 10, 0, kind)])
    if name == "dir":
        stream = build_dir_header("dir", 0, c.FILE_DIR, 0, "utf-8") + build_dir_header(
            "big", 11, 1, 0, "utf-8"
        )
        stream += b"y" * 11
        reason = "bigger than its offer announced"
    server = PeerFiles(peer.port, lambda _packet, conn: conn.sendall(stream))
    try:
        assert bridge.fetch(peer.address, 9001, [message.attachments[0]], tmp_path)
        failed = outcome(events)
    finally:
        server.close()
    assert isinstance(failed, IpmsgTransferFailed) and reason in failed.reason
    assert not (tmp_path / name).is_file()


def test_hostile_names_in_a_folder_stream_write_nothing_outside(
    bridge: IpmsgBridge, peer: RawPeer, events: Events, tmp_path: Path
) -> None:
    inside = tmp_path / "downloads"
    inside.mkdir()
    message = offer_to_bridge(peer, bridge, events, [Attachment(0, "d", 0, 0, c.FILE_DIR)])
    evil = b"0016:../evil.txt:3:1:" + b"bad"
    assert header_length(evil) == 0x16
    stream = build_dir_header("d", 0, c.FILE_DIR, 0, "utf-8") + evil
    server = PeerFiles(peer.port, lambda _packet, conn: conn.sendall(stream))
    try:
        assert bridge.fetch(peer.address, 9001, [message.attachments[0]], inside)
        failed = outcome(events)
    finally:
        server.close()
    assert isinstance(failed, IpmsgTransferFailed)
    assert not (tmp_path / "evil.txt").exists() and not (inside / "evil.txt").exists()


def fetch_from_bridge(port: int, packet_no: int, file_id: int, wanted: int, offset: int = 0,
                      source: str = "127.0.0.1") -> bytes:  # fmt: skip
    """What the bridge's file server answers to a raw GETFILEDATA / GETDIRFILES."""
    with socket.socket() as conn:
        conn.bind((source, 0))
        conn.settimeout(5.0)
        conn.connect(("127.0.0.1", port))
        extra = b"%x:%x:%x" % (packet_no, file_id, offset)
        conn.sendall(make.packet(wanted, extra))
        data = b""
        try:
            while chunk := conn.recv(65536):
                data += chunk
        except ConnectionResetError:  # closed unread: the request was never looked at
            assert not data
        return data


def read_stream(data: bytes) -> list[tuple[str, int, bytes]]:
    entries = []
    while data:
        size = header_length(data)
        assert size is not None
        entry = parse_dir_header(data[:size], c.UTF8OPT, "utf-8")
        body = data[size : size + (entry.size if entry.kind == c.FILE_REGULAR else 0)]
        entries.append((entry.name, entry.kind, body))
        data = data[size + len(body) :]
    return entries


def test_our_files_are_served_only_to_whom_we_offered_them(
    bridge: IpmsgBridge, peer: RawPeer, events: Events, tmp_path: Path
) -> None:
    (tmp_path / "report.pdf").write_bytes(CONTENT)
    folder = tmp_path / "资料"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"hello")
    (folder / "sub" / "b.txt").write_bytes(b"world")
    os.symlink("/etc/passwd", folder / "link")  # never followed

    message_id = bridge.offer_files(peer.address, [tmp_path / "report.pdf", folder], "两个文件")
    offer = peer.expect(lambda p: p.mode == c.SENDMSG and p.has(c.FILEATTACHOPT))
    sent = events.wait_for(lambda e: isinstance(e, IpmsgOfferSent))
    assert isinstance(sent, IpmsgOfferSent) and sent.message_id == message_id
    assert sent.packet_no == offer.packet_no and sent.names == ("report.pdf", "资料")
    listing, refused = parse_attachments(offer.extra, offer.command, "utf-8")
    assert refused == 0 and c.message_text_bytes(offer.extra).decode() == "两个文件"
    assert [(a.file_id, a.name, a.size, a.is_dir) for a in listing] == [
        (0, "report.pdf", len(CONTENT), False),
        (1, "资料", 10, True),
    ]
    number = offer.packet_no

    assert fetch_from_bridge(bridge.port, number, 0, c.GETFILEDATA) == CONTENT
    assert fetch_from_bridge(bridge.port, number, 0, c.GETFILEDATA, offset=250_000) == CONTENT[250_000:]
    assert read_stream(fetch_from_bridge(bridge.port, number, 1, c.GETDIRFILES)) == [
        ("资料", c.FILE_DIR, b""),
        ("a.txt", c.FILE_REGULAR, b"hello"),
        ("sub", c.FILE_DIR, b""),
        ("b.txt", c.FILE_REGULAR, b"world"),
        (".", c.FILE_RETPARENT, b""),
        (".", c.FILE_RETPARENT, b""),
    ]
    done = events.wait_for(lambda e: isinstance(e, IpmsgTransferDone) and e.sending and e.file_id == 1)
    assert isinstance(done, IpmsgTransferDone) and done.size == 10

    # Nothing for what was not offered, for the wrong kind, or from another address.
    assert fetch_from_bridge(bridge.port, number + 1, 0, c.GETFILEDATA) == b""
    assert fetch_from_bridge(bridge.port, number, 7, c.GETFILEDATA) == b""
    assert fetch_from_bridge(bridge.port, number, 1, c.GETFILEDATA) == b""
    assert fetch_from_bridge(bridge.port, number, 0, c.GETFILEDATA, offset=len(CONTENT) + 1) == b""
    assert fetch_from_bridge(bridge.port, number, 0, c.GETFILEDATA, source="127.0.0.2") == b""

    # RELEASEFILES from the peer closes the offer.
    peer.send(make.packet(c.RELEASEFILES, b"%d" % number), bridge.port)
    events.wait_for(lambda e: type(e).__name__ == "IpmsgFilesReleased")
    assert fetch_from_bridge(bridge.port, number, 0, c.GETFILEDATA) == b""


def test_connections_are_bounded_and_stopping_ends_them(
    bridge: IpmsgBridge, peer: RawPeer, events: Events, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import wait_until

    with socket.create_connection(("127.0.0.1", bridge.port), timeout=5) as early:
        assert early.recv(10) == b""  # nothing is offered to 127.0.0.1 yet: closed on accept
    (tmp_path / "a.txt").write_bytes(b"a")
    bridge.offer_files(peer.address, [tmp_path / "a.txt"])
    events.wait_for(lambda e: isinstance(e, IpmsgOfferSent))

    monkeypatch.setattr(fileserve, "REQUEST_TIMEOUT", 0.3)
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=5) as silent:
        assert silent.recv(10) == b""  # no request in time: closed
    wait_until(lambda: bridge.files.workers.running == 0, message="the silent one's thread ended")
    monkeypatch.setattr(fileserve, "REQUEST_TIMEOUT", 30.0)

    idle = [socket.create_connection(("127.0.0.1", bridge.port), timeout=5) for _ in range(MAX_CONNECTIONS)]
    try:
        wait_until(lambda: bridge.files.workers.running == MAX_CONNECTIONS, message="all served")
        with socket.create_connection(("127.0.0.1", bridge.port), timeout=5) as extra:
            assert extra.recv(10) == b""  # closed at once
        assert bridge.files.refused >= 1
    finally:
        bridge.stop()
        bridge.join()
        for conn in idle:
            conn.close()
    assert bridge.files.workers.running == 0  # they did not wait for their 30 s timeout
    assert peer.expect(mode(c.BR_EXIT))
