"""The application icon on LanChat's windows (title bar, task switcher, taskbar).

The executable's own icon (what Explorer or Finder shows) is embedded by build.spec; this
sets the icon of the running windows, which Tk would otherwise draw as its feather.
"""

from __future__ import annotations

import logging
import sys
import tkinter as tk

from assets import asset_path

log = logging.getLogger(__name__)

#: PNG sizes handed to the window manager, which picks the one that fits.
WINDOW_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def icon_file(pixels: int) -> str:
    """The path of the PNG icon of that size."""
    return str(asset_path(f"icons/lanchat-{pixels}.png"))


def set_window_icon(window: tk.Tk | tk.Toplevel) -> None:
    """Give `window` and every window opened after it the LanChat icon.

    A missing or unreadable icon file is logged and skipped: no icon is no reason not to
    start.
    """
    images: list[tk.PhotoImage] = []
    for pixels in WINDOW_ICON_SIZES:
        try:
            images.append(tk.PhotoImage(master=window, file=icon_file(pixels)))
        except tk.TclError as exc:
            log.warning("window icon %s px not loaded: %s", pixels, exc)
    if images:
        window.iconphoto(True, *reversed(images))
        # Tk copies the pixels, but keep the images alive with the window all the same.
        window.lanchat_icon_images = images  # type: ignore[union-attr]
    if sys.platform == "win32":
        try:
            window.iconbitmap(default=str(asset_path("icons/lanchat.ico")))
        except tk.TclError as exc:
            log.warning("window .ico icon not loaded: %s", exc)
