"""A small emoji palette that pops up over the chat, inside the window (no extra toplevel).

Each button shows its emoji as a picture (`gui.emoji`: Tk 8.6 draws colour emoji as empty
boxes, or crashes on X11 with a colour emoji font); clicking one inserts the real
characters into the message box, whose own pictures then show them. Emoji that Unicode
draws as text unless asked otherwise carry U+FE0F here ("❤️", not "❤"), so that what is
sent shows as an emoji everywhere.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from functools import partial
from tkinter import ttk

from gui.emoji import emoji_images, split_emoji

EMOJI = (
    "😀", "😃", "😄", "😁", "😆", "😅", "😂", "😊",
    "😇", "😉", "😍", "😘", "😋", "😜", "😎", "😏",
    "😐", "😕", "😞", "😢", "😭", "😱", "😡", "😴",
    "😷", "😳", "😮", "😈", "🐱", "🐭", "🐮", "🐵",
    "👍", "👏", "🙏", "🎉", "🔥", "🚀", "💡", "🍕",
    "☺️", "☕", "❤️", "⭐", "☀️", "⚡", "✅", "✌️",
)  # fmt: skip
COLUMNS = 8


def picture_of(widget: tk.Misc, emoji: str, role: str = "picker") -> str:
    """The name of the Tk image showing `emoji` (one emoji of the bundled set)."""
    ((_chars, slot),) = split_emoji(emoji)
    if slot is None:
        raise ValueError(f"not an emoji of the bundled set: {emoji!r}")
    return emoji_images(widget).image(slot, role)


class EmojiPicker(ttk.Frame):
    """A grid of emoji buttons; `on_pick` receives the chosen one and the picker hides.
    The buttons are made when it is first shown (48 pictures: about 50 ms)."""

    def __init__(self, master: tk.Misc, on_pick: Callable[[str], None]) -> None:
        super().__init__(master, style="Card.TFrame", padding=6)
        self._on_pick = on_pick
        self.buttons: dict[str, ttk.Button] = {}
        self.shown = False

    def _build(self) -> None:
        for index, emoji in enumerate(EMOJI):
            button = ttk.Button(
                self, image=picture_of(self, emoji), style="Emoji.TButton", command=partial(self.pick, emoji)
            )
            button.grid(row=index // COLUMNS, column=index % COLUMNS, padx=1, pady=1)
            button.bind("<Escape>", lambda _e: self.hide())
            self.buttons[emoji] = button

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
        if not self.buttons:
            self._build()
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
