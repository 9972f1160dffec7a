"""The transcript keeps following new lines after a long message (issue 15, defect 2).

A ~3,000-character message from a real member wraps to dozens of lines. Once the view had
been laid out while hidden (another tab, a window opening with the history) or re-wrapped
by a resize, the old "at the end?" measurement (yview's fractions) found the view a few
pixels off the end, and from then on every new line, the user's own included, landed
below the visible area behind "New messages below ↓". These drive the real window against
a real host and check, after each way the view can change, that later lines are on screen
and the bar is not shown; and that the bar, when it is shown, sits below the text (never
over it, where a scrolling Text smears it) and is gone once clicked.
"""

from __future__ import annotations

import pytest

from gui.model.values import ROOM
from tests.gui.driving import Chat, connected, join_from_window, room_text, say

LONG = " ".join(f"word{n:03d}" for n in range(375))  # 2,999 characters


@pytest.fixture
def chat(make_app, headless_host, headless_client, tk_root):
    geometry = tk_root.geometry()
    host = headless_host(room="Following")
    peer, peer_events = headless_client(host.port, "zoe")
    app = make_app(nickname="yann")
    join_from_window(app, "yann", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app) and len(app.controller.members()) == 2)
    yield Chat(app, peer, peer_events)
    tk_root.geometry(geometry)


def send_and_show(chat: Chat, make_app, text: str) -> None:
    chat.peer.send_message(text)
    make_app.wait(lambda: room_text(chat.app).rstrip("\n").endswith(text), message=f"{text[:20]!r} shown")


def shows_the_end(pane) -> bool:
    """The last message's last line is wholly on screen, the view is at the end, no bar."""
    info = pane.text.dlineinfo("end-2c")
    on_screen = info is not None and info[1] + info[3] <= pane.text.winfo_height()
    return on_screen and pane.text.yview()[1] == 1.0 and not pane.marker_visible()


def later_lines_are_followed(chat: Chat, make_app) -> None:
    pane = chat.app.chat_view.panes[ROOM]
    for number in range(3):
        send_and_show(chat, make_app, f"later {number}")
        make_app.wait(lambda: shows_the_end(pane), timeout=3, message=f"later {number} on screen")
    say(chat.app.chat_view, "and my own")
    make_app.wait(lambda: "and my own" in room_text(chat.app).rsplit("\n", 2)[-2], message="own line")
    make_app.wait(lambda: shows_the_end(pane), timeout=3, message="the user's own line on screen")


@pytest.mark.parametrize("change", ["none", "hidden in another tab", "window resized"])
def test_lines_after_a_long_message_stay_in_view(chat, make_app, change):
    for number in range(10):
        send_and_show(chat, make_app, f"before {number}")
    view = chat.app.chat_view
    if change == "hidden in another tab":
        chat.app.controller.open_private("zoe")
        make_app.pump()
    send_and_show(chat, make_app, LONG)
    if change == "hidden in another tab":
        view.notebook.select(view.panes[ROOM])
    elif change == "window resized":
        chat.app.root.geometry("900x600")
    make_app.pump()
    assert shows_the_end(view.panes[ROOM])
    later_lines_are_followed(chat, make_app)


def test_joining_after_a_long_message_shows_the_end(make_app, headless_host, headless_client):
    """The history of a welcome goes in before the window is drawn."""
    host = headless_host(room="Following")
    peer, _events = headless_client(host.port, "zoe")
    for number in range(5):
        peer.send_message(f"before {number}")
    peer.send_message(LONG)
    make_app.wait(lambda: not peer.pending, message="zoe's messages acknowledged")
    app = make_app(nickname="yann")
    join_from_window(app, "yann", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app) and LONG in room_text(app))
    pane = app.chat_view.panes[ROOM]
    make_app.wait(lambda: shows_the_end(pane), timeout=3, message="the end on screen after joining")
    later_lines_are_followed(Chat(app, peer, _events), make_app)


def test_the_bar_sits_below_the_text_and_goes_when_clicked(chat, make_app):
    for number in range(40):
        chat.peer.send_message(f"filler {number}")
    send_and_show(chat, make_app, LONG)
    pane = chat.app.chat_view.panes[ROOM]
    pane.text.event_generate("<Button-4>")  # the mouse wheel, up: the user reads back
    make_app.pump()
    top = pane.text.index("@0,0")
    send_and_show(chat, make_app, "while you were reading")
    make_app.pump()
    assert pane.text.index("@0,0") == top  # the view did not jump
    assert pane.marker.winfo_ismapped()
    text_bottom = pane.text.winfo_rooty() + pane.text.winfo_height()
    assert pane.marker.winfo_rooty() >= text_bottom  # below the text, not over it
    pane.marker.invoke()
    make_app.pump()
    assert not pane.marker.winfo_ismapped() and not pane.marker_visible()
    assert shows_the_end(pane)
    later_lines_are_followed(chat, make_app)


def test_scrolling_back_to_the_end_follows_again(chat, make_app):
    for number in range(40):
        chat.peer.send_message(f"filler {number}")
    send_and_show(chat, make_app, "filler last")
    pane = chat.app.chat_view.panes[ROOM]
    scroll = pane.scrollbar.cget("command")
    pane.tk.call(*str(scroll).split(), "moveto", 0.2)  # the scrollbar, dragged up
    make_app.pump()
    top = pane.text.index("@0,0")
    send_and_show(chat, make_app, "while you were reading")
    make_app.pump()
    assert pane.text.index("@0,0") == top and pane.marker_visible()
    pane.tk.call(*str(scroll).split(), "moveto", 1.0)  # and down to the end again
    make_app.pump()
    assert not pane.marker_visible()
    later_lines_are_followed(chat, make_app)
