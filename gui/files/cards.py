"""A transfer's card in a transcript, and pictures shown inline. Main thread only.

A card is a small frame embedded in the conversation's Text (a line of its own, after the
time): what is offered, how it stands (progress, done, failed) and the buttons for what
can be done now. Pictures go into the Text itself as images, one line each, clickable; a
conversation keeps at most `MAX_THUMBNAILS` of them (the oldest is taken out), and each
Tk image is held here so Python's garbage collector never blanks one.
"""

from __future__ import annotations

import itertools
import time
import tkinter as tk
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from tkinter import ttk

from gui.conversation import ConversationPane
from gui.files.rules import MAX_THUMBNAILS

Buttons = list[tuple[str, Callable[[], object]]]
_ids = itertools.count(1)


class FileCard(ttk.Frame):
    """One offer's card: a title, the names, a status line and buttons."""

    def __init__(self, pane: ConversationPane, title: str, names: str) -> None:
        super().__init__(pane.text, style="Card.TFrame", padding=(10, 6))
        self.pane = pane
        self.title = ttk.Label(self, text=title, style="Card.TLabel", font="LanChatBold")
        self.title.grid(row=0, column=0, sticky="w")
        self.names = ttk.Label(self, text=names, style="CardMuted.TLabel", wraplength=520, justify="left")
        self.names.grid(row=1, column=0, sticky="w")
        self.status = ttk.Label(self, text="", style="CardMuted.TLabel", wraplength=520, justify="left")
        self.status.grid(row=2, column=0, sticky="w")
        #: The transfer's details (its route), shown under the status once known.
        self.details = ttk.Label(self, text="", style="CardMuted.TLabel", wraplength=520, justify="left")
        style = ttk.Style(self)
        style.configure("FileRow.TFrame", background=style.lookup("Card.TLabel", "background"))
        self.row = ttk.Frame(self, style="FileRow.TFrame")  # the card's colour, without its border
        self.row.grid(row=4, column=0, sticky="w", pady=(4, 0))
        self.buttons: dict[str, ttk.Button] = {}

    def detail(self, text: str) -> None:
        """Show `text` as the card's details (how the bytes go)."""
        if self.winfo_exists():
            self.details.configure(text=text)
            self.details.grid(row=3, column=0, sticky="w")

    def show(self, status: str, buttons: Buttons | None = None, *, error: bool = False) -> None:
        """Say how the transfer stands; `buttons` (None: keep those shown) replace the row."""
        if not self.winfo_exists():
            return
        self.status.configure(text=status, style="CardError.TLabel" if error else "CardMuted.TLabel")
        if buttons is None:
            return
        for button in self.buttons.values():
            button.destroy()
        self.buttons = {}
        for column, (label, command) in enumerate(buttons):
            button = ttk.Button(self.row, text=label, command=command)
            button.grid(row=0, column=column, padx=(0, 6))
            self.buttons[label] = button


def add_card(pane: ConversationPane, card: FileCard, when: float | None = None) -> None:
    """Put `card` on a line of its own at the end of `pane`'s transcript."""
    stamp = time.strftime("%H:%M", time.localtime(when))
    writer = pane.writer
    pane.tk.call(writer, "insert", "end", stamp + "  ", ("line", "time"))
    pane.tk.call(writer, "window", "create", "end", "-window", card, "-pady", 2)
    pane.tk.call(writer, "insert", "end", "\n", ("line",))
    _follow(pane)


class Pictures:
    """The pictures shown inline, per conversation: bounded, each kept alive here."""

    def __init__(self, open_picture: Callable[[Path], object]) -> None:
        self._open = open_picture
        self._shown: dict[str, OrderedDict[str, tk.PhotoImage]] = {}  # text widget -> tag -> image

    def add(self, pane: ConversationPane, image: tk.PhotoImage, path: Path) -> str:
        """Show `image` (a thumbnail of `path`) on its own line; clicking opens `path`. Its tag."""
        text = pane.text
        shown = self._shown.setdefault(str(text), OrderedDict())
        tag = f"picture{next(_ids)}"
        writer = pane.writer
        start = text.index("end-1c")
        pane.tk.call(writer, "image", "create", "end", "-image", image, "-padx", 4, "-pady", 4)
        pane.tk.call(writer, "insert", "end", "\n", ("line",))
        text.tag_add(tag, start, f"{start} + 1 chars")
        text.tag_bind(tag, "<ButtonRelease-1>", lambda _e: self._open(path))
        text.tag_bind(tag, "<Enter>", lambda _e: text.configure(cursor="hand2"))
        text.tag_bind(tag, "<Leave>", lambda _e: text.configure(cursor="xterm"))
        shown[tag] = image
        while len(shown) > MAX_THUMBNAILS:
            old, _image = shown.popitem(last=False)
            ranges = text.tag_ranges(old)
            if ranges:
                pane.tk.call(writer, "delete", ranges[0], ranges[-1])
            text.tag_delete(old)
        _follow(pane)
        return tag

    def count(self, pane: ConversationPane) -> int:
        return len(self._shown.get(str(pane.text), ()))


def _follow(pane: ConversationPane) -> None:
    if pane.following():
        pane.scroll_to_end()
