"""Nickname rules: what a nickname may contain and when two are the same.

Letters of any script (CJK included), combining marks, digits and ``_ - . '`` are allowed;
spaces, punctuation that would confuse commands (``/msg bob``) and control characters are
not. Two nicknames clash when their case-folded NFC forms are equal.
"""

from __future__ import annotations

import unicodedata

from net.protocol.limits import MAX_NICK_CHARS

_ALLOWED_SYMBOLS = frozenset("_-.'·")
_ALLOWED_CATEGORIES = ("L", "M", "N")


class InvalidNickname(ValueError):
    """The nickname breaks a rule; the message says which, for the user."""


def normalize_nick(raw: str) -> str:
    """Return the canonical form of `raw` (NFC, outer spaces removed) or raise InvalidNickname."""
    if not isinstance(raw, str):
        raise InvalidNickname("a nickname must be text")
    nick = unicodedata.normalize("NFC", raw.strip())
    if not nick:
        raise InvalidNickname("the nickname is empty")
    if len(nick) > MAX_NICK_CHARS:
        raise InvalidNickname(f"the nickname is longer than {MAX_NICK_CHARS} characters")
    for char in nick:
        if char in _ALLOWED_SYMBOLS:
            continue
        if not unicodedata.category(char).startswith(_ALLOWED_CATEGORIES):
            shown = char if char.isprintable() else f"U+{ord(char):04X}"
            raise InvalidNickname(f"the nickname may not contain {shown!r}")
    if not unicodedata.category(nick[0]).startswith(("L", "N")):
        raise InvalidNickname("the nickname must start with a letter or digit")
    return nick


def nick_key(nick: str) -> str:
    """The key under which nicknames are compared (case-insensitive, Unicode-aware)."""
    return unicodedata.normalize("NFC", nick).casefold()
