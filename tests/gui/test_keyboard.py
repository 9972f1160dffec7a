"""The keyboard in the window, driven like a user: Ctrl+A selects all in every text field, and
the cursor goes where the user types next (the refused nickname, the message box).

Focus needs the window to have the keyboard; Xvfb has no window manager to give it, so each
test takes it (`focus_force`) and waits until Tk reports it.
"""

from __future__ import annotations

import tkinter as tk

import pytest

from gui.model.values import ROOM
from gui.select_all import select_all_keys
from tests.gui.conftest import free_port
from tests.gui.driving import connected, host_from_window, join_from_window, press, room_text


def has_keyboard(make_app, widget: tk.Misc) -> None:
    """Wait until `widget` has the keyboard focus."""
    make_app.wait(lambda: widget.focus_get() is widget, timeout=5, message=f"the focus on {widget}")


def take_keyboard(make_app, widget: tk.Misc) -> None:
    """Give `widget` the focus as a click would (the window getting the keyboard first)."""
    widget.focus_force()
    has_keyboard(make_app, widget)


def all_selected(widget) -> bool:
    """Whether the whole text of an Entry (or Combobox, Spinbox) or Text is selected."""
    if isinstance(widget, tk.Text):
        ranges = widget.tag_ranges("sel")
        whole = widget.get("1.0", "end-1c").rstrip("\n")
        return bool(ranges) and widget.get(ranges[0], ranges[-1]).rstrip("\n") == whole != ""
    return widget.selection_present() and (widget.index("sel.first"), widget.index("sel.last")) == (
        0,
        len(widget.get()),
    )


def select_all_in(widget) -> None:
    if isinstance(widget, tk.Text):
        widget.tag_remove("sel", "1.0", "end")
    else:
        widget.selection_clear()
        widget.icursor("end")
    press(widget, "<Control-a>")


def test_select_all_is_ctrl_a_on_linux_and_windows_and_cmd_a_on_macos():
    assert select_all_keys("linux")[0] == select_all_keys("win32")[0] == "<Control-a>"
    assert select_all_keys("darwin")[0] == "<Command-a>"


def test_ctrl_a_selects_all_in_every_field_of_the_start_view(make_app):
    app = make_app(nickname="kim")
    view = app.start_view
    view.password_var.set("secret words")
    view.address_var.set("192.168.1.20:47800")
    for field in (view.nick_entry, view.room_entry, view.port_entry, view.password_entry, view.address_box):
        select_all_in(field)
        assert all_selected(field), field
    view.nick_entry.selection_clear()
    press(view.nick_entry, "<Control-Lock-A>")  # with Caps Lock on
    assert all_selected(view.nick_entry)


@pytest.fixture
def settings_dialog(make_app):
    """The Settings dialog of a window, closed at the end even when the test fails (it holds
    the grab: left open, it would keep later tests' clicks from the window)."""
    app = make_app(nickname="kim", discovery_targets=["10.0.5.7"])
    dialog = app.open_settings()
    try:
        yield dialog
    finally:
        if dialog.winfo_exists():
            dialog.cancel_button.invoke()


def test_ctrl_a_selects_all_in_the_settings_fields(settings_dialog):
    dialog = settings_dialog
    for field in (
        dialog.nick_entry,
        dialog.port_entry,
        dialog.targets_entry,
        dialog.font_box,
        dialog.scrollback_entry,
    ):
        select_all_in(field)
        assert all_selected(field), field


def test_ctrl_a_selects_all_in_the_message_box_and_the_conversation(make_app):
    app = make_app(nickname="kim")
    host_from_window(app, "kim", "Keys", free_port())
    make_app.wait(lambda: connected(app))
    view = app.chat_view
    view.input.insert("1.0", "first line\nsecond line")
    select_all_in(view.input)
    assert all_selected(view.input)

    pane = view.panes[ROOM]
    make_app.wait(lambda: "You joined" in pane.content())
    before = pane.content()
    select_all_in(pane.text)
    assert all_selected(pane.text)
    press(pane.text, "x")  # still read-only
    assert pane.content() == before


def test_an_empty_or_bad_nickname_puts_the_cursor_in_its_field(make_app):
    app = make_app(nickname="kim")
    view = app.start_view
    take_keyboard(make_app, view.address_box)
    join_from_window(app, "", "127.0.0.1")
    assert view.error_label.cget("text") == "Please enter a nickname."
    has_keyboard(make_app, view.nick_entry)

    take_keyboard(make_app, view.room_entry)
    host_from_window(app, "bad name", "Room", free_port())
    assert "A nickname may contain" in view.error_label.cget("text")
    has_keyboard(make_app, view.nick_entry)
    assert all_selected(view.nick_entry)  # typing replaces it

    take_keyboard(make_app, view.address_box)
    join_from_window(app, "kim", "host:99999")  # not the nickname's fault: the cursor stays
    assert "is not an address" in view.error_label.cget("text")
    make_app.pump()
    assert view.focus_get() is view.address_box


def test_a_taken_nickname_brings_the_cursor_back_to_it(make_app, headless_host, headless_client):
    host = headless_host()
    headless_client(host.port, "alice")
    app = make_app(nickname="kim")
    take_keyboard(make_app, app.start_view.address_box)
    make_app.wait(lambda: host.member_count == 1)
    join_from_window(app, "Alice", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: "already uses that nickname" in app.start_view.error_label.cget("text"))
    view = app.start_view
    has_keyboard(make_app, view.nick_entry)
    assert view.nick_var.get() == "Alice" and all_selected(view.nick_entry)


def test_settings_put_the_cursor_in_the_refused_field(make_app, settings_dialog):
    dialog = settings_dialog
    take_keyboard(make_app, dialog.scrollback_entry)
    dialog.nick_var.set("")
    dialog.ok_button.invoke()
    assert dialog.error_label.cget("text") == "Please enter a nickname."
    has_keyboard(make_app, dialog.nick_entry)
    dialog.nick_var.set("kim")
    dialog.port_var.set("99999")
    dialog.ok_button.invoke()
    has_keyboard(make_app, dialog.port_entry)


def tab_point(notebook, index: int) -> tuple[int, int]:
    """A point on the notebook's tab `index` (found by asking the notebook what is where)."""
    notebook.update()
    for y in range(2, 40, 2):
        for x in range(2, notebook.winfo_width(), 3):
            try:
                if notebook.index(f"@{x},{y}") == index:
                    return x, y
            except tk.TclError:
                continue
    raise AssertionError(f"tab {index} not found")


def click(widget, x: int, y: int) -> None:
    widget.event_generate("<ButtonPress-1>", x=x, y=y)
    widget.event_generate("<ButtonRelease-1>", x=x, y=y)
    widget.update()


@pytest.mark.parametrize("again", [False, True], ids=["another tab", "the same tab"])
def test_clicking_a_tab_gives_the_message_box_the_keyboard(make_app, headless_host, headless_client, again):
    host = headless_host()
    headless_client(host.port, "zoe")
    app = make_app(nickname="kim")
    join_from_window(app, "kim", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app) and len(app.controller.members()) == 2)
    view = app.chat_view
    app.controller.open_private("zoe", focus=False)
    take_keyboard(make_app, view.input)
    click(view.notebook, *tab_point(view.notebook, 1))
    assert view.current_key() == "zoe"
    if again:
        take_keyboard(make_app, view.members_tree)
        click(view.notebook, *tab_point(view.notebook, 1))
    has_keyboard(make_app, view.input)
    assert "zoe" not in room_text(app).split("joined")[-1]  # nothing was sent by the clicks
