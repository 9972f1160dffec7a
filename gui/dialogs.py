"""What LanChat's dialogs share: a window over the main one, placed and modal, never blocking.

A dialog never waits in its own loop (no ``wait_window``): its buttons call back, so tests
drive it with ``invoke()`` and read what it decided. Escape and the window's close button
mean `cancel`.
"""

from __future__ import annotations

import tkinter as tk
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
