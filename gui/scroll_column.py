"""A column of widgets that scrolls vertically when the window is too short for all of it.

The side panel holds the member list and, when hosting, "Invite others": taller than a
640 x 480 window leaves it. Without scrolling, grid squeezed the member list to nothing and
cut off what came last. Here the widgets sit in `body`, a frame inside a canvas: as tall as
its content needs, or as the canvas when that is taller (so a row given weight, such as the
member list, takes the room left), with a scrollbar that shows only while something is out
of sight. The canvas asks for the width of its content, and says when that changes.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

#: Pixels a wheel notch scrolls.
WHEEL_STEP = 40


class ScrollColumn(ttk.Frame):
    def __init__(self, master: tk.Misc, *, style: str, padding: tuple[int, int, int, int]) -> None:
        super().__init__(master, style=style)
        self.columnconfigure(0, weight=1)
        self.rowconfigure(0, weight=1)
        self.canvas = tk.Canvas(self, width=0, highlightthickness=0, borderwidth=0, yscrollincrement=1)
        self.canvas.grid(row=0, column=0, sticky="nsew")
        self.scrollbar = ttk.Scrollbar(self, orient="vertical", command=self.canvas.yview)
        self.scrollbar.grid(row=0, column=1, sticky="ns")
        self.scrollbar.grid_remove()
        self.body = ttk.Frame(self.canvas, style=style, padding=padding)
        self._item = self.canvas.create_window(0, 0, anchor="nw", window=self.body)
        self.canvas.configure(yscrollcommand=self._scrolled)
        self.canvas.bind("<Configure>", lambda _e: self.refresh())
        self._wheel_tag = f"ScrollColumn{id(self)}"
        self.bind_class(self._wheel_tag, "<Button-4>", lambda _e: self.scroll(-1))
        self.bind_class(self._wheel_tag, "<Button-5>", lambda _e: self.scroll(1))
        self.bind_class(self._wheel_tag, "<MouseWheel>", lambda e: self.scroll(-1 if e.delta > 0 else 1))
        self._pending: str | None = None

    def set_background(self, colour: str) -> None:
        self.canvas.configure(background=colour)

    def refresh(self) -> None:
        """Lay the body out again (after its content changed size: texts, rows added)."""
        if self._pending is None:
            self._pending = self.after_idle(self._layout)

    def scroll(self, notches: int) -> None:
        if self.scrollbar.winfo_manager():
            self.canvas.yview_scroll(notches * WHEEL_STEP, "units")

    def visible(self, widget: tk.Misc) -> bool:
        """Whether `widget` (in the body) is wholly inside the part of the column shown."""
        top = widget.winfo_rooty() - self.canvas.winfo_rooty()
        return top >= 0 and top + widget.winfo_height() <= self.canvas.winfo_height()

    def _layout(self) -> None:
        self._pending = None
        self._measure()
        height = max(self.body.winfo_reqheight(), self.canvas.winfo_height())
        self.canvas.itemconfigure(self._item, width=self.canvas.winfo_width(), height=height)
        self.canvas.configure(scrollregion=(0, 0, self.canvas.winfo_width(), height))
        self._bind_wheel(self.body)

    def _measure(self) -> None:
        """Ask for the content's width, and tell the master (`<<WidthWanted>>`): a paned window
        sizes a pane once, when it is added, and ignores later requests."""
        wanted = self.body.winfo_reqwidth()
        if int(self.canvas.cget("width")) != wanted:
            self.canvas.configure(width=wanted)
            self.master.event_generate("<<WidthWanted>>")

    def _scrolled(self, first: float | str, last: float | str) -> None:  # Tk passes strings
        self.scrollbar.set(first, last)
        if float(first) <= 0.0 and float(last) >= 1.0:
            self.scrollbar.grid_remove()
        else:
            self.scrollbar.grid()

    def _bind_wheel(self, widget: tk.Misc) -> None:
        """The wheel scrolls the column over any widget in it but a list that scrolls itself."""
        if isinstance(widget, ttk.Treeview):
            return
        tags = widget.bindtags()
        if self._wheel_tag not in tags:
            widget.bindtags((*tags, self._wheel_tag))
        for child in widget.winfo_children():
            self._bind_wheel(child)

    def destroy(self) -> None:
        if self._pending is not None:
            self.after_cancel(self._pending)
            self._pending = None
        for sequence in ("<Button-4>", "<Button-5>", "<MouseWheel>"):
            self.unbind_class(self._wheel_tag, sequence)
        super().destroy()
