"""assets/: the one resource helper (source and frozen) and the committed icon files."""

from __future__ import annotations

import json
import math
import struct
import sys
from pathlib import Path

import pytest

from assets import asset_path, assets_dir
from gui.icon import WINDOW_ICON_SIZES

REPO = Path(__file__).resolve().parents[2]
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_from_source_assets_are_next_to_the_code() -> None:
    assert assets_dir() == REPO / "assets"
    assert asset_path("icons/lanchat-64.png") == REPO / "assets" / "icons" / "lanchat-64.png"
    assert asset_path("icons", "lanchat-64.png") == asset_path("icons/lanchat-64.png")
    assert asset_path("icons/lanchat-64.png").is_file()


def test_frozen_assets_are_in_the_unpacked_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert asset_path("locale") == tmp_path / "assets" / "locale"
    assert asset_path("icons/lanchat.ico") == tmp_path / "assets" / "icons" / "lanchat.ico"


@pytest.mark.parametrize("outside", ["../main.py", "icons/../../main.py"])
def test_paths_cannot_leave_the_assets_folder(outside: str) -> None:
    with pytest.raises(ValueError):
        asset_path(outside)


@pytest.mark.parametrize("pixels", [*WINDOW_ICON_SIZES, 512])
def test_each_window_icon_is_a_png_of_its_size(pixels: int) -> None:
    assert png_size(asset_path(f"icons/lanchat-{pixels}.png")) == (pixels, pixels)


def test_the_windows_icon_holds_every_size_up_to_256() -> None:
    data = asset_path("icons/lanchat.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = set()
    for index in range(count):
        width, height = data[6 + 16 * index], data[7 + 16 * index]
        sizes.add((width or 256, height or 256))  # 0 means 256 in an ICONDIRENTRY
    assert sizes == {(s, s) for s in ICO_SIZES}


def test_the_macos_icon_is_an_icns_file() -> None:
    data = asset_path("icons/lanchat.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)


def test_the_emoji_sheets_match_their_index() -> None:
    index = json.loads(asset_path("emoji/index.json").read_text(encoding="utf-8"))
    columns, per_page = index["columns"], index["per_page"]
    cells = len(index["emoji"]) + 1  # and the placeholder box, last
    assert index["placeholder"] == len(index["emoji"])
    assert index["pages"] == math.ceil(cells / per_page)
    for size in index["sizes"]:
        for page in range(index["pages"]):
            on_page = min(per_page, cells - page * per_page)
            sheet = asset_path(f"emoji/twemoji-{size}-{page:02d}.png")
            assert png_size(sheet) == (columns * size, math.ceil(on_page / columns) * size), sheet.name


def test_the_emoji_pictures_come_with_their_licences() -> None:
    readme = asset_path("emoji/README.md").read_text(encoding="utf-8")
    assert "Twemoji" in readme and "CC-BY 4.0" in readme
    graphics = asset_path("emoji/LICENSE-GRAPHICS-CC-BY-4.0.txt").read_text(encoding="utf-8")
    assert graphics.startswith("Attribution 4.0 International")
    assert "MIT License" in asset_path("emoji/LICENSE-DATA-MIT.txt").read_text(encoding="utf-8")


def test_the_emoji_set_stays_small() -> None:
    """The one-file build unpacks everything at every start and must stay <= 30 MB."""
    total = sum(path.stat().st_size for path in asset_path("emoji").iterdir() if path.suffix != ".py")
    assert total < 3_000_000
