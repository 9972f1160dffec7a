"""Destroying widgets so that Tk objects die on the main thread.

Tkinter objects sit in reference cycles (a view holds its widgets, each widget its master),
so after ``destroy()`` they are freed by the cyclic garbage collector — which runs in
whichever thread happens to allocate at that moment, often a network thread. A
`tk.Variable` or image freed there touches Tcl from the wrong thread (a RuntimeError in
``__del__`` at best, ``Tcl_AsyncDelete`` aborting the process at worst). So whenever the
window throws away a view, tab or dialog it collects right away, on the main thread.
"""

from __future__ import annotations

import gc
import tkinter as tk


def destroy_now(*widgets: tk.Misc | None) -> None:
    """Destroy `widgets` and free their Python side here, on the main thread."""
    for widget in widgets:
        if widget is not None:
            widget.destroy()
    gc.collect()
