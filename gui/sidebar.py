"""The chat view's side panel: who is in the chat, and the addresses to invite others with.

Apart from the chat view so that each stays short: the panel only shows what it is given
and reports a double-click on a member through `on_member`.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from functools import partial
from tkinter import ttk

from gui.i18n import tr
from gui.model.nicks import key_of
from gui.palette import Palette
from gui.textparts import colour_index
from net.protocol import events as ev

#: Addresses listed under "Invite others" (best first: LAN IPv4, then the rest).
MAX_SHARED_SHOWN = 4
COPIED_SHOWN_MS = 2500


class Sidebar(ttk.Frame):
    """The member list (host first, typing marked) and, when hosting, "Invite others"."""

    def __init__(
        self, master: tk.Misc, share_addresses: list[str], on_member: Callable[[str], object]
    ) -> None:
        super().__init__(master, style="Sidebar.TFrame", padding=(12, 12, 12, 12))
        self.own_nick = ""
        self._on_member = on_member
        self._colours = 1
        self._copied_after: str | None = None
        self.columnconfigure(0, weight=1)
        self.rowconfigure(1, weight=1)
        self.members_label = ttk.Label(self, style="SidebarTitle.TLabel")
        self.members_label.grid(row=0, column=0, sticky="w", pady=(0, 6))
        self.members_tree = ttk.Treeview(self, show="tree", selectmode="browse", height=8)
        self.members_tree.column("#0", width=230, stretch=True)
        self.members_tree.grid(row=1, column=0, sticky="nsew")
        self.members_tree.bind("<Double-1>", self._on_member_double_click)
        self.members_tree.bind("<Return>", self._on_member_double_click)
        self.members_hint = ttk.Label(self, style="SidebarMuted.TLabel", wraplength=230, justify="left")
        self.members_hint.grid(row=2, column=0, sticky="w", pady=(6, 0))
        self._build_invite(share_addresses)

    def _build_invite(self, share_addresses: list[str]) -> None:
        self.invite_frame = ttk.Frame(self, style="Sidebar.TFrame", padding=(0, 14, 0, 0))
        self.invite_frame.columnconfigure(0, weight=1)
        self.invite_title = ttk.Label(self.invite_frame, style="SidebarTitle.TLabel")
        self.invite_title.grid(row=0, column=0, columnspan=2, sticky="w")
        self.invite_hint = ttk.Label(
            self.invite_frame, style="SidebarMuted.TLabel", wraplength=200, justify="left"
        )
        self.invite_hint.grid(row=1, column=0, columnspan=2, sticky="w", pady=(2, 4))
        self.copy_buttons: list[ttk.Button] = []
        for row, address in enumerate(share_addresses[:MAX_SHARED_SHOWN], start=2):
            ttk.Label(self.invite_frame, text=address, style="Sidebar.TLabel").grid(
                row=row, column=0, sticky="w", pady=1
            )
            button = ttk.Button(
                self.invite_frame, style="Link.TButton", command=partial(self.copy_address, address)
            )
            button.grid(row=row, column=1, sticky="e")
            self.copy_buttons.append(button)
        self.copied_label = ttk.Label(self.invite_frame, style="SidebarMuted.TLabel")
        self.copied_label.grid(row=MAX_SHARED_SHOWN + 2, column=0, columnspan=2, sticky="w")
        if share_addresses:
            self.invite_frame.grid(row=3, column=0, sticky="ew")

    def apply_palette(self, palette: Palette) -> None:
        self._colours = len(palette.nick_colours)
        for index, colour in enumerate(palette.nick_colours):
            self.members_tree.tag_configure(f"nick{index}", foreground=colour)
        self.members_tree.tag_configure("me", font="LanChatBold")

    def apply_texts(self) -> None:
        self.invite_title.configure(text=tr("INVITE OTHERS"))
        self.invite_hint.configure(text=tr("Others on your network can join with one of these addresses:"))
        for button in self.copy_buttons:
            button.configure(text=tr("Copy"))
        self.members_hint.configure(text=tr("Double-click someone to talk privately."))
        self.members_label.configure(text=tr("MEMBERS") + f" · {self.count()}")

    def count(self) -> int:
        """Members listed."""
        return len(self.members_tree.get_children())

    def set_members(self, members: list[ev.MemberInfo], typing: set[str]) -> None:
        tree = self.members_tree
        tree.delete(*tree.get_children())
        own_key = key_of(self.own_nick)
        host_word = tr("host")
        for member in members:
            text = member.nick
            if member.host:
                text = f"★ {text}  ({host_word})"
            if member.nick in typing:
                text += "  ✎"
            tags = [f"nick{colour_index(member.nick, self._colours)}"]
            if key_of(member.nick) == own_key:
                tags.append("me")
            tree.insert("", "end", iid=key_of(member.nick), text=text, tags=tags, values=(member.nick,))
        self.members_label.configure(text=tr("MEMBERS") + f" · {self.count()}")

    def _on_member_double_click(self, event: tk.Event) -> str:
        item = self.members_tree.identify_row(event.y) if event.y else self.members_tree.focus()
        if item:
            nick = self.members_tree.item(item, "values")[0]
            if key_of(nick) != key_of(self.own_nick):
                self._on_member(nick)
        return "break"

    def copy_address(self, address: str) -> None:
        self.clipboard_clear()
        self.clipboard_append(address)
        self.copied_label.configure(text=tr("Copied {address} to the clipboard.").format(address=address))
        if self._copied_after is not None:
            self.after_cancel(self._copied_after)
        self._copied_after = self.after(COPIED_SHOWN_MS, lambda: self.copied_label.configure(text=""))

    def destroy(self) -> None:
        if self._copied_after is not None:
            self.after_cancel(self._copied_after)
            self._copied_after = None
        super().destroy()
