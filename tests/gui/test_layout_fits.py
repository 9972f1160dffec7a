"""Issue 15.7: what the start view and the status bar show fits the window, at its default
size and at 640x480, in English and Chinese: the list of found chats has a heading over every
column it shows, each over its data, and no address cut off; the status bar's reconnect
sentence wraps instead of running under the transport and address."""

from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from collections.abc import Iterator

import pytest

from gui.start_view import FoundEntry
from net.api import ClientState, Transport
from tests.gui.driving import connected, join_from_window

SIZES = ("1000x680", "640x480")
LANGUAGES = ("en", "zh_CN")


@pytest.fixture
def window_size(tk_root: tk.Tk) -> Iterator[callable]:
    """Resize the session's window for a test, and give it back its usual size after."""

    def resize(size: str) -> None:
        tk_root.geometry(size)
        tk_root.update()
        width, height = (int(part) for part in size.split("x"))
        assert (tk_root.winfo_width(), tk_root.winfo_height()) == (width, height)

    try:
        yield resize
    finally:
        tk_root.geometry("1000x680")
        tk_root.update()


def chats() -> list[FoundEntry]:
    """Found chats with the longest IPv4 addresses and a Chinese name."""
    return [
        FoundEntry(
            1,
            "Build status",
            "build-pc",
            12,
            "192.168.100.200:47815",
            Transport.TCP,
            "7F3A-91C2-4B8D-E01F-2A6C",
        ),
        FoundEntry(
            2, "午饭去哪儿", "老李", 3, "192.168.100.201:47800", Transport.UDP, "2A6C-E01F-4B8D-91C2-7F3A"
        ),
    ]


def inside(widget: tk.Misc, root: tk.Misc) -> bool:
    """The widget is mapped and wholly within the window."""
    x, y = widget.winfo_rootx() - root.winfo_rootx(), widget.winfo_rooty() - root.winfo_rooty()
    return (
        widget.winfo_ismapped()
        and x >= 0
        and y >= 0
        and x + widget.winfo_width() <= root.winfo_width()
        and y + widget.winfo_height() <= root.winfo_height()
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", SIZES)
def test_the_found_list_has_a_heading_over_every_column_and_whole_addresses(
    make_app, tk_root, window_size, size, language
):
    app = make_app(nickname="alice", language=language)
    app._stop_browser()  # the list shows only the chats given here, not others on loopback
    window_size(size)
    view = app.start_view
    view.set_found_chats(chats())
    tk_root.update()
    tree = view.found_tree
    shown = list(tree["displaycolumns"])

    assert "tree" not in str(tree.cget("show"))  # no heading-less tree column, no indent
    assert {"room", "code", "address"} <= set(shown)
    for column in shown:
        assert tree.heading(column, "text"), f"column {column} has no heading"
        assert str(tree.heading(column, "anchor")) == str(tree.column(column, "anchor"))

    cells = tkfont.nametofont("TkDefaultFont")
    address_index = ("room", "code", "host", "members", "transport", "address").index("address")
    for item in tree.get_children():
        for column in ("address", "code"):
            text = tree.set(item, column)
            assert cells.measure(text) + 4 <= tree.column(column, "width"), f"{text!r} is cut off"
        assert tree.item(item, "values")[address_index] in {entry.address for entry in chats()}
    assert sum(tree.column(column, "width") for column in shown) <= tree.winfo_width()

    for widget in (tree, view.host_button, view.join_button, view.address_box, view.room_entry):
        assert inside(widget, tk_root), f"{widget} is cut off at {size}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", SIZES)
def test_the_reconnect_sentence_wraps_beside_the_transport_and_address(
    make_app, headless_host, tk_root, window_size, size, language
):
    host = headless_host(room="Soon gone")
    app = make_app(nickname="rita", language=language)
    window_size(size)
    join_from_window(app, "rita", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app), message="the window to join")
    host.stop()  # the reconnect fails: refused, with the longest sentence of all
    bar = app.chat_view.status_bar
    make_app.wait(
        lambda: (
            app.chat_view.status.state is ClientState.RECONNECTING
            and "127.0.0.1" in bar.status_label.cget("text")
            and len(bar.status_label.cget("text")) > 60
        ),
        timeout=10,
        message="the reason to be shown",
    )
    tk_root.update()
    label, details = bar.status_label, bar.status_details
    assert label.winfo_reqwidth() <= label.winfo_width(), "the sentence runs past its room"
    assert label.winfo_reqheight() <= label.winfo_height(), "lines of the sentence are cut"
    assert label.winfo_x() + label.winfo_width() <= details.winfo_x()
    assert inside(details, tk_root) and inside(label, tk_root)
