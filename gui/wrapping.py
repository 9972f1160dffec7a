"""Labels that wrap at the width they are given, not at a fixed one.

A fixed `wraplength` either wastes room in a wide window or lets a long sentence run under
the next widget in a narrow one (or in Chinese, whose text is wider), where grid cuts it off
mid-word. A label set up here takes the width its layout gives it and wraps its text there,
growing a line taller instead. Its layout must give it the width: ``sticky="ew"`` in a grid
column with weight, or ``fill="x"`` when packed.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

#: Narrowest wrap: a label squeezed to nothing still shows a word or two a line.
MIN_WRAP = 60


def wrap_to_width(label: ttk.Label | tk.Label) -> None:
    """Make `label` wrap its text at its own width, now and whenever it is resized."""

    def follow(event: tk.Event) -> None:
        width = max(MIN_WRAP, int(event.width))
        if str(label.cget("wraplength")) != str(width):
            label.configure(wraplength=width)

    label.bind("<Configure>", follow, add="+")
