"""The chat view's conveniences, driven like a user: keys, emoji, links, find, scrolling, attention."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import pytest

from gui import attention
from gui.emoji_picker import EMOJI
from gui.model.values import ROOM
from net.api import LatencyMeasured
from net.protocol import events as ev
from tests.gui.conftest import EventLog
from tests.gui.driving import connected, join_from_window, press, room_text, say, type_into


@dataclass
class Chat:
    app: object
    peer: object
    peer_events: EventLog
    host: object
    opened: list[str]


@pytest.fixture
def chat(make_app, headless_host, headless_client) -> Chat:
    host = headless_host(room="Features")
    peer, peer_events = headless_client(host.port, "zoe")
    app = make_app(nickname="yann")
    opened: list[str] = []
    app.open_link = opened.append
    join_from_window(app, "yann", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app) and len(app.controller.members()) == 2)
    return Chat(app, peer, peer_events, host, opened)


def received(chat: Chat, text: str) -> bool:
    return any(m.text == text for m in chat.peer_events.of(ev.ChatMessage))


def test_shift_enter_adds_a_line_and_enter_sends_both(chat, make_app):
    view = chat.app.chat_view
    type_into(view.input, "first line")
    press(view.input, "<Shift-Return>")
    type_into(view.input, "second line")
    assert view.input.get("1.0", "end-1c") == "first line\nsecond line"
    press(view.input, "<Return>")
    make_app.wait(lambda: received(chat, "first line\nsecond line"))


def test_up_and_down_recall_what_was_sent(chat, make_app):
    view = chat.app.chat_view
    say(view, "one")
    say(view, "two")
    type_into(view.input, "draft")
    press(view.input, "<Up>")
    assert view.input.get("1.0", "end-1c") == "two"
    press(view.input, "<Up>")
    assert view.input.get("1.0", "end-1c") == "one"
    press(view.input, "<Down>")
    press(view.input, "<Down>")
    assert view.input.get("1.0", "end-1c") == "draft"


def test_emoji_outside_the_bmp_go_in_and_out_intact(chat, make_app):
    view = chat.app.chat_view
    assert any(ord(emoji[0]) > 0xFFFF for emoji in EMOJI)
    view.emoji_button.invoke()
    assert view.emoji_picker.shown
    view.emoji_picker.buttons["😀"].invoke()
    assert not view.emoji_picker.shown
    type_into(view.input, " hi 👍🏽")
    press(view.input, "<Return>")
    make_app.wait(lambda: received(chat, "😀 hi 👍🏽"))
    chat.peer.send_message("back at you 🎉 and a link https://example.org/😀 ok")
    make_app.wait(lambda: "back at you 🎉" in room_text(chat.app))
    pane = view.panes[ROOM]
    # Tags sit where they belong even after characters Tk counts twice.
    start = pane.text.search("https://", "1.0")
    assert pane.link_at(start) == "https://example.org/😀"


def test_clicking_a_link_opens_it(chat, make_app):
    chat.peer.send_message("docs at www.example.org/help today")
    make_app.wait(lambda: "www.example.org/help" in room_text(chat.app))
    pane = chat.app.chat_view.panes[ROOM]
    pane.text.see("end")
    make_app.pump()
    start = pane.text.search("www.example", "1.0")
    x, y, _width, height = pane.text.bbox(f"{start}+3c")
    point = {"x": x + 1, "y": y + height // 2}
    pane.text.event_generate("<Motion>", **point)  # the pointer moves over the link first
    pane.text.event_generate("<ButtonPress-1>", **point)
    pane.text.event_generate("<ButtonRelease-1>", **point)
    assert chat.opened == ["http://www.example.org/help"]


def test_text_can_be_selected_and_copied_but_not_edited(chat, make_app):
    chat.peer.send_message("copy me please")
    make_app.wait(lambda: "copy me please" in room_text(chat.app))
    pane = chat.app.chat_view.panes[ROOM]
    start = pane.text.search("copy me", "1.0")
    pane.text.tag_add("sel", start, f"{start}+7c")
    assert pane.copy_selection() == "copy me"
    assert chat.app.root.clipboard_get() == "copy me"
    before = pane.content()
    pane.text.focus_force()
    pane.text.event_generate("<Key>", keysym="x")
    pane.text.event_generate("<<Paste>>")
    pane.text.event_generate("<Delete>")
    make_app.pump()
    assert pane.content() == before


def test_ctrl_f_finds_text_in_the_conversation(chat, make_app):
    for text in ("alpha", "needle one", "beta", "needle two"):
        chat.peer.send_message(text)
    make_app.wait(lambda: "needle two" in room_text(chat.app))
    view = chat.app.chat_view
    press(view.input, "<Control-f>")
    pane = view.panes[ROOM]
    assert pane.find_bar.winfo_ismapped()
    type_into(pane.find_entry, "NEEDLE")
    press(pane.find_entry, "<Return>")
    first = pane.text.tag_ranges("found")
    assert pane.text.get(*first) == "needle"
    press(pane.find_entry, "<Return>")
    second = pane.text.tag_ranges("found")
    assert str(second[0]) != str(first[0])
    pane.find_var.set("not there at all")
    assert pane.find_next() is None and pane.find_status.cget("text") == "Not found"
    press(pane.find_entry, "<Escape>")
    assert not pane.find_bar.winfo_ismapped()


def test_scrolled_up_shows_the_new_messages_marker(chat, make_app):
    for number in range(80):
        chat.peer.send_message(f"filler {number}")
    make_app.wait(lambda: "filler 79" in room_text(chat.app), timeout=15)
    pane = chat.app.chat_view.panes[ROOM]
    make_app.pump()
    assert pane.at_bottom() and not pane.marker_visible()
    pane.text.yview_moveto(0.0)
    make_app.pump()
    chat.peer.send_message("while you were reading")
    make_app.wait(lambda: "while you were reading" in room_text(chat.app))
    make_app.pump()
    assert pane.marker_visible()
    assert pane.text.yview()[0] == 0.0  # the view did not jump
    pane.marker.invoke()
    make_app.pump()
    assert pane.at_bottom() and not pane.marker_visible()


def test_scrollback_cap_applies_from_settings(chat, make_app):
    dialog = chat.app.open_settings()
    dialog.scrollback_var.set("200")
    dialog.ok_button.invoke()
    for number in range(300):
        chat.peer.send_message(f"line {number}")
    make_app.wait(lambda: "line 299" in room_text(chat.app), timeout=20)
    pane = chat.app.chat_view.panes[ROOM]
    assert pane.line_count() == 200
    assert "line 0\n" not in pane.content()


def test_latency_shows_in_the_status_bar(chat, make_app):
    chat.app.bridge.post(LatencyMeasured(0.0123))
    make_app.wait(lambda: "12 ms" in chat.app.chat_view.status_details.cget("text"))


def test_unread_count_in_the_title_while_in_the_background(chat, make_app):
    app = chat.app
    app.notifier.set_focused(False)
    chat.peer.send_message("are you there, yann?")
    make_app.wait(lambda: app.root.title().startswith("(1) Features"), message="the count in the title")
    assert app.notifier.flagged
    assert app.notifier.rings == 1
    pane = app.chat_view.panes[ROOM]
    assert pane.text.tag_ranges("mention")
    app.notifier.set_focused(True)
    assert app.root.title() == "Features — LanChat"
    assert not app.notifier.flagged


def test_attention_can_be_switched_off(chat, make_app):
    app = chat.app
    dialog = app.open_settings()
    dialog.notify_var.set(False)
    dialog.sound_var.set(False)
    dialog.mention_var.set(False)
    dialog.ok_button.invoke()
    app.notifier.set_focused(False)
    chat.peer.send_message("yann, quiet please")
    make_app.wait(lambda: "quiet please" in room_text(app))
    make_app.pump()
    assert app.root.title() == "Features — LanChat"
    assert not app.notifier.flagged and app.notifier.rings == 0
    assert not app.chat_view.panes[ROOM].text.tag_ranges("mention")


@pytest.mark.skipif(sys.platform != "linux", reason="the X11 urgency hint")
def test_x11_urgency_hint_is_set_and_cleared(tk_root):
    attention._x11_urgency(tk_root, True)
    assert urgent(tk_root)
    attention._x11_urgency(tk_root, False)
    assert not urgent(tk_root)


def urgent(root) -> bool:
    lib = attention._load_xlib()
    display = lib.XOpenDisplay(root.winfo_screen().encode())
    try:
        window = attention._x11_wrapper(lib, display, root.winfo_id())
        hints = lib.XGetWMHints(display, window)
        assert hints
        flag = bool(hints.contents.flags & attention._X_URGENCY_HINT)
        lib.XFree(hints)
        return flag
    finally:
        lib.XCloseDisplay(display)


def test_ctrl_q_leaves_cleanly(chat, make_app):
    press(chat.app.chat_view.input, "<Control-q>")
    assert chat.app.closed and make_app.exits == 1
    make_app.wait(
        lambda: any(isinstance(e, ev.Left) and e.nick == "yann" for e in chat.peer_events.snapshot())
    )


def test_tab_order_reaches_the_buttons(chat, make_app):
    view = chat.app.chat_view
    press(view.input, "<Tab>")
    assert view.focus_get() is view.emoji_button
    assert view.emoji_button.tk_focusNext() is view.send_button


def test_a_message_the_host_refuses_is_marked_not_delivered(chat, make_app):
    view = chat.app.chat_view
    chat.app.controller.open_private("zoe")
    make_app.pump()
    chat.peer.close()
    make_app.wait(lambda: "zoe left the chat." in view.panes["zoe"].content())
    say(view, "are you still there?")
    pane = view.panes["zoe"]
    make_app.wait(lambda: "not delivered: zoe is not in the chat" in pane.content())
    start = pane.text.search("are you still there?", "1.0")
    assert "failed" in pane.text.tag_names(start)
    assert not pane.pending_ids()


def test_messages_that_cannot_be_queued_each_say_why(chat, make_app):
    """Nothing left to send, too long, too many waiting: three reasons, three sentences."""
    view = chat.app.chat_view
    errors = []
    for text in ("\x01\x02", "x" * 20_000, "one too many"):
        if text == "one too many":  # the real client's outbox, made full without 2,000 messages
            client = chat.app.controller.session.client.wrapped  # inside the history's wrapper
            client._session._outbox.limit = 0
        say(view, text)
        assert view.input.get("1.0", "end-1c") == text  # kept, for fixing
        errors.append(room_text(chat.app).splitlines()[-1])
    assert "nothing to send" in errors[0]
    assert "too long" in errors[1]
    assert "too many are still waiting" in errors[2]
    assert not received(chat, "one too many")


def test_the_app_ticks_the_controller_until_it_closes(chat, make_app, monkeypatch):
    """Typing notices expire and the reconnect countdown runs on the app's timer."""
    ticks: list[float] = []
    monkeypatch.setattr(chat.app.controller, "tick", lambda: ticks.append(time.monotonic()))
    make_app.wait(lambda: len(ticks) >= 2, timeout=3, message="two ticks")
    chat.app.close()
    counted = len(ticks)
    deadline = time.monotonic() + 0.8
    while time.monotonic() < deadline:
        make_app.pump()
        time.sleep(0.02)
    assert len(ticks) == counted


def test_leave_goes_back_to_the_start_view_and_tells_the_others(chat, make_app):
    chat.app.chat_view.leave_button.invoke()
    assert chat.app.start_view is not None and chat.app.chat_view is None
    assert chat.app.controller.session is None
    make_app.wait(
        lambda: any(isinstance(e, ev.Left) and e.nick == "yann" for e in chat.peer_events.snapshot())
    )


def test_language_and_theme_change_live_in_the_chat(chat, make_app):
    dialog = chat.app.open_settings()
    dialog.language_var.set("简体中文")
    dialog.theme_var.set("dark")
    dialog.ok_button.invoke()
    view = chat.app.chat_view
    assert view.send_button.cget("text") == "发送"
    assert view.status_label.cget("text") == "已连接"
    assert view.input.cget("background") == chat.app.palette.surface == "#17191e"
    chat.peer.send_message("still here")
    make_app.wait(lambda: "still here" in room_text(chat.app))
