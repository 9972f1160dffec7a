"""The window's controller with the IP Messenger bridge beside the LanChat session.

`BridgedController` is the `Controller` plus one `IpmsgLink`: conversations keyed
``ipmsg:ADDRESS`` go to the link (typing, closing, sending), everything else to the LanChat
session as before; the bridge's events are taken out of each batch before the session sees
it. Kept apart so that `gui.controller` stays about LanChat rooms only.
"""

from __future__ import annotations

from typing import Any

from gui.controller import Controller
from gui.ipmsg_files import IpmsgFiles
from gui.ipmsg_link import IpmsgLink, address_of
from gui.ports import ChatViewPort
from gui.settings import Settings
from net.api import EventSink


class BridgedController(Controller):
    def __init__(self, settings: Settings, shell: Any, post: EventSink, **options: Any) -> None:
        self._view: ChatViewPort | None = None
        self.ipmsg = IpmsgLink(settings, post)
        history = getattr(shell, "history", None)  # the window's HistoryKeeper (absent in some tests)
        self.ipmsg.keep = history.keep_ipmsg if history is not None else None
        self.ipmsg.attention = lambda incoming: shell.attention(1, True, [incoming])  # as a private message
        files = IpmsgFiles(self.ipmsg, getattr(shell, "files", None))  # the window's FileSharing
        files.route()  # "Send files…" in an IP Messenger tab offers to that user
        self.ipmsg.files = files
        super().__init__(settings, shell, post, **options)
        self.ipmsg.apply(settings)

    @property
    def view(self) -> ChatViewPort | None:
        return self._view

    @view.setter
    def view(self, view: ChatViewPort | None) -> None:
        """The controller shows or drops its chat view: the bridge's tabs and list follow it."""
        if view is not self._view:
            self._view = view
            panel = getattr(getattr(view, "sidebar", None), "ipmsg", None)
            self.ipmsg.attach(view, panel)

    def submit(self, text: str, conversation: str | None) -> bool:
        """In an IP Messenger tab the text goes to that user as typed (no /commands there)."""
        if conversation is not None and address_of(conversation) is not None:
            return self.ipmsg.submit(text, conversation)
        return super().submit(text, conversation)

    def close_private(self, key: str) -> None:
        if address_of(key) is None:  # an IP Messenger tab has nothing to forget
            super().close_private(key)

    def typing(self, active: bool, conversation: str | None) -> None:
        if address_of(conversation) is None:  # IP Messenger has no typing notices
            super().typing(active, conversation)

    def handle(self, batch: list[object]) -> None:
        rest = self.ipmsg.handle(batch)
        if rest:
            super().handle(rest)
            self.ipmsg.apply(self.settings)  # the nickname may have changed (joined, renamed)

    def close_bridge(self) -> None:
        """The window closes: BR_EXIT, the bridge's thread joined."""
        self.ipmsg.stop()

    def apply_settings(self, settings: Settings) -> None:
        self.ipmsg.apply(settings, retry=True)
