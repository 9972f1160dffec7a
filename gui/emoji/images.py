"""The emoji pictures as Tk images: cut once from the bundled sheets, shared, kept while shown.

Tk 8.6 reads PNG itself, so no imaging library is needed. A sheet (256 emoji of one size,
`assets/emoji/README.md`) is read only when one of its emoji is first shown, and only a
few sheets are kept; each emoji is taken from it once (`gui.emoji.sheets`: Tk would take
0.14 s to decode a whole sheet, under a millisecond for one emoji) into its own small
image, which every widget showing that emoji then shares by name.

Two roles, each with its own images and size: "text" (the transcript and the message
box: about the height of a line of text, so that a line with an emoji is no taller) and
"picker" (the emoji palette and its button: one size up, easier to aim at). When the font
size changes, `fit_to_font` redraws the existing images in place at the new size, and
every widget showing them follows.

Bounded: at most one image per emoji and role (the set has about 3,800), and unused ones
beyond `KEPT_UNUSED` are deleted oldest first. An image still shown somewhere (Tk's
``image inuse``) is never deleted: the transcript's scrollback cap bounds those.
"""

from __future__ import annotations

import base64
import tkinter as tk
from collections import OrderedDict
from pathlib import Path
from tkinter import font as tkfont

from gui.emoji.segments import PLACEHOLDER, EmojiSet, emoji_folder, emoji_set
from gui.emoji.sheets import Sheet

ROLES = ("text", "picker")
#: Images not shown anywhere that are kept for reuse (about 2 KB each at 24 px).
KEPT_UNUSED = 400
#: Sheets kept read (each 256 emoji, one byte a pixel: 83 KB at 18 px, 332 KB at 36 px).
KEPT_SHEETS = 3


class EmojiImages:
    """The Tk images of one interpreter's emoji (one instance per root: `emoji_images`)."""

    def __init__(self, root: tk.Misc, emoji: EmojiSet, folder: Path) -> None:
        self._root = root
        self._set = emoji
        self._folder = folder
        self.sizes = {"text": emoji.sizes[0], "picker": emoji.sizes[min(1, len(emoji.sizes) - 1)]}
        self._images: OrderedDict[tuple[str, int], tk.PhotoImage] = OrderedDict()
        self._sheets: OrderedDict[tuple[int, int], Sheet] = OrderedDict()

    def image(self, slot: int, role: str = "text") -> str:
        """The name of the image of `slot` (or `PLACEHOLDER`) for `role`, made on first use."""
        if slot == PLACEHOLDER:
            slot = self._set.placeholder
        key = (role, slot)
        image = self._images.get(key)
        if image is not None:
            self._images.move_to_end(key)
            return image.name
        image = tk.PhotoImage(master=self._root, name=f"lanchat_emoji_{role}_{slot}")
        self._cut(image, slot, self.sizes[role])
        self._images[key] = image
        if len(self._images) > len(ROLES) * KEPT_UNUSED:
            self._forget_unused()
        return image.name

    def count(self) -> int:
        """Images held now (tests and the report's figures)."""
        return len(self._images)

    def fit_to_font(self, font: str = "LanChatBody") -> None:
        """Size the pictures for `font`'s line height and redraw those already made."""
        if font not in tkfont.names(self._root):
            font = "TkDefaultFont"  # before the theme made ours (tests of a bare root)
        line = tkfont.nametofont(font, root=self._root).metrics("linespace")
        sizes = self._set.sizes
        text = min(sizes, key=lambda size: (abs(size - line), size))
        bigger = [size for size in sizes if size > text]
        wanted = {"text": text, "picker": bigger[0] if bigger else text}
        if wanted == self.sizes:
            return
        self.sizes = wanted
        for (role, slot), image in self._images.items():
            self._cut(image, slot, wanted[role])

    def _cut(self, image: tk.PhotoImage, slot: int, size: int) -> None:
        """(Re)draw `image` as the emoji of `slot` at `size` pixels."""
        page, cell = divmod(slot, self._set.per_page)
        row, column = divmod(cell, self._set.columns)
        png = self._sheet(size, page).cell_png(column * size, row * size, size)
        image.blank()
        image.configure(width=size, height=size, data=base64.b64encode(png), format="png")

    def _sheet(self, size: int, page: int) -> Sheet:
        key = (size, page)
        sheet = self._sheets.get(key)
        if sheet is None:
            sheet = self._sheets[key] = Sheet.read(self._folder / f"twemoji-{size}-{page:02d}.png")
            while len(self._sheets) > KEPT_SHEETS:
                self._sheets.popitem(last=False)
        else:
            self._sheets.move_to_end(key)
        return sheet

    def _forget_unused(self) -> None:
        """Delete the oldest images no widget shows, down to `KEPT_UNUSED` per role."""
        excess = len(self._images) - len(ROLES) * KEPT_UNUSED
        for key, image in list(self._images.items()):
            if excess <= 0:
                return
            if not self._root.tk.getboolean(self._root.tk.call("image", "inuse", image.name)):
                del self._images[key]  # the PhotoImage deletes its Tk image
                excess -= 1


def emoji_images(widget: tk.Misc) -> EmojiImages:
    """The emoji images of `widget`'s Tk interpreter, made on first use."""
    root = widget.nametowidget(".")
    images: EmojiImages | None = root.__dict__.get("_lanchat_emoji_images")
    if images is None:
        images = root.__dict__["_lanchat_emoji_images"] = EmojiImages(root, emoji_set(), emoji_folder())
        images.fit_to_font()
    return images
