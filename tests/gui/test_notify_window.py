"""Desktop notifications from the real window: a real peer writes, a real D-Bus service shows.

The window joins a real host on 127.0.0.1 with a headless peer; `notification_server`
(conftest) is a real dbus-daemon with a notification service, reached by the window's
notification backend through desktop-notifier as on a Linux desktop. Whether the window is
focused is set through `Attention.set_focused` (Xvfb has no window manager to take the
focus away), as the attention tests do.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from gui.model.values import ROOM
from gui.notify import pacing
from net.protocol import events as ev
from tests.gui.conftest import EventLog
from tests.gui.driving import connected, join_from_window, room_text

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the freedesktop notification service")


@dataclass
class Chat:
    app: object
    peer: object
    peer_events: EventLog
    server: object


@pytest.fixture
def chat(notification_server, make_app, headless_host, headless_client, monkeypatch) -> Chat:
    monkeypatch.setattr(pacing, "MIN_GAP", 0.2)  # a conversation's next notification comes sooner
    host = headless_host(room="Features")
    peer, peer_events = headless_client(host.port, "zoe")
    app = make_app(nickname="yann")
    join_from_window(app, "yann", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app) and len(app.controller.members()) == 2)
    yield Chat(app, peer, peer_events, notification_server)
    app.root.deiconify()


def in_background(app, make_app) -> None:
    make_app.pump()  # focus changes already queued happen first
    app.notifier.set_focused(False)


def private_text(app, key: str) -> str:
    pane = app.chat_view.panes.get(key)
    return pane.content() if pane is not None else ""


def test_a_notification_for_what_is_not_in_front_none_for_the_rest(chat, make_app):
    app, server = chat.app, chat.server

    in_background(app, make_app)
    chat.peer.send_message("lunch, yann?\nthe usual place")
    (first,) = make_app.wait(server.shown, message="a notification")
    assert (first.app_name, first.summary, first.body) == ("LanChat", "zoe in Features", "lunch, yann?")
    handed = app.notices.handed_over

    assert app.controller.submit("my own words", ROOM)  # ours, still in the background: none
    make_app.wait(lambda: any(m.text == "my own words" for m in chat.peer_events.of(ev.ChatMessage)))
    make_app.wait(lambda: not app.chat_view.panes[ROOM].pending_ids(), message="our message acknowledged")

    app.notifier.set_focused(True)  # looking at the room: none
    chat.peer.send_message("seen it")
    make_app.wait(lambda: "seen it" in room_text(app))
    assert app.notices.handed_over == handed

    app.controller.open_private("zoe")  # another tab in front: a room message notifies again
    make_app.wait(lambda: app.chat_view.current_key() == "zoe")
    chat.peer.send_message("news for everyone")
    make_app.wait(lambda: len(server.shown()) == 2, message="the second notification")
    assert (server.shown()[1].summary, server.shown()[1].body) == ("zoe in Features", "news for everyone")

    chat.peer.send_message("psst", to="yann")  # in the private tab in front: none
    make_app.wait(lambda: "psst" in private_text(app, "zoe"))
    assert app.notices.handed_over == handed + 1
    assert len(server.shown()) == 2


def test_mention_only_mode_notifies_for_mentions_and_private_messages(chat, make_app):
    app, server = chat.app, chat.server
    dialog = app.open_settings()
    dialog.notify_for_buttons[1].invoke()  # "Only when my nickname is mentioned..."
    dialog.ok_button.invoke()
    assert app.settings.notify_for == "mentions"

    in_background(app, make_app)
    chat.peer.send_message("lunch, anyone?")
    make_app.wait(lambda: "lunch, anyone?" in room_text(app))
    assert app.notices.handed_over == 0
    chat.peer.send_message("what about you, Yann?")
    make_app.wait(lambda: len(server.shown()) == 1, message="the mention")
    chat.peer.send_message("just between us", to="yann")
    make_app.wait(lambda: len(server.shown()) == 2, message="the private message")
    assert [(note.summary, note.body) for note in server.shown()] == [
        ("zoe in Features", "what about you, Yann?"),
        ("zoe (private message)", "just between us"),
    ]


def test_switched_off_in_settings_none_at_all(chat, make_app):
    app = chat.app
    dialog = app.open_settings()
    dialog.desktop_var.set(False)
    dialog._desktop_toggled()
    assert all(button.instate(["disabled"]) for button in dialog.notify_for_buttons)
    dialog.ok_button.invoke()
    in_background(app, make_app)
    chat.peer.send_message("anyone there, yann?")
    chat.peer.send_message("psst", to="yann")
    make_app.wait(lambda: "psst" in private_text(app, "zoe"))
    assert app.notices.handed_over == 0 and app.notices.backend is None
    make_app.wait(lambda: app.root.title().startswith("(2)"), message="the count in the title")
    assert app.notices.handed_over == 0  # the title's count and the taskbar are another setting


def test_a_click_brings_the_window_and_the_conversation_forward(chat, make_app):
    app, server = chat.app, chat.server
    root, view = app.root, app.chat_view

    in_background(app, make_app)
    chat.peer.send_message("psst, yann", to="yann")
    chat.peer.send_message("room news")
    make_app.wait(lambda: len(server.shown()) == 2, message="two notifications")
    private, room = sorted(server.shown(), key=lambda note: note.summary != "zoe (private message)")
    assert (private.body, room.body) == ("psst, yann", "room news")
    make_app.wait(lambda: app.notices.backend.sent == 2, message="the service's replies (before any click)")

    app.controller.open_private("zoe")  # the private tab in front, the window hidden
    root.withdraw()
    make_app.pump()
    server.click(room.id)
    make_app.wait(lambda: view.current_key() is ROOM and root.winfo_ismapped(), message="the room forward")
    assert root.state() == "normal"

    view.close_private("zoe")  # closed since: the click opens it again
    root.withdraw()
    make_app.pump()
    server.click(private.id)
    make_app.wait(lambda: view.current_key() == "zoe" and root.winfo_ismapped(), message="the private tab")
    assert view.notebook.select() == str(view.panes["zoe"])


def test_a_file_offer_notifies_like_a_private_message(
    notification_server, make_app, headless_host, headless_client
):
    """Issue 16: an offer to us, with the window in the background, shows a notification
    (and counts as unread); one whose conversation is in front does not."""
    host = headless_host(room="Features")
    peer, _events = headless_client(host.port, "zoe", files=True)  # its hello says it reads files
    app = make_app(nickname="yann")
    join_from_window(app, "yann", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app) and len(app.controller.members()) == 2)
    step = dict(names=("report.pdf",), count=1, size=48213, port=1, key="ab" * 32)

    in_background(app, make_app)
    assert peer.send_file_step(ev.FileControl(op="offer", offer="f1", to="yann", **step))
    (first,) = make_app.wait(notification_server.shown, message="a notification")
    assert (first.summary, first.body) == ("zoe sends you files", "report.pdf · 1 file, 47.1 KB")
    make_app.wait(lambda: app.root.title().startswith("(1)"), message="counted as unread")

    app.notifier.set_focused(True)
    assert app.chat_view.current_key() is ROOM  # the offer's private tab opened behind it
    handed = app.notices.handed_over
    assert peer.send_file_step(ev.FileControl(op="offer", offer="f2", **step))  # to the room, in front
    make_app.wait(lambda: len(app.files.transfers) == 2, message="the second card")
    make_app.pump()
    assert app.notices.handed_over == handed and len(notification_server.shown()) == 1
    app.root.deiconify()
