"""The look: fonts that have the glyphs, and the ttk styles built from a light or dark palette.

Everything is built on ttk's "clam" theme (available on every platform and fully
recolourable) so the window looks the same on Windows, macOS and Linux. Plain Tk widgets
(Text, Listbox menus) take their colours from `Palette` (`gui.palette`) through
`apply_theme`'s return value.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterable
from tkinter import font as tkfont
from tkinter import ttk
from typing import Literal, TypedDict

from gui.palette import LIGHT, PALETTES, Palette


class FontSpec(TypedDict, total=False):
    """The options of one named font (those `tkfont.Font` takes as keywords)."""

    family: str
    size: int
    weight: Literal["normal", "bold"]
    slant: Literal["roman", "italic"]


#: Font families tried in order; the first one installed wins. Chinese UIs need a family
#: with CJK glyphs (and good Latin ones); otherwise the platform's UI face is nicest and
#: Tk falls back per character for the odd CJK glyph.
CJK_FAMILIES = (
    "Microsoft YaHei UI",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
LATIN_FAMILIES = (
    "Segoe UI",
    "SF Pro Text",
    "Helvetica Neue",
    "Cantarell",
    "Ubuntu",
    "Noto Sans",
    "DejaVu Sans",
    "Liberation Sans",
    "Arial",
)


def pick_family(available: Iterable[str], language: str, default: str) -> str:
    """The font family to use for `language` among the `available` ones."""
    installed = {family.lower(): family for family in available}
    preferred = CJK_FAMILIES + LATIN_FAMILIES if language.startswith("zh") else LATIN_FAMILIES + CJK_FAMILIES
    for family in preferred:
        if family.lower() in installed:
            return installed[family.lower()]
    return default


def configure_fonts(root: tk.Misc, language: str, size: int) -> str:
    """Set Tk's standard fonts and ours for `language` at `size` points; returns the family."""
    available = tkfont.families(root)
    default = tkfont.nametofont("TkDefaultFont", root=root).actual("family")
    family = pick_family(available, language, default)
    fixed = tkfont.nametofont("TkFixedFont", root=root).actual("family")  # room codes: 0 vs O
    for name in (
        "TkDefaultFont",
        "TkTextFont",
        "TkMenuFont",
        "TkHeadingFont",
        "TkCaptionFont",
        "TkTooltipFont",
    ):
        tkfont.nametofont(name, root=root).configure(family=family, size=size)
    specs: dict[str, FontSpec] = {
        "LanChatBody": {"family": family, "size": size},
        "LanChatBold": {"family": family, "size": size, "weight": "bold"},
        "LanChatSmall": {"family": family, "size": max(7, size - 2)},
        "LanChatItalic": {"family": family, "size": size, "slant": "italic"},
        "LanChatSmallItalic": {"family": family, "size": max(7, size - 2), "slant": "italic"},
        "LanChatTitle": {"family": family, "size": size + 11, "weight": "bold"},
        "LanChatHeading": {"family": family, "size": size + 3, "weight": "bold"},
        "LanChatCode": {"family": fixed, "size": size + 3, "weight": "bold"},
    }
    # A named font lives as long as its Python object: keep them on the root.
    fonts: dict[str, tkfont.Font] = root.__dict__.setdefault("_lanchat_fonts", {})
    for name, spec in specs.items():
        if name in fonts:
            fonts[name].configure(**spec)
        else:
            fonts[name] = tkfont.Font(root=root, name=name, exists=False, **spec)
    return family


def apply_theme(root: tk.Tk, theme: str, language: str, font_size: int) -> Palette:
    """Style every ttk widget for `theme`; returns the palette for plain Tk widgets."""
    palette = PALETTES.get(theme, LIGHT)
    configure_fonts(root, language, font_size)
    style = ttk.Style(root)
    style.theme_use("clam")
    p = palette
    line = tkfont.nametofont("LanChatBody", root=root).metrics("linespace")

    style.configure(
        ".",
        background=p.window,
        foreground=p.text,
        fieldbackground=p.surface,
        bordercolor=p.border,
        lightcolor=p.window,
        darkcolor=p.window,
        troughcolor=p.sidebar,
        selectbackground=p.select_bg,
        selectforeground=p.text,
        insertcolor=p.text,
        focuscolor=p.accent,
        font="TkDefaultFont",
    )
    style.map(".", foreground=[("disabled", p.muted)])
    for name, background in (
        ("TFrame", p.window),
        ("Card.TFrame", p.surface),
        ("Sidebar.TFrame", p.sidebar),
        ("Header.TFrame", p.header),
        ("Status.TFrame", p.sidebar),
    ):
        style.configure(name, background=background)
    style.configure("Card.TFrame", bordercolor=p.border, relief="solid", borderwidth=1)

    style.configure("TLabel", background=p.window, foreground=p.text)
    style.configure("Card.TLabel", background=p.surface)
    style.configure("Muted.TLabel", foreground=p.muted)
    style.configure("CardMuted.TLabel", background=p.surface, foreground=p.muted)
    style.configure("Title.TLabel", font="LanChatTitle", foreground=p.text)
    style.configure("Heading.TLabel", font="LanChatHeading", background=p.surface)
    style.configure("HeaderTitle.TLabel", font="LanChatHeading", background=p.header)
    style.configure("HeaderMuted.TLabel", background=p.header, foreground=p.muted)
    style.configure("Sidebar.TLabel", background=p.sidebar)
    style.configure("SidebarTitle.TLabel", background=p.sidebar, foreground=p.muted, font="LanChatSmall")
    style.configure("SidebarMuted.TLabel", background=p.sidebar, foreground=p.muted, font="LanChatSmall")
    style.configure("Status.TLabel", background=p.sidebar, foreground=p.muted, font="LanChatSmall")
    style.configure("Typing.TLabel", foreground=p.muted, font="LanChatSmall")
    style.configure("Error.TLabel", foreground=p.error)
    style.configure("CardError.TLabel", background=p.surface, foreground=p.error)
    style.configure("Notice.TLabel", background=p.mention_bg, foreground=p.text, padding=(10, 6))
    style.configure("Code.TLabel", font="LanChatCode")
    style.configure("BadCode.TLabel", font="LanChatCode", foreground=p.error)
    style.configure("SidebarCode.TLabel", font="LanChatCode", background=p.sidebar)
    style.configure("SidebarWarn.TLabel", background=p.sidebar, foreground=p.warn, font="LanChatSmall")
    style.configure("WarnHeading.TLabel", font="LanChatHeading", foreground=p.error)
    for state_name, colour in (("Ok", p.ok), ("Warn", p.warn), ("Bad", p.error)):
        style.configure(
            f"{state_name}.Status.TLabel", background=p.sidebar, foreground=colour, font="LanChatSmall"
        )

    style.configure(
        "TButton",
        padding=(14, 6),
        background=p.surface,
        foreground=p.text,
        bordercolor=p.border,
        lightcolor=p.surface,
        darkcolor=p.surface,
        relief="flat",
        anchor="center",
    )
    style.map(
        "TButton",
        background=[("disabled", p.window), ("pressed", p.sidebar), ("active", p.sidebar)],
        lightcolor=[("active", p.sidebar)],
        darkcolor=[("active", p.sidebar)],
        bordercolor=[("focus", p.accent)],
    )
    style.configure(
        "Accent.TButton",
        background=p.accent,
        foreground=p.accent_text,
        bordercolor=p.accent,
        lightcolor=p.accent,
        darkcolor=p.accent,
        font="LanChatBold",
        padding=(18, 8),
    )
    style.map(
        "Accent.TButton",
        background=[("disabled", p.border), ("pressed", p.accent_hover), ("active", p.accent_hover)],
        lightcolor=[("active", p.accent_hover)],
        darkcolor=[("active", p.accent_hover)],
        foreground=[("disabled", p.muted)],
        bordercolor=[("focus", p.text)],
    )
    style.configure(
        "Tool.TButton",
        padding=(12, 5),
        background=p.header,
        bordercolor=p.border,
        lightcolor=p.header,
        darkcolor=p.header,
    )
    style.map(
        "Tool.TButton",
        background=[("active", p.sidebar)],
        lightcolor=[("active", p.sidebar)],
        darkcolor=[("active", p.sidebar)],
        bordercolor=[("focus", p.accent)],
    )
    style.configure("Emoji.TButton", padding=(3, 3), background=p.surface, bordercolor=p.surface)
    style.map("Emoji.TButton", background=[("active", p.sidebar)], bordercolor=[("active", p.border)])
    style.configure(
        "Link.TButton", padding=(2, 0), background=p.sidebar, bordercolor=p.sidebar, foreground=p.link
    )
    style.map("Link.TButton", background=[("active", p.window)])
    style.configure(
        "Marker.TButton",
        background=p.accent,
        foreground=p.accent_text,
        bordercolor=p.accent,
        lightcolor=p.accent,
        darkcolor=p.accent,
        padding=(10, 3),
        font="LanChatSmall",
    )
    style.map("Marker.TButton", background=[("active", p.accent_hover)])

    for name in ("TEntry", "TCombobox", "TSpinbox"):
        style.configure(
            name,
            padding=(8, 5),
            fieldbackground=p.surface,
            foreground=p.text,
            bordercolor=p.border,
            lightcolor=p.surface,
            darkcolor=p.surface,
            arrowcolor=p.muted,
            background=p.surface,
            insertcolor=p.text,
        )
        style.map(
            name,
            bordercolor=[("focus", p.accent)],
            lightcolor=[("focus", p.accent)],
            fieldbackground=[("readonly", p.surface), ("disabled", p.window)],
            foreground=[("disabled", p.muted)],
            selectbackground=[("focus", p.select_bg), ("!focus", p.select_bg)],
            selectforeground=[("focus", p.text), ("!focus", p.text)],
        )
    style.map(
        "TCombobox",
        background=[("active", p.sidebar), ("!active", p.surface)],
        arrowcolor=[("disabled", p.border), ("!disabled", p.muted)],
        bordercolor=[("focus", p.accent)],
        lightcolor=[("focus", p.accent)],
        fieldbackground=[("readonly", p.surface), ("disabled", p.window)],
    )
    root.option_add("*TCombobox*Listbox.background", p.surface)
    root.option_add("*TCombobox*Listbox.foreground", p.text)
    root.option_add("*TCombobox*Listbox.selectBackground", p.select_bg)
    root.option_add("*TCombobox*Listbox.selectForeground", p.text)
    root.option_add("*TCombobox*Listbox.font", "TkDefaultFont")

    for name in ("TCheckbutton", "TRadiobutton"):
        style.configure(
            name, background=p.window, foreground=p.text, indicatorbackground=p.surface, padding=(2, 3)
        )
        style.map(
            name,
            indicatorbackground=[("selected", p.accent), ("pressed", p.sidebar)],
            indicatorforeground=[("selected", p.accent_text)],
            background=[("active", p.window)],
        )

    style.configure("TLabelframe", background=p.window, bordercolor=p.border, relief="solid", padding=12)
    style.configure("TLabelframe.Label", background=p.window, foreground=p.muted, font="LanChatBold")
    style.configure("TSeparator", background=p.border)

    style.configure("TNotebook", background=p.window, bordercolor=p.border, tabmargins=(0, 4, 0, 0))
    style.configure(
        "TNotebook.Tab",
        padding=(14, 5),
        background=p.window,
        foreground=p.muted,
        bordercolor=p.border,
        lightcolor=p.window,
    )
    style.map(
        "TNotebook.Tab",
        background=[("selected", p.surface), ("active", p.sidebar)],
        foreground=[("selected", p.text)],
        lightcolor=[("selected", p.surface)],
        expand=[("selected", (0, 2, 0, 0))],
    )

    style.configure(
        "Treeview",
        background=p.sidebar,
        fieldbackground=p.sidebar,
        foreground=p.text,
        bordercolor=p.sidebar,
        lightcolor=p.sidebar,
        darkcolor=p.sidebar,
        rowheight=line + 10,
        borderwidth=0,
    )
    style.map("Treeview", background=[("selected", p.select_bg)], foreground=[("selected", p.text)])
    style.layout("Treeview", [("Treeview.treearea", {"sticky": "nswe"})])
    style.configure(
        "Treeview.Heading",
        background=p.surface,
        foreground=p.muted,
        bordercolor=p.border,
        lightcolor=p.surface,
        darkcolor=p.surface,
        relief="flat",
        font="LanChatSmall",
        padding=(6, 3),
    )
    style.map("Treeview.Heading", background=[("active", p.sidebar)])
    style.configure("Card.Treeview", background=p.surface, fieldbackground=p.surface, bordercolor=p.border)
    # The found chats' headings start where their column's text does (a cell's is inset 2 px).
    style.configure("Card.Treeview.Heading", padding=(2, 3))
    # typeshed's ttk `_Layout` lacks the -border and -expand options that Tk accepts
    # ("must be -side, -sticky, -expand, -border, -unit, or -children"): hence the ignores.
    style.layout(
        "Card.Treeview",
        [
            (  # type: ignore[list-item]  # "border" is missing from the stubs (see above)
                "Treeview.field",
                {
                    "sticky": "nswe",
                    "border": 1,
                    "children": [
                        (
                            "Treeview.padding",
                            {"sticky": "nswe", "children": [("Treeview.treearea", {"sticky": "nswe"})]},
                        )
                    ],
                },
            )
        ],
    )

    style.layout(
        "Vertical.TScrollbar",
        [
            (  # type: ignore[list-item]  # "expand" is missing from the stubs (see above)
                "Vertical.Scrollbar.trough",
                {"sticky": "ns", "children": [("Vertical.Scrollbar.thumb", {"expand": 1, "sticky": "nswe"})]},
            )
        ],
    )
    style.layout(
        "Horizontal.TScrollbar",
        [
            (  # type: ignore[list-item]  # "expand" is missing from the stubs (see above)
                "Horizontal.Scrollbar.trough",
                {
                    "sticky": "we",
                    "children": [("Horizontal.Scrollbar.thumb", {"expand": 1, "sticky": "nswe"})],
                },
            )
        ],
    )
    for orient in ("Vertical", "Horizontal"):
        style.configure(
            f"{orient}.TScrollbar",
            background=p.border,
            troughcolor=p.surface,
            bordercolor=p.surface,
            lightcolor=p.border,
            darkcolor=p.border,
            arrowcolor=p.muted,
            gripcount=0,
            arrowsize=10,
            width=10,
        )
        style.map(f"{orient}.TScrollbar", background=[("active", p.muted)])
    style.configure("TSpinbox", arrowsize=12)
    style.configure("TScale", background=p.window, troughcolor=p.sidebar)

    root.configure(background=p.window)
    root.option_add("*Menu.background", p.surface)
    root.option_add("*Menu.foreground", p.text)
    root.option_add("*Menu.activeBackground", p.select_bg)
    root.option_add("*Menu.activeForeground", p.text)
    root.option_add("*Menu.relief", "flat")
    return palette
