"""Nicknames in text: the key a member is known by, and whether a message names someone.

The model needs them to file messages and flag mentions; the transcript view needs them to
highlight the mentions it shows.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from net.protocol.nicknames import nick_key

#: `nick_key` with a memory: the model compares the sender of every message.
key_of = functools.lru_cache(maxsize=4096)(nick_key)


@functools.lru_cache(maxsize=64)
def _mention_pattern(nick: str) -> re.Pattern[str]:
    """A compiled matcher for `nick` as a word of its own (cached: one per nickname)."""
    escaped = re.escape(unicodedata.normalize("NFC", nick))
    # CJK text has no spaces between words: a CJK nickname counts wherever it appears.
    if any(unicodedata.east_asian_width(char) in "WF" for char in nick):
        return re.compile(escaped, re.IGNORECASE)
    return re.compile(rf"(?<!\w){escaped}(?!\w)", re.IGNORECASE)


def mention_spans(text: str, nick: str) -> list[tuple[int, int]]:
    """Where `nick` appears in `text` as a word of its own (case-insensitive)."""
    if not nick:
        return []
    return [match.span() for match in _mention_pattern(nick).finditer(text)]


def mentions(text: str, nick: str) -> bool:
    """Whether `text` names `nick` as a word of its own."""
    return bool(nick) and _mention_pattern(nick).search(text) is not None
