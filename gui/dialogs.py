"""What LanChat's dialogs share: a window over the main one, placed and modal, never blocking.

A dialog never waits in its own loop (no ``wait_window``): its buttons call back, so tests
drive it with ``invoke()`` and read what it decided. Escape and the window's close button
mean `cancel`.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from gui.lifetime import destroy_now


class Dialog(tk.Toplevel):
    """A transient, fixed-size window over `master`; subclasses build it, then `present` it."""

    def __init__(self, master: tk.Misc, title: str) -> None:
        super().__init__(master)
        self.withdraw()
        self.title(title)
        self.transient(master.winfo_toplevel())
        self.resizable(False, False)
        self.configure(background=ttk.Style(self).lookup("TFrame", "background"))
        self.protocol("WM_DELETE_WINDOW", self.cancel)
        self.bind("<Escape>", lambda _e: self.cancel())

    def add_buttons(self, *buttons: tuple[str, Callable[[], object]], top: int = 0) -> list[ttk.Button]:
        """A row of (text, command) buttons at the bottom right; the last one is accented."""
        row = ttk.Frame(self, padding=(22, top, 22, 18))
        row.grid(row=1, column=0, sticky="e")
        made = []
        for index, (text, command) in enumerate(buttons):
            last = index == len(buttons) - 1
            button = ttk.Button(
                row, text=text, command=command, style="Accent.TButton" if last else "TButton"
            )
            button.pack(side="left", padx=(0, 0 if last else 8))
            made.append(button)
        return made

    def present(self, focus: tk.Misc) -> None:
        """Show the dialog over its master, give `focus` the keyboard and make it modal."""
        self.update_idletasks()
        top = self.master.winfo_toplevel()
        x = top.winfo_rootx() + max(0, (top.winfo_width() - self.winfo_reqwidth()) // 2)
        y = top.winfo_rooty() + max(0, (top.winfo_height() - self.winfo_reqheight()) // 3)
        self.geometry(f"+{x}+{y}")
        self.deiconify()
        focus.focus_set()
        try:
            self.grab_set()
        except tk.TclError:
            pass  # not viewable yet (no window manager): the dialog still works, just not modal

    def cancel(self) -> None:
        destroy_now(self)
