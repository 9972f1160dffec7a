"""Bundled resources (icons, translations, themes): the one way to find them.

Code anywhere in the project asks ``asset_path("icons/lanchat-64.png")`` instead of building
paths itself, so the same call works from a source checkout and from a PyInstaller build,
where the files sit under the unpack folder ``sys._MEIPASS`` (build.spec copies this folder
there as ``assets/``).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["asset_path", "assets_dir"]


def assets_dir() -> Path:
    """The folder holding the bundled resources, from source or frozen."""
    bundle_root = getattr(sys, "_MEIPASS", None)
    if bundle_root is not None:
        return Path(bundle_root) / "assets"
    return Path(__file__).resolve().parent


def asset_path(*parts: str) -> Path:
    """The path of a bundled resource, e.g. ``asset_path("icons/lanchat-64.png")``.

    Parts may contain forward slashes. The path is returned whether or not the file exists,
    so callers can probe optional resources with ``.exists()``.
    """
    relative = Path(*(piece for part in parts for piece in part.split("/") if piece))
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"asset paths are relative to the assets folder: {'/'.join(parts)!r}")
    return assets_dir() / relative
