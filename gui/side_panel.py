"""Where the chat view puts the member list: beside the conversation, or taking turns with it.

In a window wide enough, the member list (and, when hosting, "Invite others") sits beside
the conversation, as it always did. Below that, a side panel that keeps its width squeezed
the conversation to a strip (180 pixels at 640 x 460 while hosting); so when the
conversation would get less than `MIN_CONVERSATION`, the panel leaves the window and a
"Members" button in the header shows it in the conversation's place, until "Back to the
chat" (or choosing someone to talk to) brings the conversation back.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from gui.chat_header import ChatHeader

#: The width (pixels) the conversation's side keeps at least while the member list is beside it:
#: about 45 characters a line of the default font, the input box and its two buttons.
MIN_CONVERSATION = 420


def side_by_side(view_width: int, panel_width: int, minimum: int = MIN_CONVERSATION) -> bool:
    """Whether a panel `panel_width` wide leaves the conversation `minimum` of `view_width`."""
    return view_width - panel_width >= minimum


class SidePanel:
    """Arranges `main` (the conversation) and `panel` (the member list) in `paned`."""

    def __init__(
        self, view: tk.Misc, paned: ttk.Panedwindow, main: tk.Widget, panel: tk.Widget, header: ChatHeader
    ) -> None:
        self._paned = paned
        self._main = main
        self._panel = panel
        self._header = header
        self.narrow = False
        self.members_shown = False  # while narrow: the member list is shown instead of the chat
        header.members_button.configure(command=self.toggle)
        self._view = view
        self._arrange()
        view.bind("<Configure>", lambda event: self.fit(event.width), add="+")
        panel.bind("<<WidthWanted>>", lambda _event: view.after_idle(self._panel_resized), add="+")

    def fit(self, view_width: int) -> None:
        """The view is `view_width` wide now: the member list beside the chat, or not."""
        narrow = not side_by_side(view_width, self._panel.winfo_reqwidth())
        if narrow != self.narrow:
            self.narrow, self.members_shown = narrow, False
            self._arrange()

    def _panel_resized(self) -> None:
        """The member list wants another width (texts, language): give it that, if it still fits."""
        if not self._view.winfo_exists():
            return
        self._view.update_idletasks()  # grid passes the request up one level per idle round
        self.fit(self._view.winfo_width())
        if not self.narrow and self._view.winfo_ismapped():
            paned = self._paned.winfo_width()
            sash = paned - self._main.winfo_width() - self._panel.winfo_width()
            self._paned.sashpos(0, max(0, paned - sash - self._panel.winfo_reqwidth()))

    def toggle(self) -> None:
        """The header's button: the member list in the chat's place, or the chat again."""
        if self.narrow:
            self.members_shown = not self.members_shown
            self._arrange()

    def show_chat(self) -> None:
        if self.members_shown:
            self.members_shown = False
            self._arrange()

    def _arrange(self) -> None:
        if not self.narrow:
            wanted = [(self._main, 1), (self._panel, 0)]
        else:
            wanted = [(self._panel, 1)] if self.members_shown else [(self._main, 1)]
        shown = [str(name) for name in self._paned.panes()]
        if shown != [str(widget) for widget, _weight in wanted]:
            for name in shown:
                self._paned.forget(name)
            for widget, weight in wanted:
                self._paned.add(widget, weight=weight)
        self._header.show_members_button(self.narrow, self.members_shown)
