"""Finding emoji in text: which runs of characters the window shows as a picture (pure, no Tk).

Tk 8.6 cannot draw colour glyphs: emoji come out as empty boxes, and on X11 a colour emoji
font can even kill the process (``BadLength`` in ``RenderAddGlyphs``). So the window never
hands an emoji, nor any character outside the Basic Multilingual Plane, to a Tk font: it
splits text into plain runs and pictures, and shows each picture from the bundled set
(`assets/emoji`). This module does the splitting, on the set's own list of sequences:

- the longest known sequence wins: ZWJ sequences (👨‍👩‍👧), skin tones (👍🏽), flags
  (regional-indicator pairs, and the tag sequences of 🏴󠁧󠁢󠁳󠁣󠁴󠁿), keycaps (1️⃣);
- variation selectors are optional inside a sequence (``❤️`` and ``❤`` name one picture),
  and selectors and tag characters right after a picture belong to it, so that nothing
  invisible is left over for a font;
- a character that is text by default (``❤ © ✔``, the ones Unicode writes with U+FE0F to
  ask for an emoji) stays text unless U+FE0F follows it, as the sender's system showed it;
- any other character outside the BMP (an emoji newer than the set, a rare CJK
  ideograph such as 𠮷) is a `PLACEHOLDER` picture: a visible box, never a crash.

Every piece keeps its original characters, so copying and searching give back exactly what
was sent: the pictures only change what is drawn.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gui.resources import asset_path

#: The slot of the "no picture for this character" box (`EmojiSet.placeholder` is its real
#: slot in the sheets; pieces use this value so callers need not know it).
PLACEHOLDER = -1
#: Variation selectors (text, emoji) and the tag characters of subdivision flags: invisible,
#: and taken into the picture they follow.
_TRAILING = re.compile("[\ufe0e\ufe0f\U000e0020-\U000e007f]*")
_SELECTORS = frozenset("\ufe0e\ufe0f")
_END = ""  # the key that marks the end of a sequence in the trie (no character is empty)

Piece = tuple[str, int | None]
"""(characters, slot): slot None for plain text, else a picture's slot or PLACEHOLDER."""


@dataclass(frozen=True)
class EmojiSet:
    """The emoji the bundled pictures cover: a trie of their sequences and their names."""

    trie: dict[str, Any]
    names: tuple[str, ...]  # short names by slot ("+1", "pizza")
    text_default: frozenset[str]  # single characters that are emoji only with U+FE0F
    trigger: re.Pattern[str]  # where a piece other than plain text may start
    hint: re.Pattern[str]  # a character without which there is none (one class: fast)
    placeholder: int  # the box's slot in the sheets
    sizes: tuple[int, ...]  # pixel sizes of the sheets
    columns: int
    per_page: int

    @classmethod
    def from_sequences(cls, sequences: list[str], names: list[str], **sheets: Any) -> EmojiSet:
        """The set of `sequences` (code points as hex joined by "-", as in Unicode's data)."""
        trie: dict[str, Any] = {}
        text_default = set()
        starts = set()
        for slot, sequence in enumerate(sequences):
            chars = "".join(chr(int(code, 16)) for code in sequence.split("-"))
            bare = chars.replace("\ufe0f", "")
            if len(bare) == 1 and chars != bare:
                text_default.add(bare)
            node = trie
            for char in bare:
                node = node.setdefault(char, {})
            node.setdefault(_END, slot)  # the first slot of a sequence wins (fully qualified)
            starts.add(bare[0])
        bmp_starts = "".join(sorted(re.escape(c) for c in starts if "\u00a0" <= c <= "\uffff"))
        trigger = re.compile(f"[#*0-9]\ufe0f?\u20e3|[{bmp_starts}\U00010000-\U0010ffff]")
        return cls(
            trie=trie,
            names=tuple(names),
            text_default=frozenset(text_default),
            trigger=trigger,
            hint=re.compile(f"[\u20e3{bmp_starts}\U00010000-\U0010ffff]"),
            placeholder=sheets.get("placeholder", len(sequences)),
            sizes=tuple(sheets.get("sizes", (18,))),
            columns=sheets.get("columns", 16),
            per_page=sheets.get("per_page", 256),
        )

    def may_hold(self, text: str) -> bool:
        """False when `text` has no emoji and nothing outside the BMP: the common case,
        answered without the trie (plain ASCII at once: a keycap needs U+20E3)."""
        return not text.isascii() and self.hint.search(text) is not None

    def match(self, text: str, start: int) -> tuple[int, int | None]:
        """(end, slot) of the piece starting at `start`; slot None when it is plain text."""
        node = self.trie.get(text[start])
        end, slot = start, None
        position = start + 1
        while node is not None:
            found = node.get(_END)
            if found is not None:
                end, slot = position, found
            while position < len(text) and text[position] in _SELECTORS:
                position += 1
            if position >= len(text):
                break
            node = node.get(text[position])
            position += 1
        if slot is not None:
            first = text[start]
            alone = end == start + 1 and not text.startswith("\ufe0f", end)
            if alone and first in self.text_default and first <= "\uffff":
                return start, None  # "❤" as text: what the sender's system showed
            return _TRAILING.match(text, end).end(), slot  # type: ignore[union-attr]
        if text[start] > "\uffff":
            return _TRAILING.match(text, start + 1).end(), PLACEHOLDER  # type: ignore[union-attr]
        return start, None


def split_emoji(text: str, emoji: EmojiSet | None = None) -> list[Piece]:
    """`text` as plain and picture pieces, in order; their characters join back to `text`."""
    if text.isascii():  # the common case, kept cheap for bursts (and the set unread)
        return [(text, None)] if text else []
    emoji = emoji or emoji_set()
    if not emoji.may_hold(text):
        return [(text, None)]
    search = emoji.trigger.search
    found = search(text)
    pieces: list[Piece] = []
    plain_from = 0
    while found is not None:
        start = found.start()
        end, slot = emoji.match(text, start)
        if slot is None:
            found = search(text, start + 1)
            continue
        if start > plain_from:
            pieces.append((text[plain_from:start], None))
        pieces.append((text[start:end], slot))
        plain_from = end
        found = search(text, end)
    if plain_from < len(text):
        pieces.append((text[plain_from:], None))
    return pieces


def has_pictures(text: str, emoji: EmojiSet | None = None) -> bool:
    """Whether some of `text` would be shown as a picture (cheap when there is none)."""
    if text.isascii():
        return False
    emoji = emoji or emoji_set()
    if not emoji.may_hold(text):
        return False
    return any(slot is not None for _chars, slot in split_emoji(text, emoji))


def label_text(text: str, emoji: EmojiSet | None = None) -> str:
    """`text` for a widget that draws only with a font (a label, a list, a tab): each emoji
    as its short name between colons (``:pizza:``), any other character outside the BMP as
    U+FFFD, so no font ever meets them."""
    if text.isascii():  # a window's labels, mostly: no need to read the set for them
        return text
    emoji = emoji or emoji_set()
    if not emoji.may_hold(text):
        return text
    shown = []
    for chars, slot in split_emoji(text, emoji):
        if slot is None:
            shown.append(chars)
        elif slot == PLACEHOLDER:
            shown.append("\ufffd" * sum(1 for char in chars if char > "\uffff"))
        else:
            shown.append(f":{emoji.names[slot]}:")
    return "".join(shown)


def picture_name(chars: str, serial: int = 0) -> str:
    """The name a text widget gives one picture of `chars`: it spells the characters, so the
    widget's text can be read back with the emoji in place (`chars_of_picture`). `serial`
    makes it unique: Tk compares a new name with every picture's (the ones sharing its
    beginning twice as slowly), so names that differ early are cheaper."""
    return f"e{serial}:" + "-".join(f"{ord(char):x}" for char in chars)


def chars_of_picture(name: str) -> str | None:
    """The characters a picture named by `picture_name` stands for (Tk adds ``#N`` to a
    name already taken); None for a name not ours."""
    serial, colon, codes = name.partition(":")
    if not colon or serial[:1] != "e" or not serial[1:].isdigit():
        return None
    try:
        return "".join(chr(int(code, 16)) for code in codes.split("#")[0].split("-"))
    except ValueError:
        return None


def emoji_folder() -> Path:
    return asset_path("emoji")


@functools.cache
def emoji_set() -> EmojiSet:
    """The bundled set (read once, on first use: about 10 ms)."""
    index = json.loads((emoji_folder() / "index.json").read_text(encoding="utf-8"))
    sequences = [sequence for sequence, _name in index["emoji"]]
    names = [name for _sequence, name in index["emoji"]]
    return EmojiSet.from_sequences(
        sequences,
        names,
        placeholder=index["placeholder"],
        sizes=index["sizes"],
        columns=index["columns"],
        per_page=index["per_page"],
    )
