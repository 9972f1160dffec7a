"""Where the window finds its bundled files (translations, icons).

The one place in `gui/` that knows how assets are laid out. The packaging work replaces its
body with the project-wide resource helper (which also works inside a PyInstaller bundle);
every other module asks here instead of building paths itself.
"""

from __future__ import annotations

from pathlib import Path


def asset_path(*parts: str) -> Path:
    """The path of a bundled asset, e.g. ``asset_path("locale")``."""
    return Path(__file__).resolve().parent.parent.joinpath("assets", *parts)
