"""The side panel's "On IP Messenger / 飞秋" section: the IP Messenger, Feiq and iptux users.

Shows what `gui.ipmsg_link.IpmsgLink` gives it (nick, group and computer of each user) and
reports a double-click through `on_user(address)`. With nobody listed it says so, or why
the bridge is off.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from gui.emoji import label_text
from gui.i18n import tr
from net.ipmsg.events import IpmsgUser

ROWS = 4


class IpmsgPanel(ttk.Frame):
    def __init__(self, master: tk.Misc) -> None:
        super().__init__(master, style="Sidebar.TFrame")
        self.on_user: Callable[[str], object] = lambda _address: None
        self.columnconfigure(0, weight=1)
        self.title = ttk.Label(self, style="SidebarTitle.TLabel")
        self.title.grid(row=0, column=0, sticky="w", pady=(14, 6))
        self.tree = ttk.Treeview(self, show="tree", selectmode="browse", height=ROWS)
        self.tree.column("#0", width=230, stretch=True)
        self.tree.grid(row=1, column=0, sticky="nsew")
        self.tree.bind("<Double-1>", self._on_double_click)
        self.tree.bind("<Return>", self._on_double_click)
        self.note = ttk.Label(self, style="SidebarMuted.TLabel", wraplength=230, justify="left")
        self.note.grid(row=2, column=0, sticky="w", pady=(6, 0))
        self._shown: tuple[tuple[IpmsgUser, ...], str] = ((), "")
        self.apply_texts()

    def apply_texts(self) -> None:
        self.set_users(*self._shown)

    def set_users(self, users: tuple[IpmsgUser, ...], problem: str) -> None:
        self._shown = (users, problem)
        self.tree.delete(*self.tree.get_children())
        away = tr("away")
        for user in users:
            details = ", ".join(part for part in (user.group, user.host) if part)
            text = label_text(user.nick) + (f"  ({details})" if details else "")
            if user.absent:
                text += f"  · {away}"
            self.tree.insert("", "end", iid=user.address, text=text, values=(user.address,))
        self.title.configure(text=tr("ON IP MESSENGER / 飞秋") + f" · {len(users)}")
        hint = tr("Double-click someone to talk (not encrypted).") if users else tr("Nobody found yet.")
        self.note.configure(text=problem or hint)

    def count(self) -> int:
        return len(self.tree.get_children())

    def _on_double_click(self, event: tk.Event) -> str:
        item = self.tree.identify_row(event.y) if event.y else self.tree.focus()
        if item:
            self.on_user(item)
        return "break"
