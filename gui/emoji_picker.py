"""A small emoji palette that pops up over the chat, inside the window (no extra toplevel).

Most of these lie outside the Basic Multilingual Plane (U+1F600...): Tk 8.6 stores them as
surrogate pairs internally, which is why the chat view never computes text indices from
Python string lengths.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from functools import partial
from tkinter import ttk

EMOJI = (
    "😀", "😃", "😄", "😁", "😆", "😅", "😂", "😊",
    "😇", "😉", "😍", "😘", "😋", "😜", "😎", "😏",
    "😐", "😕", "😞", "😢", "😭", "😱", "😡", "😴",
    "😷", "😳", "😮", "😈", "🐱", "🐭", "🐮", "🐵",
    "👍", "👏", "🙏", "🎉", "🔥", "🚀", "💡", "🍕",
    "☺", "☕", "❤", "★", "☀", "⚡", "✔", "✌",
)  # fmt: skip
COLUMNS = 8


class EmojiPicker(ttk.Frame):
    """A grid of emoji buttons; `on_pick` receives the chosen one and the picker hides."""

    def __init__(self, master: tk.Misc, on_pick: Callable[[str], None]) -> None:
        super().__init__(master, style="Card.TFrame", padding=6)
        self._on_pick = on_pick
        self.buttons: dict[str, ttk.Button] = {}
        for index, emoji in enumerate(EMOJI):
            button = ttk.Button(
                self, text=emoji, style="Emoji.TButton", width=2, command=partial(self.pick, emoji)
            )
            button.grid(row=index // COLUMNS, column=index % COLUMNS, padx=1, pady=1)
            button.bind("<Escape>", lambda _e: self.hide())
            self.buttons[emoji] = button
        self.shown = False

    def pick(self, emoji: str) -> None:
        self.hide()
        self._on_pick(emoji)

    def toggle(self, anchor: tk.Misc) -> None:
        if self.shown:
            self.hide()
        else:
            self.show(anchor)

    def show(self, anchor: tk.Misc) -> None:
        """Pop up just above `anchor` (the emoji button), right-aligned with it."""
        parent = self.master
        parent.update_idletasks()
        x = anchor.winfo_rootx() - parent.winfo_rootx() + anchor.winfo_width()
        y = anchor.winfo_rooty() - parent.winfo_rooty() - 4
        self.place(x=x, y=y, anchor="se")
        self.lift()
        self.shown = True
        next(iter(self.buttons.values())).focus_set()

    def hide(self) -> None:
        if self.shown:
            self.place_forget()
            self.shown = False
