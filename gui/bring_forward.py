"""What a click on a desktop notification does: the window and its conversation come forward.

The click reaches the main loop as a `NotificationClicked` event through the event bridge
(`gui.notify`); this runs there, so it may call Tk.
"""

from __future__ import annotations

import tkinter as tk

from gui.chat_view import ChatView
from gui.controller import Controller
from gui.ipmsg_link import address_of
from gui.model.values import ROOM
from gui.notify.center import NotificationClicked


def bring_forward(
    root: tk.Tk, view: ChatView | None, controller: Controller, clicked: NotificationClicked
) -> None:
    """Show the window (restored, raised, focused) with the clicked notification's conversation:
    the room's tab, or the private one (opened again if it was closed since)."""
    root.deiconify()
    root.lift()
    root.focus_force()
    if view is None or controller.session is None:
        return  # the chat was left meanwhile: the window is enough
    address = address_of(clicked.conversation)
    link = getattr(controller, "ipmsg", None)  # gui.ipmsg_controller.BridgedController's
    if clicked.conversation is ROOM:
        view.notebook.select(view.panes[ROOM])
    elif address is not None and link is not None:
        link.open(address)  # an IP Messenger user's tab
    elif clicked.nick:
        controller.open_private(clicked.nick)
