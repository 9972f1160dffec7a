"""Thumbnails of received or sent pictures, made on a worker thread (decoding takes time).
The file is only read: the thumbnail is a downscaled copy in memory."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from gui.files import rules
from gui.files.events import Key, PictureRead
from net.api import EventSink

log = logging.getLogger(__name__)


def post_thumbnail(key: Key, path: Path, sink: EventSink) -> None:
    """On the pictures worker: decode `path`, downscale it in memory, post it (the file on
    disk is only read)."""
    image = read_thumbnail(path)
    if image is not None:
        sink(PictureRead(key, path, image))


def read_thumbnail(path: Path, limit: int = rules.THUMBNAIL_PIXELS) -> object | None:
    """A downscaled copy of the picture at `path` (a PIL image), or None when it cannot be read."""
    try:
        if path.stat().st_size > rules.MAX_THUMBNAIL_SOURCE_BYTES:
            return None
        from PIL import Image

        with Image.open(path) as picture:
            picture.thumbnail(rules.thumbnail_size(*picture.size, limit))
            return picture.convert("RGBA")
    except Exception as exc:  # not a picture after all, truncated, too many pixels
        log.info("no thumbnail for a picture: %s", exc)
        return None


#: The formats thumbnails are shown for (rules.IMAGE_SUFFIXES), by Pillow's names.
PICTURE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")


def picture_formats() -> tuple[list[str], str]:
    """The formats of PICTURE_FORMATS this installation really reads (each one written to
    memory and read back, so a build that left out a decoder shows here), and the Pillow
    version, or why there are no thumbnails at all (`main.py doctor` says it)."""
    try:
        import PIL
        from PIL import Image
    except ImportError as exc:
        return [], f"Pillow is missing ({exc})"
    readable = []
    for name in PICTURE_FORMATS:
        try:
            buffer = io.BytesIO()
            Image.new("RGB", (2, 2), "orange").save(buffer, name)
            buffer.seek(0)
            with Image.open(buffer) as picture:
                picture.load()
            readable.append(name)
        except Exception as exc:  # this build or system lacks the codec
            log.info("no %s pictures: %s", name, exc)
    return readable, f"Pillow {PIL.__version__}"
