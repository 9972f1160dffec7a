"""Emoji in the window as pictures (Tk 8.6 draws them as empty boxes, or crashes on X11
with a colour emoji font): in messages, the picker, the message box, names; copying,
sending and finding still give the real characters."""

from __future__ import annotations

import dataclasses
import tkinter as tk
from tkinter import ttk

import pytest

from gui.emoji import emoji_images, has_pictures
from gui.emoji.images import KEPT_UNUSED
from gui.emoji_picker import EMOJI
from gui.model.values import ROOM
from gui.start_view import FoundEntry
from net.api import Transport
from net.protocol import events as ev
from net.protocol.nicknames import nick_key
from tests.gui.driving import Chat, connected, join_from_window, press, room_text, type_into


@pytest.fixture
def chat(make_app, headless_host, headless_client) -> Chat:
    host = headless_host(room="Lunch 🍕")
    peer, peer_events = headless_client(host.port, "𠮷田")  # a name with a letter outside the BMP
    app = make_app(nickname="yann")
    join_from_window(app, "yann", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app) and len(app.controller.members()) == 2)
    return Chat(app, peer, peer_events)


def shown(text: tk.Text, start: str = "1.0", end: str = "end-1c") -> str:
    """What a Text draws with its fonts (embedded pictures and elided text are not)."""
    return str(text.tk.call(text, "get", "-displaychars", start, end))


def font_safe(value: str) -> bool:
    """Nothing a Tk font would draw as a box or choke on: no emoji, nothing outside the BMP."""
    return all(char <= "\uffff" for char in value) and not has_pictures(value)


def pictures_in(text: tk.Text) -> list[str]:
    """The pictures embedded in `text`, by their names (which spell their characters)."""
    return [name.partition(":")[2] for _key, name, _index in text.dump("1.0", "end", image=True)]


def image_size(widget: tk.Misc, name: object) -> tuple[int, int]:
    return int(widget.tk.call("image", "width", name)), int(widget.tk.call("image", "height", name))


def drawn_texts(widget: tk.Misc):
    """Every string the widgets under `widget` draw with a font."""
    for child in widget.winfo_children():
        try:
            yield str(child.cget("text"))
        except tk.TclError:
            pass
        if isinstance(child, tk.Text):
            yield shown(child)
        if isinstance(child, ttk.Notebook):
            yield from (str(child.tab(tab, "text")) for tab in child.tabs())
        if isinstance(child, ttk.Treeview):
            shows_columns = bool(child.cget("columns"))
            stack = list(child.get_children())
            while stack:
                item = stack.pop()
                stack += child.get_children(item)
                yield str(child.item(item, "text"))
                if shows_columns:
                    yield from (str(value) for value in child.item(item, "values"))
        yield from drawn_texts(child)


def test_emoji_in_a_message_are_pictures_and_copy_as_characters(chat, make_app):
    text = "thanks 👍 and 🎉 from 𠮷田 👨‍👩‍👧 ❤️"
    chat.peer.send_message(text)
    make_app.wait(lambda: text in room_text(chat.app))
    pane = chat.app.chat_view.panes[ROOM]
    line = pane.text.search("thanks", "1.0")
    assert font_safe(shown(pane.text)), shown(pane.text)
    assert "thanks  and  from " in shown(pane.text, line, f"{line} lineend")
    names = pictures_in(pane.text)
    assert names[-5:] == [
        "1f44d",
        "1f389",
        "20bb7",  # no picture for it in the set: the placeholder box
        "1f468-200d-1f469-200d-1f467",
        "2764-fe0f",
    ]
    # The picture is a real colour one, as tall as a line of text.
    thumb = pane.text.image_cget(pane.text.search("and", line) + "-2c", "image")
    size = emoji_images(pane).sizes["text"]
    assert image_size(pane, thumb) == (size, size)
    middle = size // 2
    red, green, blue = (int(part) for part in pane.tk.splitlist(pane.tk.call(thumb, "get", middle, middle)))
    assert not pane.tk.getboolean(pane.tk.call(thumb, "transparency", "get", middle, middle))
    assert red > 200 and green > 150 and blue < 120  # Twemoji's yellow thumb
    # Tk's Ctrl+C (and the context menu's Copy) give the characters back.
    pane.text.focus_force()
    pane.text.tag_add("sel", line, f"{line} lineend")
    pane.text.event_generate("<<Copy>>")
    assert chat.app.root.clipboard_get().endswith(text)
    assert pane.copy_selection().endswith(text)
    assert chat.app.root.selection_get(selection="PRIMARY").endswith(text)  # X11's middle-click paste


def test_the_picker_shows_pictures_and_sends_characters(chat, make_app):
    view = chat.app.chat_view
    assert view.emoji_button.cget("image") and not view.emoji_button.cget("text")
    view.emoji_button.invoke()
    size = emoji_images(view).sizes["picker"]
    for emoji in EMOJI:
        button = view.emoji_picker.buttons[emoji]
        (image,) = button.cget("image")
        assert not button.cget("text")
        assert image_size(view, image) == (size, size)
    for emoji in "👍🎉":
        view.emoji_button.invoke()
        view.emoji_picker.buttons[emoji].invoke()
    assert view.input.get("1.0", "end-1c") == "👍🎉"
    assert shown(view.input) == "" and len(pictures_in(view.input)) == 2
    press(view.input, "<Return>")
    make_app.wait(lambda: any(m.text == "👍🎉" for m in chat.peer_events.of(ev.ChatMessage)))


def test_the_message_box_shows_typed_emoji_as_pictures_one_character_each(chat, make_app):
    view = chat.app.chat_view
    type_into(view.input, "a👍🏽b ❤️ c")
    assert view.input.get("1.0", "end-1c") == "a👍🏽b ❤️ c"
    assert shown(view.input) == "ab  c"
    view.input.mark_set("insert", "1.2")  # after the thumb
    press(view.input, "<BackSpace>")
    assert view.input.get("1.0", "end-1c") == "ab ❤️ c"
    press(view.input, "<Return>")
    make_app.wait(lambda: any(m.text == "ab ❤️ c" for m in chat.peer_events.of(ev.ChatMessage)))
    press(view.input, "<Up>")  # recalled from the history: pictures again
    assert view.input.get("1.0", "end-1c") == "ab ❤️ c" and shown(view.input) == "ab  c"


def test_find_finds_emoji(chat, make_app):
    for text in ("no fire here", "some 🔥 there", "more 🔥🔥"):
        chat.peer.send_message(text)
    make_app.wait(lambda: "more 🔥🔥" in room_text(chat.app))
    pane = chat.app.chat_view.panes[ROOM]
    pane.show_find()
    # Tk 8.6's `search -nocase` over a line holding a character outside the BMP crashes the
    # process (a segmentation fault): the transcript holds none, pictures stand for them.
    pane.find_var.set("nowhere")
    assert pane.find_next() is None and pane.find_status.cget("text") == "Not found"
    pane.find_var.set("🔥 THERE")
    first = pane.find_next()
    assert first and pane.text.get(*pane.text.tag_ranges("found")) == "🔥 there"
    pane.find_var.set("🔥")
    hits = [pane.find_next() for _ in range(4)]
    assert len(set(hits)) == 3 and hits[3] == hits[0]  # three fires, then around again
    assert pane.text.get(*pane.text.tag_ranges("found")) == "🔥"
    assert pane.find_next(backwards=True) == hits[2]


def test_names_reach_fonts_without_emoji_and_the_title_keeps_them(chat, make_app):
    app, view = chat.app, chat.app.chat_view
    chat.peer.set_typing(True)
    make_app.wait(lambda: view.panes[ROOM].typing_label.cget("text"))
    assert view.panes[ROOM].typing_label.cget("text") == "\ufffd田 is typing…"
    chat.peer.send_message("a private 🎉", to="yann")
    make_app.wait(lambda: nick_key("𠮷田") in view.panes)
    chat.peer.send_message("and the room 🍕")
    make_app.wait(lambda: "the room 🍕" in room_text(app))
    assert view.members_tree.item(nick_key("𠮷田"), "text").startswith("\ufffd田")
    assert view.notebook.tab(view.panes[ROOM], "text").startswith("#  Lunch :pizza:")
    assert view.header.title_label.cget("text") == "Lunch :pizza:"
    assert "Lunch 🍕" in app.root.title()  # the window manager draws titles, not Tk
    unsafe = [text for text in drawn_texts(app.root) if not font_safe(text)]
    assert unsafe == []


def test_pictures_follow_the_font_size(chat, make_app):
    app = chat.app
    chat.peer.send_message("big 👍")
    make_app.wait(lambda: "big 👍" in room_text(app))
    images = emoji_images(app.root)
    before = images.sizes["text"]
    app.apply_settings(dataclasses.replace(app.settings, font_size=24))
    make_app.pump()
    after = images.sizes["text"]
    assert after > before
    pane = app.chat_view.panes[ROOM]
    thumb = pane.text.image_cget(pane.text.search("big", "1.0") + "+4c", "image")
    assert image_size(pane, thumb) == (after, after)
    app.apply_settings(dataclasses.replace(app.settings, font_size=11))
    make_app.pump()
    assert images.sizes["text"] == before


def test_images_not_shown_anywhere_are_let_go(tk_root):
    images = emoji_images(tk_root)
    label = ttk.Label(tk_root, image=images.image(0))
    try:
        for slot in range(1, 3 * KEPT_UNUSED):
            images.image(slot)
        assert images.count() <= 2 * KEPT_UNUSED + 1
        assert images.image(0) in tk_root.tk.call("image", "names")  # still shown: kept
    finally:
        label.destroy()


def test_closing_a_chat_leaves_no_wrapped_commands(make_app, headless_host):
    host = headless_host()
    app = make_app()
    join_from_window(app, "zed", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app))
    app.chat_view.leave_button.invoke()
    make_app.wait(lambda: app.chat_view is None)
    assert app.root.tk.call("info", "procs", "::lanchat::emoji::inner*") == ""


def test_chats_found_on_the_lan_are_listed_without_emoji(make_app):
    """Room names and nicknames come from other PCs' announcements: they reach no font."""
    app = make_app(nickname="yann")
    view = app.start_view
    entry = FoundEntry("k", "Lunch 🍕 and 𠮷", "𠮷田", 2, "192.0.2.7:47800", Transport.TCP, "A" * 24)
    view.set_found_chats([entry])
    (item,) = view.found_tree.get_children()
    view.found_tree.selection_set(item)
    make_app.pump()
    room, _code, host_nick, *_rest = view.found_tree.item(item, "values")  # the columns of FoundEntry.row
    assert (room, host_nick) == ("Lunch :pizza: and \ufffd", "\ufffd田")
    assert [text for text in drawn_texts(app.root) if not font_safe(text)] == []
