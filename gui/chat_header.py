"""The chat view's header: the room's name, who is in it, its code, and Settings and Leave
(and, in a window too narrow for the member list beside the chat, a button to show it)."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from gui.emoji import label_text
from gui.i18n import ntr, tr


class ChatHeader(ttk.Frame):
    """Shows what it is given (`show`); the buttons call back."""

    def __init__(
        self, master: tk.Misc, *, open_settings: Callable[[], object], leave: Callable[[], object]
    ) -> None:
        super().__init__(master, style="Header.TFrame", padding=(18, 10, 12, 10))
        self.columnconfigure(0, weight=1)
        self.title_label = ttk.Label(self, style="HeaderTitle.TLabel")
        self.title_label.grid(row=0, column=0, sticky="w")
        # Wrapped to the room the buttons leave it, so a narrow window keeps the room code whole.
        self.subtitle_label = ttk.Label(self, style="HeaderMuted.TLabel")
        self.subtitle_label.grid(row=1, column=0, sticky="ew")
        self.subtitle_label.bind("<Configure>", self._wrap_subtitle)
        self._wrapped_at = 0
        # Shown only while the window is too narrow for the member list beside the chat
        # (`gui.side_panel` gives it its command).
        self.members_button = ttk.Button(self, style="Tool.TButton")
        self.members_button.grid(row=0, column=1, rowspan=2)
        self.members_button.grid_remove()
        self.members_shown = False
        self.settings_button = ttk.Button(self, style="Tool.TButton", command=open_settings)
        self.settings_button.grid(row=0, column=2, rowspan=2, padx=4)
        self.leave_button = ttk.Button(self, style="Tool.TButton", command=leave)
        self.leave_button.grid(row=0, column=3, rowspan=2)

    def apply_texts(self) -> None:
        self.settings_button.configure(text=tr("Settings"))
        self.leave_button.configure(text=tr("Leave"))
        self.show_members_button(self.members_button.winfo_manager() != "", self.members_shown)

    def show_members_button(self, narrow: bool, members_shown: bool) -> None:
        """While `narrow`, a button that shows the member list, or (`members_shown`) the chat again."""
        self.members_shown = members_shown
        self.members_button.configure(text=tr("Back to the chat") if members_shown else tr("Members"))
        if narrow:
            self.members_button.grid()
        else:
            self.members_button.grid_remove()
        for button in (self.members_button, self.settings_button, self.leave_button):
            button.configure(width=0 if narrow else "")  # narrow: as wide as the word, not the theme's

    def _wrap_subtitle(self, event: tk.Event) -> None:
        if event.width != self._wrapped_at:
            self._wrapped_at = event.width
            self.subtitle_label.configure(wraplength=max(1, event.width))

    def show(self, room: str, count: int, own_nick: str, code: str) -> None:
        """The room's name; below it the member count, our nickname and the room's code (the
        key the host proved: compare it with the host's "Invite others" panel)."""
        self.title_label.configure(text=label_text(room))  # labels draw with a font only
        parts = [ntr("{count} member", "{count} members", count).format(count=count)]
        if own_nick:
            parts.append(tr("you are {nick}").format(nick=label_text(own_nick)))
        if code:
            parts.append(tr("room code {code}").format(code=code))
        self.subtitle_label.configure(text=" · ".join(parts))
