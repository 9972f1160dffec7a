"""The colours of the light and dark themes (plain data: no Tk).

`gui.theme` builds the ttk styles from a `Palette`; the views colour their plain Tk widgets
(Text, Treeview tags) from the same one, which `apply_theme` returns.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Palette:
    name: str
    window: str
    surface: str  # text areas and entries
    sidebar: str
    header: str
    border: str
    text: str
    muted: str
    accent: str
    accent_hover: str
    accent_text: str
    own_bg: str
    mention_bg: str
    found_bg: str
    select_bg: str
    link: str
    error: str
    ok: str
    warn: str
    nick_colours: tuple[str, ...]


LIGHT = Palette(
    name="light",
    window="#f4f5f7",
    surface="#ffffff",
    sidebar="#eceef2",
    header="#ffffff",
    border="#d5d9e0",
    text="#1f2328",
    muted="#6b7280",
    accent="#2563eb",
    accent_hover="#1d4ed8",
    accent_text="#ffffff",
    own_bg="#eef4ff",
    mention_bg="#fff1c2",
    found_bg="#ffd866",
    select_bg="#bcd3fb",
    link="#1d4ed8",
    error="#c62828",
    ok="#16a34a",
    warn="#d97706",
    nick_colours=(
        "#c2410c",
        "#a16207",
        "#4d7c0f",
        "#047857",
        "#0e7490",
        "#1d4ed8",
        "#6d28d9",
        "#a21caf",
        "#be123c",
        "#0f766e",
        "#7c3aed",
        "#9a3412",
    ),
)

DARK = Palette(
    name="dark",
    window="#1f2228",
    surface="#17191e",
    sidebar="#1a1d22",
    header="#23272e",
    border="#343941",
    text="#e5e7eb",
    muted="#9aa1ab",
    accent="#4f8cff",
    accent_hover="#6b9fff",
    accent_text="#ffffff",
    own_bg="#1d2738",
    mention_bg="#4a3d12",
    found_bg="#7a5d00",
    select_bg="#2f4a7a",
    link="#7aa7ff",
    error="#ff6b6b",
    ok="#4ade80",
    warn="#fbbf24",
    nick_colours=(
        "#fb923c",
        "#fbbf24",
        "#a3e635",
        "#34d399",
        "#22d3ee",
        "#60a5fa",
        "#a78bfa",
        "#e879f9",
        "#fb7185",
        "#2dd4bf",
        "#c4b5fd",
        "#fdba74",
    ),
)

PALETTES = {"light": LIGHT, "dark": DARK}
