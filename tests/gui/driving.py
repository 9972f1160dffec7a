"""Driving the window as a user would: type into widgets, press keys, click buttons."""

from __future__ import annotations

import tkinter as tk
from dataclasses import dataclass

from gui.app import App
from gui.chat_view import ChatView
from net.api import ClientState
from tests.gui.conftest import EventLog


@dataclass
class Chat:
    """The window in a chat, and one other member (a headless client) with its events."""

    app: App
    peer: object
    peer_events: EventLog


def type_into(widget: tk.Text | tk.Entry, text: str) -> None:
    """Put `text` where the cursor is, as typing would (Text and Entry alike)."""
    widget.focus_force()
    widget.insert("insert", text)


def press(widget: tk.Misc, sequence: str) -> None:
    """Send a key event to `widget` after giving it the focus (so Tk delivers it there)."""
    widget.focus_force()
    widget.update()
    widget.event_generate(sequence, when="now")
    widget.update()


def say(view: ChatView, text: str) -> None:
    """Type `text` into the input box and press Enter."""
    view.input.delete("1.0", "end")
    type_into(view.input, text)
    press(view.input, "<Return>")


def host_from_window(app: App, nick: str, room: str, port: int) -> None:
    view = app.start_view
    assert view is not None
    view.nick_var.set(nick)
    view.room_var.set(room)
    view.port_var.set(str(port))
    view.host_button.invoke()


def join_from_window(app: App, nick: str, address: str) -> None:
    view = app.start_view
    assert view is not None
    view.nick_var.set(nick)
    view.address_var.set(address)
    view.join_button.invoke()


def connected(app: App) -> bool:
    view = app.chat_view
    return view is not None and view.status.state is ClientState.CONNECTED


def room_text(app: App) -> str:
    assert app.chat_view is not None
    return app.chat_view.panes[None].content()


def double_click(widget: tk.Misc, x: int, y: int) -> None:
    """Two quick clicks at (x, y): Tk turns the second into <Double-1>."""
    widget.update()
    for _ in range(2):
        widget.event_generate("<ButtonPress-1>", x=x, y=y)
        widget.event_generate("<ButtonRelease-1>", x=x, y=y)
    widget.update()
