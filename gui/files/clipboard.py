"""A picture on the clipboard, as a PNG file to send. No Tk.

Pillow's `ImageGrab.grabclipboard` reads the clipboard on Windows and macOS, and on Linux
through `wl-paste` (Wayland) or `xclip` (X11) when one is installed: without them there is
no picture to paste (Tk's own clipboard holds text only), and Ctrl+V pastes text as ever.
It may also give the files copied in a file manager: those are sent as they are.
"""

from __future__ import annotations

import logging
from pathlib import Path

from gui.files.rules import screenshot_name
from net.paths import data_dir

log = logging.getLogger(__name__)

#: Pasted pictures kept at once (the oldest are deleted: an open offer needs its file).
MAX_KEPT = 50


def clipboard_content() -> object | None:
    """A PIL image, a list of file paths, or None (nothing usable, or no way to read it)."""
    try:
        from PIL import ImageGrab

        return ImageGrab.grabclipboard()
    except Exception as exc:  # NotImplementedError without xclip/wl-paste, OSError, a bad picture
        log.info("no picture from the clipboard: %s", exc)
        return None


def pasted_folder() -> Path:
    return data_dir() / "pasted"


def save_png(image: object, folder: Path | None = None, when: float | None = None) -> Path:
    """Write `image` (a PIL image) as screenshot-YYYYmmdd-HHMMSS.png in `folder`; its path.
    A name already used gets a number; the oldest pasted files beyond `MAX_KEPT` go."""
    folder = folder or pasted_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = screenshot_name(when)
    path = folder / name
    number = 1
    while path.exists():
        number += 1
        path = folder / name.replace(".png", f"-{number}.png")
    image.save(path, "PNG")  # type: ignore[attr-defined]
    _trim(folder)
    return path


def _trim(folder: Path) -> None:
    kept = sorted(folder.glob("screenshot-*.png"), key=lambda item: item.stat().st_mtime)
    for old in kept[:-MAX_KEPT]:
        try:
            old.unlink()
        except OSError as exc:
            log.info("cannot delete an old pasted picture: %s", exc)
