"""What the window decides about files, without a window: auto-accept, thumbnails, names.

Kept apart from the widgets so the rules are unit-tested on their own.
"""

from __future__ import annotations

import time
from pathlib import Path, PurePath

from platformdirs import user_downloads_dir

#: Names that show inline as a thumbnail (what Pillow reads everywhere).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"})
#: A thumbnail fits in a square of this many pixels (the saved file is never changed).
THUMBNAIL_PIXELS = 240
#: Thumbnails kept per conversation; the oldest one goes beyond it (each holds a Tk image).
MAX_THUMBNAILS = 40
#: Images larger than this are not decoded for a thumbnail (a bomb or a poster).
MAX_THUMBNAIL_SOURCE_BYTES = 50 * 1024 * 1024
MB = 1024 * 1024


def is_image(name: str | PurePath) -> bool:
    return PurePath(name).suffix.lower() in IMAGE_SUFFIXES


def auto_accepts(names: tuple[str, ...], count: int, size: int, limit_mb: int) -> bool:
    """Whether an offer is taken unasked: images only (every name shown is one and the count
    matches, so no folder or hidden extra), in all at most `limit_mb` MB (0: never)."""
    if limit_mb <= 0 or count <= 0 or count != len(names) or size > limit_mb * MB:
        return False
    return all(is_image(name) and "/" not in name and "\\" not in name for name in names)


def thumbnail_size(width: int, height: int, limit: int = THUMBNAIL_PIXELS) -> tuple[int, int]:
    """The size a `width` x `height` picture is shown at: within `limit` x `limit`, the same
    shape, never enlarged, never below one pixel."""
    if width <= 0 or height <= 0:
        return (1, 1)
    scale = min(1.0, limit / width, limit / height)
    return (max(1, round(width * scale)), max(1, round(height * scale)))


def default_folder() -> Path:
    """Downloads/LanChat in the user's downloads folder (as the system names it)."""
    return Path(user_downloads_dir()) / "LanChat"


def download_folder(setting: str) -> Path:
    """Where accepted files go: the folder set in Settings, or the default one."""
    return Path(setting).expanduser() if setting.strip() else default_folder()


def screenshot_name(when: float | None = None) -> str:
    """The name a pasted picture is sent under: screenshot-YYYYmmdd-HHMMSS.png."""
    return time.strftime("screenshot-%Y%m%d-%H%M%S.png", time.localtime(when))


def send_command(text: str) -> str | None:
    """The path of `/send PATH` typed in the input box (quotes around it allowed); None when
    `text` is not that command. `/send` alone gives "" (the file chooser opens)."""
    stripped = text.strip()
    word, _, rest = stripped.partition(" ")
    if word.lower() != "/send":
        return None
    rest = rest.strip()
    if len(rest) >= 2 and rest[0] == rest[-1] and rest[0] in "\"'":
        rest = rest[1:-1]
    return rest
