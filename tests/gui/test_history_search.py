"""Ctrl+Shift+F searches every kept conversation: a Chinese word inside a sentence without
spaces and an English word are found, a double-click on a result of this room goes to it
(paging the transcript up as far as needed), another conversation's result is previewed.

Real window, real host on 127.0.0.1, the history database in the test's data folder; the
search runs on its own thread and its results come back through the window's event bridge.
"""

from __future__ import annotations

from gui.app import App
from gui.model.values import ROOM
from gui.search_dialog import SearchDialog
from history import store
from history.database import HistoryDatabase
from net.paths import history_file
from tests.gui.conftest import free_port
from tests.gui.driving import connected, double_click, join_from_window, press, room_text, type_into
from tests.gui.test_history_pages import room_code_of_host

KEPT = 450
OLD = 20  # far older than the page the welcome shows (the newest 200)


def seed(code: str) -> None:
    database = HistoryDatabase.open(history_file())
    connection = database.connect()
    room = store.room_key(code)
    messages = [
        store.NewMessage(room, "Kept", f"m{i}", 1_700_000_000.0 + i, "bob", f"filler line {i:04d}")
        for i in range(KEPT)
    ]
    messages[OLD] = store.NewMessage(
        room, "Kept", f"m{OLD}", 1_700_000_000.0 + OLD, "bob", "大家早上好你好吗朋友们"
    )
    messages[KEPT - 5] = store.NewMessage(
        room, "Kept", "m-fox", 1_700_000_000.0 + KEPT - 5, "bob", "the quick brown fox"
    )
    messages.append(
        store.NewMessage(
            store.private_key(code, "carol"),
            "carol",
            "p1",
            1_700_000_100.0,
            "carol",
            "a private brown hat",
            peer="carol",
        )
    )
    connection.execute("BEGIN")
    store.append(connection, messages, database.fts)
    connection.execute("COMMIT")
    connection.close()
    database.close()


def search(make_app, dialog: SearchDialog, text: str) -> list[tuple[str, ...]]:
    dialog.query.delete(0, "end")
    type_into(dialog.query, text)
    dialog.search_button.invoke()
    make_app.wait(lambda: dialog.results.get_children(), message=f"results for {text!r}")
    return [tuple(dialog.results.item(row, "values")) for row in dialog.results.get_children()]


def double_click_row(dialog: SearchDialog, index: int) -> None:
    dialog.update()
    x, y, _w, h = dialog.results.bbox(dialog.results.get_children()[index])
    double_click(dialog.results, x + 10, y + h // 2)


def test_search_finds_chinese_and_english_and_goes_to_the_message(make_app, headless_host):
    port = free_port()
    headless_host(port=port, room="Kept")
    seed(room_code_of_host(make_app, port))
    app: App = make_app()
    join_from_window(app, "ann", f"127.0.0.1:{port}")
    make_app.wait(
        lambda: connected(app) and "filler line 0449" in room_text(app), message="the window in the chat"
    )
    assert "大家早上好" not in room_text(app)  # not on the page the welcome shows

    assert app.chat_view is not None
    press(app.chat_view.input, "<Control-Shift-F>")
    dialog = app.search.dialog
    assert dialog is not None and dialog.winfo_exists()

    rows = search(make_app, dialog, "你好")  # two characters inside a sentence without spaces
    assert rows == [("# Kept", "bob", rows[0][2], "大家早上好你好吗朋友们")]
    double_click_row(dialog, 0)
    make_app.wait(
        lambda: "大家早上好你好吗朋友们" in room_text(app), message="the room paged up to the message"
    )
    text = app.chat_view.panes[ROOM].text
    found = text.tag_ranges("found")
    assert found and "大家早上好你好吗朋友们" in text.get(found[0], found[1])
    app.root.update()
    assert text.bbox(found[0]) is not None  # in view
    assert app.search.dialog is None  # it went: the dialog closed

    press(app.chat_view.input, "<Control-Shift-F>")
    dialog = app.search.dialog
    assert dialog is not None
    rows = search(make_app, dialog, "Brown")  # any case
    assert sorted((r[0], r[1], r[3]) for r in rows) == [
        ("# Kept", "bob", "the quick brown fox"),
        ("@ carol", "carol", "a private brown hat"),
    ]
    double_click_row(dialog, [r[0] for r in rows].index("@ carol"))  # no tab shows it: previewed
    make_app.wait(lambda: "a private brown hat" in dialog.preview.get("1.0", "end"), message="the preview")
    assert app.search.dialog is dialog

    rows_before = dialog.results.get_children()
    dialog.query.delete(0, "end")
    type_into(dialog.query, "nothing like this")
    dialog.search_button.invoke()
    make_app.wait(lambda: dialog.results.get_children() != rows_before, message="the empty result")
    assert dialog.status.cget("text") == "No message found."
