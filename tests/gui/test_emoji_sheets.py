"""Reading one emoji out of a bundled sheet (gui.emoji.sheets), checked against Pillow."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from PIL import Image

from gui.emoji.segments import emoji_folder
from gui.emoji.sheets import Sheet, SheetError

INDEX = json.loads((emoji_folder() / "index.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("size", INDEX["sizes"])
def test_every_sheet_is_readable_and_a_cell_is_the_same_picture_as_in_the_sheet(size):
    for page in range(INDEX["pages"]):
        path = emoji_folder() / f"twemoji-{size}-{page:02d}.png"
        sheet = Sheet.read(path)  # 8-bit palette, every row unfiltered
        whole = Image.open(path).convert("RGBA")
        assert (sheet.width, sheet.height) == whole.size
    column, row = 5, 3
    cell = Image.open(io.BytesIO(sheet.cell_png(column * size, row * size, size))).convert("RGBA")
    box = (column * size, row * size, (column + 1) * size, (row + 1) * size)
    assert cell.size == (size, size)
    assert cell.tobytes() == whole.crop(box).tobytes()


def test_a_cell_outside_the_sheet_is_refused():
    sheet = Sheet.read(emoji_folder() / "twemoji-18-00.png")
    with pytest.raises(SheetError):
        sheet.cell_png(sheet.width - 10, 0, 18)


def png(width: int, height: int, colour: int, rows: bytes, filtered: bool = False) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    kind = b"\x01" if filtered else b"\0"  # Sub, or none
    data = b"".join(kind + rows[y * width : (y + 1) * width] for y in range(height))
    palette = chunk(b"PLTE", bytes(range(6))) if colour == 3 else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + palette
        + chunk(b"IDAT", zlib.compress(data))
        + chunk(b"IEND", b"")
    )


def test_only_unfiltered_palette_sheets_are_taken():
    assert Sheet(png(2, 2, 3, b"\0\1\1\0")).cell_png(0, 0, 2).startswith(b"\x89PNG")
    with pytest.raises(SheetError):
        Sheet(png(2, 2, 3, b"\0\1\1\0", filtered=True))
    with pytest.raises(SheetError):
        Sheet(png(2, 2, 0, b"\0\1\1\0"))  # greyscale
    with pytest.raises(SheetError):
        Sheet(b"GIF89a")
