"""The chat view's side panel: who is in the chat and, when hosting, how to invite others.

Apart from the chat view so that each stays short: the panel only shows what it is given
and reports a double-click on a member through `on_member`. The "Invite others" part is
`gui.invite_panel`. Both sit in a `ScrollColumn`, so a short window scrolls the panel
instead of squeezing the member list away and cutting off what comes last.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from gui.emoji import label_text
from gui.i18n import tr
from gui.invite_panel import Invitation, InvitePanel
from gui.ipmsg_panel import IpmsgPanel
from gui.model.nicks import key_of
from gui.palette import Palette
from gui.scroll_column import ScrollColumn
from gui.textparts import colour_index
from net.protocol import events as ev

#: Rows the member list shows at least; a taller window gives it the room left over.
MEMBER_ROWS = 5


class Sidebar(ttk.Frame):
    """The member list (host first, typing and unencrypted members marked) and, when hosting,
    "Invite others"."""

    def __init__(
        self, master: tk.Misc, invitation: Invitation | None, on_member: Callable[[str], object]
    ) -> None:
        super().__init__(master, style="Sidebar.TFrame")
        self.own_nick = ""
        self._on_member = on_member
        self._colours = 1
        self._shown: tuple[list[ev.MemberInfo], set[str]] = ([], set())  # listed again in a new language
        self.columnconfigure(0, weight=1)
        self.rowconfigure(0, weight=1)
        self.column = ScrollColumn(self, style="Sidebar.TFrame", padding=(12, 12, 12, 12))
        self.column.grid(row=0, column=0, sticky="nsew")
        body = self.column.body
        body.columnconfigure(0, weight=1)
        body.rowconfigure(1, weight=1)  # the member list takes the room left, down to MEMBER_ROWS
        self.members_label = ttk.Label(body, style="SidebarTitle.TLabel")
        self.members_label.grid(row=0, column=0, sticky="w", pady=(0, 6))
        self.members_tree = ttk.Treeview(body, show="tree", selectmode="browse", height=MEMBER_ROWS)
        self.members_tree.column("#0", width=230, stretch=True)
        self.members_tree.grid(row=1, column=0, sticky="nsew")
        self.members_tree.bind("<Double-1>", self._on_member_double_click)
        self.members_tree.bind("<Return>", self._on_member_double_click)
        self.members_hint = ttk.Label(body, style="SidebarMuted.TLabel", wraplength=230, justify="left")
        self.members_hint.grid(row=2, column=0, sticky="w", pady=(6, 0))
        self.ipmsg = IpmsgPanel(body)  # filled by gui.ipmsg_link when the bridge runs
        self.ipmsg.grid(row=3, column=0, sticky="ew")
        self.invite: InvitePanel | None = None
        if invitation is not None:
            self.invite = InvitePanel(body, invitation)
            self.invite.grid(row=4, column=0, sticky="ew")

    def apply_palette(self, palette: Palette) -> None:
        self.column.set_background(palette.sidebar)
        self._colours = len(palette.nick_colours)
        for index, colour in enumerate(palette.nick_colours):
            self.members_tree.tag_configure(f"nick{index}", foreground=colour)
        self.members_tree.tag_configure("plaintext", foreground=palette.warn)
        self.members_tree.tag_configure("me", font="LanChatBold")
        self.column.refresh()  # the font size may have changed with the theme

    def apply_texts(self) -> None:
        if self.invite is not None:
            self.invite.apply_texts()
        self.members_hint.configure(text=tr("Double-click someone to talk privately."))
        self.ipmsg.apply_texts()
        self.set_members(*self._shown)  # the marks ("host", "unencrypted") are words too
        self.members_label.configure(text=tr("MEMBERS") + f" · {self.count()}")
        self.column.refresh()

    def count(self) -> int:
        """Members listed."""
        return len(self.members_tree.get_children())

    def set_members(self, members: list[ev.MemberInfo], typing: set[str]) -> None:
        self._shown = (members, typing)
        tree = self.members_tree
        tree.delete(*tree.get_children())
        own_key = key_of(self.own_nick)
        host_word = tr("host")
        for member in members:
            text = label_text(member.nick)  # a list draws with a font only: no emoji, no astral
            if member.host:
                text = f"★ {text}  ({host_word})"
            tags = [f"nick{colour_index(member.nick, self._colours)}"]
            if member.plaintext:  # what is said in the chat reaches them unencrypted
                text += "  · " + tr("unencrypted")
                tags = ["plaintext"]
            if member.nick in typing:
                text += "  ✎"
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
