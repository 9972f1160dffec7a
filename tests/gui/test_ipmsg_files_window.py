"""Files with an IP Messenger user in the window: their offer's card (Accept, progress, saved,
RELEASEFILES), and "Send files…" in their tab offering to them (not to the LanChat room)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gui.ipmsg_files import IpmsgFiles
from gui.ipmsg_link import key_for
from net.ipmsg import codec as c
from net.ipmsg.attachments import Attachment, build_attachments, parse_attachments, parse_file_request
from tests.gui.conftest import AppRunner
from tests.gui.test_ipmsg_window import bridge_port, hosting_app
from tests.ipmsg import peer as make
from tests.ipmsg.rawpeer import RawPeer, mode, raw_peer
from tests.ipmsg.test_files import CONTENT, PeerFiles, fetch_from_bridge


@pytest.fixture
def peer(monkeypatch: pytest.MonkeyPatch) -> Iterator[RawPeer]:
    monkeypatch.setenv("LANCHAT_IPMSG_PORT", "0")
    with raw_peer() as created:
        yield created


def card_status(files: IpmsgFiles, address: str, number: int) -> str:
    offer = files.offers.get((address, number))
    return str(offer.card.status.cget("text")) if offer is not None else ""


def test_their_file_is_accepted_from_its_card_and_saved(
    make_app: AppRunner, peer: RawPeer, tmp_path: Path
) -> None:
    app = hosting_app(make_app)
    port = bridge_port(app)
    peer.send(make.feiq_entry("张三"), port)
    make_app.wait(lambda: app.controller.ipmsg.users, message="listed")
    listing = build_attachments([Attachment(0, "报告.pdf", len(CONTENT))], "gbk") + b"1:../evil:5:0:1:\a"
    peer.send(make.packet(c.SENDMSG | c.SENDCHECKOPT | c.FILEATTACHOPT, b"\0" + listing, number=3030), port)
    files = app.controller.ipmsg.files
    assert isinstance(files, IpmsgFiles)
    make_app.wait(lambda: (peer.address, 3030) in files.offers, message="the offer's card")
    offer = files.offers[(peer.address, 3030)]
    assert app.chat_view is not None and offer.card.pane is app.chat_view.panes[key_for(peer.address)]
    assert "报告.pdf" in offer.card.names.cget("text") and "evil" not in offer.card.names.cget("text")
    assert "1 refused (unsafe names or sizes)" in card_status(files, peer.address, 3030)

    app.files.choose_folder = lambda _initial: tmp_path
    server = PeerFiles(
        peer.port, lambda packet, conn: conn.sendall(CONTENT[parse_file_request(packet.extra).offset :])
    )
    try:
        offer.card.buttons["Accept…"].invoke()
        make_app.wait(lambda: "Saved in" in card_status(files, peer.address, 3030), message="saved")
    finally:
        server.close()
    assert (tmp_path / "报告.pdf").read_bytes() == CONTENT
    assert set(offer.card.buttons) == {"Open", "Show in folder"}
    released = peer.expect(mode(c.RELEASEFILES), pump=make_app.pump)
    assert c.acknowledged_number(released.extra) == 3030


def test_send_files_in_their_tab_offers_to_them_and_serves(
    make_app: AppRunner, peer: RawPeer, tmp_path: Path
) -> None:
    app = hosting_app(make_app)
    port = bridge_port(app)
    peer.send(make.iptux_entry("tux"), port)
    make_app.wait(lambda: app.controller.ipmsg.users, message="listed")
    key = app.controller.ipmsg.open(peer.address)
    assert key is not None
    (tmp_path / "photo.jpg").write_bytes(CONTENT)

    assert app.files.send([tmp_path / "photo.jpg"], key)  # what "Send files…", /send and drops call
    offer = peer.expect(lambda p: p.mode == c.SENDMSG and p.has(c.FILEATTACHOPT), pump=make_app.pump)
    [attachment] = parse_attachments(offer.extra, offer.command, "utf-8")[0]
    assert (attachment.name, attachment.size) == ("photo.jpg", len(CONTENT))
    files = app.controller.ipmsg.files
    assert isinstance(files, IpmsgFiles)
    make_app.wait(lambda: (peer.address, offer.packet_no) in files.offers, message="our card")
    assert app.chat_view is not None and "photo.jpg" not in app.chat_view.panes[None].content()

    assert fetch_from_bridge(port, offer.packet_no, 0, c.GETFILEDATA) == CONTENT
    make_app.wait(
        lambda: "tux received" in card_status(files, peer.address, offer.packet_no), message="served"
    )
