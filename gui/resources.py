"""Where the window finds its bundled files (translations, icons).

The window asks here rather than building paths itself; this delegates to the project-wide
helper in `assets` (which also works inside a PyInstaller bundle).
"""

from __future__ import annotations

from pathlib import Path

from assets import asset_path as _asset_path


def asset_path(*parts: str) -> Path:
    """The path of a bundled asset, e.g. ``asset_path("locale")``."""
    return _asset_path(*parts)
