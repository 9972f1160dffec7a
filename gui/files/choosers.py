"""The system's file and folder choosers (Tk's dialogs); tests replace them on `FileSharing`."""

from __future__ import annotations

import tkinter as tk
from pathlib import Path
from tkinter import filedialog

from gui.i18n import tr


def ask_folder(root: tk.Misc, initial: Path) -> Path | None:
    chosen = filedialog.askdirectory(
        parent=root,
        initialdir=str(initial if initial.is_dir() else initial.parent),
        title=tr("Save the files in"),
        mustexist=False,
    )
    return Path(chosen) if chosen else None


def ask_paths(root: tk.Misc, folder: bool) -> list[Path]:
    if folder:
        chosen = filedialog.askdirectory(parent=root, title=tr("Send a folder"), mustexist=True)
        return [Path(chosen)] if chosen else []
    names = filedialog.askopenfilenames(parent=root, title=tr("Send files"))
    return [Path(name) for name in root.tk.splitlist(names)] if names else []
