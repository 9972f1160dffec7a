"""IP Messenger conversations are kept, found, and get a private message's attention (issue 19).

The real window and its bridge on loopback; a raw IP Messenger peer (a plain UDP socket,
Feiq-style GBK packets) writes. The history is the test's own database (`LANCHAT_DATA_DIR`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from gui.app import App
from gui.ipmsg_link import key_for
from gui.model.delivery import SENT_MARK
from net.ipmsg import codec as c
from tests.gui.conftest import AppRunner
from tests.gui.driving import press, say
from tests.gui.test_history_search import double_click_row, search
from tests.gui.test_ipmsg_window import bridge_port, hosting_app
from tests.ipmsg import peer as make
from tests.ipmsg.rawpeer import RawPeer, mode, raw_peer

DIVIDER = "— earlier conversation above —"


@pytest.fixture
def peer(monkeypatch: pytest.MonkeyPatch) -> Iterator[RawPeer]:
    monkeypatch.setenv("LANCHAT_IPMSG_PORT", "0")
    with raw_peer() as created:
        yield created


def talk(app: App, make_app: AppRunner, peer: RawPeer, theirs: str, ours: str, number: int) -> str:
    """The peer writes `theirs`, the window answers `ours` in the tab; both acknowledged."""
    port = bridge_port(app)
    peer.send(make.feiq_entry("张三", "研发部"), port)
    make_app.wait(lambda: app.controller.ipmsg.users, message="listed")
    peer.send(make.message(theirs, number=number), port)
    key = key_for(peer.address)
    assert app.chat_view is not None
    view = app.chat_view
    make_app.wait(lambda: key in view.panes and theirs in view.panes[key].content(), message="their message")
    view.notebook.select(view.panes[key])
    say(view, ours)
    sent = peer.expect(lambda p: p.mode == c.SENDMSG, pump=make_app.pump)
    peer.send(make.packet(c.RECVMSG, b"%d" % sent.packet_no), port)
    make_app.wait(lambda: SENT_MARK in view.panes[key].content(), message="our message delivered")
    return key


def test_a_conversation_is_kept_shown_again_after_a_restart_and_found(
    make_app: AppRunner, peer: RawPeer
) -> None:
    app = hosting_app(make_app)
    key = talk(app, make_app, peer, "第一次的话 first words", "our first answer", 501)
    assert DIVIDER not in app.chat_view.panes[key].content()  # type: ignore[union-attr]
    app.close()

    again = hosting_app(make_app)  # a new bridge on a new port; the peer's address is the same
    port = bridge_port(again)
    peer.send(make.feiq_entry("张三", "研发部"), port)
    peer.send(make.message("又见面了", number=1), port)  # IP Messenger numbers restart too
    assert again.chat_view is not None
    view = again.chat_view
    make_app.wait(lambda: key in view.panes and "又见面了" in view.panes[key].content(), message="the tab")
    text = view.panes[key].content()
    assert DIVIDER in text
    assert text.index("第一次的话 first words") < text.index("our first answer") < text.index(DIVIDER)
    assert text.index(DIVIDER) < text.index("又见面了") and text.count("our first answer") == 1

    # Closed and opened again by hand (no LanChat event in between): everything, each once.
    view.close_private(key)
    make_app.pump()
    again.controller.ipmsg.open(peer.address)
    make_app.wait(lambda: key in view.panes and "又见面了" in view.panes[key].content(), message="reopened")
    text = view.panes[key].content()
    assert text.count("又见面了") == 1 and text.count("our first answer") == 1
    assert text.index("第一次的话 first words") < text.index("又见面了")

    press(view.input, "<Control-Shift-F>")
    dialog = again.search.dialog
    assert dialog is not None
    rows = search(make_app, dialog, "第一次")
    assert [(r[0], r[1], r[3]) for r in rows] == [("@ 张三", "张三", "第一次的话 first words")]
    search(make_app, dialog, "answer")

    def rows() -> list[tuple[str, ...]]:
        return [tuple(dialog.results.item(row, "values")) for row in dialog.results.get_children()]

    make_app.wait(lambda: any("answer" in row[3] for row in rows()), message="the second search")
    assert [(r[0], r[1], r[3]) for r in rows()] == [("@ 张三", "alice", "our first answer")]
    double_click_row(dialog, 0)  # its tab is open: it goes there
    make_app.wait(lambda: view.current_key() == key, message="the tab in front")


@pytest.mark.skipif(sys.platform != "linux", reason="the freedesktop notification service")
def test_a_message_in_the_background_flashes_the_title_and_notifies(
    notification_server,
    make_app: AppRunner,
    peer: RawPeer,  # type: ignore[no-untyped-def]
) -> None:  # the server first: it must outlive the window's notification backend
    app = hosting_app(make_app)
    port = bridge_port(app)
    peer.send(make.feiq_entry("张三"), port)
    make_app.wait(lambda: app.controller.ipmsg.users, message="listed")
    make_app.pump()
    app.notifier.set_focused(False)
    peer.send(make.message("在吗？有空聊聊", number=77), port)
    peer.expect(mode(c.RECVMSG), pump=make_app.pump)
    (shown,) = make_app.wait(notification_server.shown, message="a notification")
    assert shown.body == "在吗？有空聊聊" and "张三" in shown.summary
    assert app.notifier.unread == 1 and app.notifier.flagged
    make_app.wait(lambda: app.root.title().startswith("(1)"), message="the title counts it")

    # A click on the notification brings their tab forward, opened again if it was closed.
    key = key_for(peer.address)
    view = app.chat_view
    assert view is not None
    view.notebook.select(view.panes[None])
    view.close_private(key)
    backend = app.notices.backend
    make_app.wait(lambda: getattr(backend, "sent", 0) == 1, message="the service's reply")
    notification_server.click(shown.id)
    make_app.wait(lambda: key in view.panes and view.current_key() == key, message="their tab in front")
    app.root.deiconify()
