"""The "Invite others" panel shown beside the member list while this PC hosts.

It shows the room's code large (members can compare it with what their LanChat shows,
which proves they reached this PC and not an impostor), one invite link per address of
this PC (``lanchat://ADDRESS:PORT#CODE``: pasted into "Join a chat", it joins this room
and checks its key from the very first time), each with a Copy button (which says
"Copied" for a moment once clicked), and a warning when unencrypted members are allowed in.
"""

from __future__ import annotations

import math
import tkinter as tk
from dataclasses import dataclass
from functools import partial
from tkinter import font as tkfont
from tkinter import ttk

from gui.i18n import tr

#: Invites listed (best first: LAN IPv4, then the rest).
MAX_SHARED_SHOWN = 4
COPIED_SHOWN_MS = 2500
WRAP = 260


@dataclass(frozen=True, slots=True)
class Invitation:
    """What the panel shows (plain data the app builds from the host and this PC's addresses)."""

    code: str
    links: tuple[str, ...]
    plaintext_allowed: bool = False


class InvitePanel(ttk.Frame):
    def __init__(self, master: tk.Misc, invitation: Invitation) -> None:
        super().__init__(master, style="Sidebar.TFrame", padding=(0, 14, 0, 0))
        self.invitation = invitation
        self._copied_after: str | None = None
        self._copied: ttk.Button | None = None  # the Copy button saying "Copied" for a moment
        self.columnconfigure(0, weight=1)
        self.title = ttk.Label(self, style="SidebarTitle.TLabel")
        self.title.grid(row=0, column=0, columnspan=2, sticky="w")
        self.code_caption = ttk.Label(self, style="SidebarMuted.TLabel")
        self.code_caption.grid(row=1, column=0, columnspan=2, sticky="w", pady=(4, 0))
        self.code_label = ttk.Label(self, text=invitation.code, style="SidebarCode.TLabel")
        self.code_label.grid(row=2, column=0, sticky="w")
        self.copy_code_button = ttk.Button(self, style="Link.TButton")
        self.copy_code_button.configure(command=partial(self.copy, invitation.code, self.copy_code_button))
        self.copy_code_button.grid(row=2, column=1, sticky="e")
        self.code_hint = ttk.Label(self, style="SidebarMuted.TLabel", wraplength=WRAP, justify="left")
        self.code_hint.grid(row=3, column=0, columnspan=2, sticky="w", pady=(0, 8))
        self.links_hint = ttk.Label(self, style="SidebarMuted.TLabel", wraplength=WRAP, justify="left")
        self.links_hint.grid(row=4, column=0, columnspan=2, sticky="w", pady=(0, 4))
        self.copy_buttons: list[ttk.Button] = []
        for row, link in enumerate(invitation.links[:MAX_SHARED_SHOWN], start=5):
            shown = link.replace("#", "\n#", 1)  # the code on a line of its own, not cut anywhere
            ttk.Label(self, text=shown, style="Sidebar.TLabel").grid(row=row, column=0, sticky="w", pady=1)
            button = ttk.Button(self, style="Link.TButton")
            button.configure(command=partial(self.copy, link, button))
            button.grid(row=row, column=1, sticky="ne")
            self.copy_buttons.append(button)
        below = MAX_SHARED_SHOWN + 5
        self.plaintext_label = ttk.Label(self, style="SidebarWarn.TLabel", wraplength=WRAP, justify="left")
        if invitation.plaintext_allowed:
            self.plaintext_label.grid(row=below, column=0, columnspan=2, sticky="w", pady=(6, 0))

    def apply_texts(self) -> None:
        self.title.configure(text=tr("INVITE OTHERS"))
        self.code_caption.configure(text=tr("Room code"))
        self.code_hint.configure(
            text=tr("Members can check this code: LanChat shows it to them when they join.")
        )
        self.links_hint.configure(text=tr("Others on your network can join with one of these invites:"))
        # At least as wide as its "copied" state, so that the state does not move the panel about.
        font = tkfont.nametofont(ttk.Style(self).lookup("Link.TButton", "font") or "TkDefaultFont")
        widest = max(font.measure(tr("Copy")), font.measure(self._copied_text()))
        width = -math.ceil(widest / max(1, font.measure("0")))  # negative: a minimum, in digits
        for button in (self.copy_code_button, *self.copy_buttons):
            button.configure(text=self._copied_text() if button is self._copied else tr("Copy"), width=width)
        self.plaintext_label.configure(
            text=tr(
                "Unencrypted connections are allowed in this chat (nc, telnet, older LanChat); "
                "such members are marked “unencrypted”."
            )
        )

    def copy(self, text: str, button: ttk.Button) -> None:
        """Put `text` on the clipboard; the button clicked says so for a moment. (A sentence
        below the invites said it once, and a short window cut it off.)"""
        self.clipboard_clear()
        self.clipboard_append(text)
        self._uncopied()
        self._copied = button
        button.configure(text=self._copied_text())
        self._copied_after = self.after(COPIED_SHOWN_MS, self._uncopied)

    def _uncopied(self) -> None:
        if self._copied_after is not None:
            self.after_cancel(self._copied_after)
            self._copied_after = None
        if self._copied is not None:
            self._copied.configure(text=tr("Copy"))
            self._copied = None

    @staticmethod
    def _copied_text() -> str:
        return "✓ " + tr("Copied")

    def destroy(self) -> None:
        if self._copied_after is not None:
            self.after_cancel(self._copied_after)
            self._copied_after = None
        super().destroy()
