"""Application start-up for the window (a minimal window until the chat views land)."""

from __future__ import annotations

import tkinter as tk


def run_app() -> int:
    root = tk.Tk()
    root.title("LanChat")
    tk.Label(root, text="LanChat", padx=40, pady=40).pack()
    root.mainloop()
    return 0
