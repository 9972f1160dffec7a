"""The chat view's header: the room's name, who is in it, its code, and Settings and Leave."""

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
        self.subtitle_label = ttk.Label(self, style="HeaderMuted.TLabel")
        self.subtitle_label.grid(row=1, column=0, sticky="w")
        self.settings_button = ttk.Button(self, style="Tool.TButton", command=open_settings)
        self.settings_button.grid(row=0, column=1, rowspan=2, padx=4)
        self.leave_button = ttk.Button(self, style="Tool.TButton", command=leave)
        self.leave_button.grid(row=0, column=2, rowspan=2)

    def apply_texts(self) -> None:
        self.settings_button.configure(text=tr("Settings"))
        self.leave_button.configure(text=tr("Leave"))

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
