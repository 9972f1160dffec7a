"""The window talks with IP Messenger users (issue 19): the list, a private tab, delivery marks.

A hand-driven IP Messenger peer (a plain UDP socket on loopback, writing Feiq-style GBK
packets) stands for Feiq; the window's bridge listens on a free loopback port.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator

import pytest

from gui.app import App
from gui.ipmsg_link import key_for
from gui.model.delivery import SENT_MARK
from net.ipmsg import codec as c
from net.ipmsg.bridge import IpmsgBridge
from tests.gui.conftest import AppRunner, free_port
from tests.gui.driving import connected, double_click, host_from_window, say
from tests.ipmsg import peer as make
from tests.ipmsg.rawpeer import RawPeer, mode, raw_peer


@pytest.fixture
def peer(monkeypatch: pytest.MonkeyPatch) -> Iterator[RawPeer]:
    monkeypatch.setenv("LANCHAT_IPMSG_PORT", "0")  # any free loopback port, not 2425
    with raw_peer() as created:
        yield created


def bridge_port(app: App) -> int:
    bridge = app.controller.ipmsg.bridge
    assert bridge is not None and bridge.running
    return bridge.port


def hosting_app(make_app: AppRunner) -> App:
    app = make_app(nickname="alice")
    host_from_window(app, "alice", "Office", free_port())
    make_app.wait(lambda: connected(app), message="hosting")
    return app


def test_ip_messenger_users_are_listed_and_talked_with_in_a_tab(make_app: AppRunner, peer: RawPeer) -> None:
    app = hosting_app(make_app)
    port = bridge_port(app)
    assert app.chat_view is not None
    panel = app.chat_view.sidebar.ipmsg
    peer.send(make.feiq_entry("张三", "研发部", host=b"ZHANG-PC"), port)
    make_app.wait(lambda: panel.count() == 1, message="the Feiq user listed")
    assert panel.tree.item(peer.address, "text") == "张三  (研发部, ZHANG-PC)"
    assert panel.title.cget("text") == "ON IP MESSENGER / 飞秋 · 1"

    x, y, _width, height = panel.tree.bbox(peer.address)
    double_click(panel.tree, x + 5, y + height // 2)
    key = key_for(peer.address)
    make_app.wait(lambda: app.chat_view is not None and key in app.chat_view.panes, message="a private tab")
    view = app.chat_view
    assert view.current_key() == key
    assert "not encrypted" in view.panes[key].content()

    say(view, "你好，张三")
    sent = peer.expect(mode(c.SENDMSG))
    assert c.message_text_bytes(sent.extra).decode("gbk") == "你好，张三" and sent.has(c.SENDCHECKOPT)
    assert "sending…" in view.panes[key].content()
    peer.send(make.packet(c.RECVMSG, b"%d" % sent.packet_no), port)
    make_app.wait(lambda: SENT_MARK in view.panes[key].content(), message="the delivered mark")

    peer.send(make.message("收到，谢谢", number=4242), port)
    assert c.acknowledged_number(peer.expect(mode(c.RECVMSG)).extra) == 4242
    make_app.wait(lambda: "收到，谢谢" in view.panes[key].content(), message="the answer in the tab")
    assert "收到" not in view.panes[None].content()  # not in the room

    view.close_private(key)
    peer.send(make.message("再见", number=4243), port)
    make_app.wait(lambda: key in view.panes and "再见" in view.panes[key].content(), message="the tab again")


def test_the_setting_switches_the_bridge_off_and_on(make_app: AppRunner, peer: RawPeer) -> None:
    app = hosting_app(make_app)
    assert app.settings.ipmsg  # on by default
    app.apply_settings(dataclasses.replace(app.settings, ipmsg=False))
    assert app.controller.ipmsg.bridge is None
    assert app.chat_view is not None
    assert "Off" in app.chat_view.sidebar.ipmsg.note.cget("text")
    app.apply_settings(dataclasses.replace(app.settings, ipmsg=True))
    assert bridge_port(app)


def test_a_message_before_any_chat_is_shown_when_the_chat_opens(make_app: AppRunner, peer: RawPeer) -> None:
    app = make_app(nickname="alice")
    port = bridge_port(app)
    peer.send(make.feiq_entry("张三"), port)
    peer.send(make.message("早上好", number=7), port)
    peer.expect(mode(c.RECVMSG))
    make_app.wait(lambda: app.controller.ipmsg._waiting, message="the message kept")
    host_from_window(app, "alice", "Office", free_port())
    make_app.wait(lambda: connected(app), message="hosting")
    key = key_for(peer.address)
    assert app.chat_view is not None
    make_app.wait(lambda: key in app.chat_view.panes and "早上好" in app.chat_view.panes[key].content())


def test_closing_the_window_says_goodbye_and_stops_the_bridge(make_app: AppRunner, peer: RawPeer) -> None:
    app = make_app(nickname="alice")
    bridge = app.controller.ipmsg.bridge
    assert bridge is not None
    peer.send(make.feiq_entry("张三", command=c.ANSENTRY), bridge.port)  # proves its address
    make_app.wait(lambda: app.controller.ipmsg.users, message="listed")
    app.close()
    peer.expect(mode(c.BR_EXIT))
    assert not bridge.running


def test_a_new_nickname_is_told_to_ip_messenger_users(make_app: AppRunner, peer: RawPeer) -> None:
    app = hosting_app(make_app)
    port = bridge_port(app)
    peer.send(make.feiq_entry("张三", command=c.ANSENTRY), port)  # answered our entry: proven
    make_app.wait(lambda: app.controller.ipmsg.users, message="listed")
    assert app.chat_view is not None
    say(app.chat_view, "/nick 小爱")
    renamed = "小爱".encode("gbk")
    peer.expect(
        lambda p: p.mode == c.BR_ABSENCE and c.parse_entry_extra(p.extra).nick == renamed, pump=make_app.pump
    )
    bridge = app.controller.ipmsg.bridge
    assert bridge is not None and bridge.port == port  # told, not restarted


def test_user_lists_waiting_in_the_event_queue_take_one_slot() -> None:
    from gui.bridge import EventBridge
    from net.ipmsg.events import IpmsgMessage, IpmsgUsers

    queue = EventBridge()
    for count in range(1000):  # e.g. a flood of entries from many addresses
        queue.post(IpmsgUsers(tuple(range(count))))  # type: ignore[arg-type]
    queue.post(IpmsgMessage("127.0.0.1:1", "x", "hello", 1))
    taken = queue.take(10_000)
    assert len(taken) == 2 and taken[0] == IpmsgUsers(tuple(range(999)))  # type: ignore[arg-type]


def test_a_taken_port_is_said_once_and_tried_again_from_the_settings(
    make_app: AppRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as feiq_here:
        feiq_here.bind(("127.0.0.1", 0))
        monkeypatch.setenv("LANCHAT_IPMSG_PORT", str(feiq_here.getsockname()[1]))
        starts = []
        real_start = IpmsgBridge.start
        monkeypatch.setattr(IpmsgBridge, "start", lambda self: (starts.append(1), real_start(self)))
        app = hosting_app(make_app)  # the chat's events come after the failed start
        assert app.chat_view is not None
        note = app.chat_view.sidebar.ipmsg.note
        make_app.wait(lambda: "is in use" in note.cget("text"), message="the reason shown")
        say(app.chat_view, "hello room")
        make_app.wait(lambda: "hello room" in app.chat_view.panes[None].content())
        make_app.pump()
        assert len(starts) == 1 and "is in use" in note.cget("text")
        app.apply_settings(dataclasses.replace(app.settings))  # OK in Settings: try again
        assert len(starts) == 2
