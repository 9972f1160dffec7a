"""Nicknames in text: the key a member is known by, who a typed name means, and whether a
message names someone.

The model needs them to file messages, find the member `/msg` names and flag mentions; the
transcript view needs them to highlight the mentions it shows.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping

from net.protocol import events as ev
from net.protocol.nicknames import InvalidNickname, look_keys, nick_key, normalize_nick

#: `nick_key` with a memory: the model compares the sender of every message.
key_of = functools.lru_cache(maxsize=4096)(nick_key)


def member_named(typed: str, members: Mapping[str, ev.MemberInfo]) -> ev.MemberInfo | None:
    """The member a typed name means among `members` (by the `key_of` their name), compared as
    the room compares names (`net.room.names`): the same name ignoring case and compatibility
    forms (``Alice``, ``ａｌｉｃｅ`` for alice), else the member whose name looks like it (``B0B``
    for bob: the room lets no two members look alike). None when nobody here has that name."""
    found = members.get(key_of(typed))
    if found is not None or not members:
        return found
    try:
        looks = sorted(look_keys(normalize_nick(typed)))
    except InvalidNickname:
        return None  # no member can have a name the rules refuse
    return next((m for look in looks for m in members.values() if look in look_keys(m.nick)), None)


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
