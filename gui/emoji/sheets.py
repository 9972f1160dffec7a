"""Reading one emoji out of a bundled sheet, as a PNG of its own (pure, no Tk).

Why not let Tk decode the sheet and copy the emoji out of it: Tk 8.6 decodes a picture with
partial transparency slowly, building the region of its visible pixels one rectangle at a
time, at a cost that grows with the square of their number: 0.14 s for one 288x288 sheet
of 256 emoji and 1 s at 576x576 (a few milliseconds for the same sheet opaque), while
one emoji alone has few rectangles. So a sheet is read here (its palette and its rows:
one zlib call, in C) and each emoji is handed to Tk as a small PNG with the sheet's
palette (under a millisecond to make and to decode).

The sheets are 8-bit palette PNGs whose rows are all stored unfiltered (filter type 0: what
Pillow writes for palette images, and what `assets/emoji/make_emoji_assets.py` checks), so
a row of the picture is a slice of the decompressed data.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class SheetError(ValueError):
    """A sheet is not the kind of PNG this reader takes."""


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


class Sheet:
    """One sheet's palette and pixels (one byte a pixel), read once."""

    def __init__(self, data: bytes) -> None:
        if not data.startswith(_SIGNATURE):
            raise SheetError("not a PNG file")
        chunks: dict[bytes, bytes] = {}
        compressed = []
        position = len(_SIGNATURE)
        while position + 8 <= len(data):
            (length,) = struct.unpack(">I", data[position : position + 4])
            kind = data[position + 4 : position + 8]
            body = data[position + 8 : position + 8 + length]
            if kind == b"IDAT":
                compressed.append(body)
            else:
                chunks.setdefault(kind, body)
            position += 12 + length
        width, height, depth, colour, _method, _filter, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
        if (depth, colour, interlace) != (8, 3, 0):
            raise SheetError("a sheet must be an 8-bit palette PNG, not interlaced")
        self.width, self.height = width, height
        self.palette = chunks[b"PLTE"]
        self.transparency = chunks.get(b"tRNS", b"")
        self._rows = zlib.decompress(b"".join(compressed))
        stride = width + 1
        if len(self._rows) != stride * height or any(self._rows[row * stride] for row in range(height)):
            raise SheetError("every row of a sheet must be stored unfiltered")

    @classmethod
    def read(cls, path: Path) -> Sheet:
        return cls(path.read_bytes())

    def cell_png(self, x: int, y: int, size: int) -> bytes:
        """The size x size square at (x, y) as a PNG file's bytes (the sheet's palette)."""
        if x < 0 or y < 0 or x + size > self.width or y + size > self.height:
            raise SheetError(f"cell {x},{y} of {size} px is outside the {self.width}x{self.height} sheet")
        stride = self.width + 1
        start = y * stride + 1 + x
        rows = b"".join(
            b"\0" + self._rows[start + row * stride : start + row * stride + size] for row in range(size)
        )
        header = struct.pack(">IIBBBBB", size, size, 8, 3, 0, 0, 0)
        parts = [_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"PLTE", self.palette)]
        if self.transparency:
            parts.append(_chunk(b"tRNS", self.transparency))
        parts += [_chunk(b"IDAT", zlib.compress(rows, 1)), _chunk(b"IEND", b"")]
        return b"".join(parts)
