"""Scrolling to the top of a conversation shows older kept messages, a page at a time, and a
private tab opened again shows the kept private conversation (issue 17, member side).

Driven in the real window against a real host on 127.0.0.1. The history database in the
test's data folder (`LANCHAT_DATA_DIR`, see conftest) is filled beforehand with more than a
page of the room's conversation, under the room code the host proved in a first session.
"""

from __future__ import annotations

import tkinter as tk

from gui.app import App
from gui.model.values import ROOM
from history import store
from history.database import HistoryDatabase
from net.paths import history_file
from tests.gui.conftest import free_port
from tests.gui.driving import connected, join_from_window, room_text

DIVIDER = "— earlier conversation above —"
KEPT = 450  # more than two pages


def seed(key: str, title: str, count: int, sender: str = "bob", start: float = 1_700_000_000.0) -> None:
    """Keep `count` messages of conversation `key`, as earlier runs would have."""
    database = HistoryDatabase.open(history_file())
    connection = database.connect()
    messages = [
        store.NewMessage(key, title, f"old-{i}", start + i, sender, f"old message {i:04d}", peer=None)
        for i in range(count)
    ]
    connection.execute("BEGIN")
    store.append(connection, messages, database.fts)
    connection.execute("COMMIT")
    connection.close()
    database.close()


def room_code_of_host(make_app, port: int) -> str:
    """Join once (nothing is said) to learn the room code the host proves."""
    first = make_app(nickname="ann")
    join_from_window(first, "ann", f"127.0.0.1:{port}")
    make_app.wait(lambda: connected(first), message="the first window in the chat")
    code = first.controller.status().code
    first.close()
    assert code
    return code


def top_line(text: tk.Text) -> str:
    return text.get("@0,0 linestart", "@0,0 lineend")


def scroll_to_top(app: App) -> str:
    """Scroll the room to its top, as the scrollbar would; returns the line then at the top."""
    assert app.chat_view is not None
    text = app.chat_view.panes[ROOM].text
    text.yview_moveto(0)
    return text.get("1.0", "1.0 lineend")  # the top line, before the older page goes above it


def test_scrolling_to_the_top_shows_older_kept_messages(make_app, headless_host):
    port = free_port()
    headless_host(port=port, room="Kept")
    code = room_code_of_host(make_app, port)
    seed(store.room_key(code), "Kept", KEPT)

    app = make_app()
    join_from_window(app, "ann", f"127.0.0.1:{port}")
    make_app.wait(lambda: connected(app) and DIVIDER in room_text(app), message="the window in the chat")
    assert app.chat_view is not None
    text = app.chat_view.panes[ROOM].text
    shown = room_text(app)
    assert "old message 0449" in shown and "old message 0250" in shown  # the newest page
    assert "old message 0249" not in shown

    was_on_top = scroll_to_top(app)
    make_app.wait(lambda: "old message 0249" in room_text(app), message="the page before it")
    shown = room_text(app)
    assert "old message 0050" in shown and "old message 0049" not in shown  # one page, not all
    make_app.pump()
    assert top_line(text) == was_on_top  # the view did not jump: the same line is at the top
    assert shown.index("old message 0249") < shown.index("old message 0250") < shown.index(DIVIDER)

    scroll_to_top(app)
    make_app.wait(lambda: "old message 0000" in room_text(app), message="the oldest page")
    shown = room_text(app)
    assert all(shown.count(f"old message {i:04d}") == 1 for i in range(KEPT))
    make_app.pump()
    scroll_to_top(app)  # nothing older: nothing changes
    make_app.pump()
    assert room_text(app) == shown


def private_text(app: App, key: str) -> str:
    assert app.chat_view is not None
    pane = app.chat_view.panes.get(key)
    return "" if pane is None else pane.content()


def test_a_private_tab_opened_again_shows_the_kept_private_conversation(
    make_app, headless_host, headless_client
):
    port = free_port()
    headless_host(port=port, room="Kept")
    code = room_code_of_host(make_app, port)
    seed(store.private_key(code, "bob"), "bob", 3)
    seed(store.private_key(code, "carol"), "carol", 2, sender="carol")

    app = make_app()
    join_from_window(app, "ann", f"127.0.0.1:{port}")
    make_app.wait(lambda: connected(app), message="the window in the chat")
    bob, _bob_events = headless_client(port, "bob")
    make_app.wait(lambda: "bob" in room_text(app), message="bob to join")
    assert app.controller.open_private("bob") == "bob"  # as a double-click on bob in the list does
    make_app.wait(lambda: DIVIDER in private_text(app, "bob"), message="the kept private conversation")
    text = private_text(app, "bob")
    assert text.index("old message 0000") < text.index("old message 0002") < text.index(DIVIDER)
    assert text.index(DIVIDER) < text.index("Private conversation with bob")
    assert "old message" not in room_text(app)  # the private conversation stays private

    # carol writes first: her message opens the tab, below the kept conversation, shown once.
    carol, _carol_events = headless_client(port, "carol")
    make_app.wait(lambda: "carol" in room_text(app), message="carol to join")
    carol.send_message("new from carol", to="ann")
    make_app.wait(lambda: DIVIDER in private_text(app, "carol"), message="carol's kept conversation")
    text = private_text(app, "carol")
    assert text.index("old message 0001") < text.index(DIVIDER) < text.index("new from carol")
    assert text.count("new from carol") == 1
    bob.close()
    carol.close()
