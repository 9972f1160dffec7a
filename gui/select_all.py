"""Select all with the platform's shortcut in every field the user types or selects text in.

Tk's X11 bindings follow Emacs: Ctrl+A moves to the start of the line (``<<LineStart>>``),
where people on Linux expect what Windows gives them (and Tk on Windows does): select all.
On macOS Ctrl+A is the start of the line everywhere (Cocoa's text fields agree) and Cmd+A
selects all, as Tk's aqua bindings already do; it is bound here too, so the rule is stated
in one place.

The shortcut is bound once per widget class, never per widget, so every field made later
has it: the nickname, address, room name, password and Settings fields, the message box,
and the read-only conversation view (its proxy refuses edits, not selections). Each class's
own ``<<SelectAll>>`` binding does the selecting; a physical key binding takes precedence
over the class's ``<<LineStart>>``, and "break" keeps the key from reaching other bindings.
"""

from __future__ import annotations

import sys
import tkinter as tk

#: The classes the user types into or selects in. The ttk combobox and spinbox copy TEntry's
#: bindings when Tk loads them, so each is bound on its own.
TEXT_CLASSES = ("Text", "Entry", "Spinbox", "TEntry", "TCombobox", "TSpinbox")
_SELECT_ALL = "event generate %W <<SelectAll>>; break"  # Tcl: no round trip through Python


def select_all_keys(platform: str = sys.platform) -> tuple[str, ...]:
    """The key sequences that select all on `platform` (the second one with Caps Lock on)."""
    if platform == "darwin":
        return ("<Command-a>", "<Command-Lock-A>")
    return ("<Control-a>", "<Control-Lock-A>")  # Shift+Ctrl+A still selects to the line start


def install_select_all(root: tk.Misc, platform: str = sys.platform) -> None:
    """Bind select-all for every text class of `root`'s interpreter (safe to repeat)."""
    for widget_class in TEXT_CLASSES:
        for sequence in select_all_keys(platform):
            root.bind_class(widget_class, sequence, _SELECT_ALL)
