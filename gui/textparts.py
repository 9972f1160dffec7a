"""Splitting message text into plain, link and mention parts (pure, for the transcript view).

The view inserts the parts with one Tk call (``insert(index, text, tags, text, tags, ...)``)
so no index arithmetic is needed: Tk counts a character outside the BMP as two, Python as
one, and computing ``+Nc`` offsets from Python lengths would misplace tags after an emoji.
"""

from __future__ import annotations

import functools
import re
import zlib

from gui.model.nicks import mention_spans, mentions
from net.protocol.nicknames import nick_key

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\")]}>»。，；：！？）"


def _trim_url(url: str) -> str:
    """Drop sentence punctuation after a URL, keeping a ')' that closes one inside it."""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def link_target(url: str) -> str:
    """What to open for a link as written (``www.`` links get ``http://``)."""
    return url if "://" in url else "http://" + url


def may_hold_link(text: str) -> bool:
    """False when `_URL` cannot match: it needs "://" or "www." in any case (a plain
    substring test is several times cheaper than the search, and most lines have neither)."""
    return "://" in text or "www." in text.lower()


def split_parts(text: str, mention: str | None = None) -> list[tuple[str, str | None]]:
    """`text` as (chunk, kind) pairs, kind being None, "link" or "mention"; chunks join back to `text`."""
    linked = may_hold_link(text) and _URL.search(text) is not None
    if not linked and not (mention and mentions(text, mention)):
        return [(text, None)]  # the common case, kept cheap for bursts
    spans: list[tuple[int, int, str]] = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group())
        if len(url) > len("www."):
            spans.append((match.start(), match.start() + len(url), "link"))
    if mention:
        for start, end in mention_spans(text, mention):
            if not any(s < end and start < e for s, e, _ in spans):
                spans.append((start, end, "mention"))
    spans.sort()
    parts: list[tuple[str, str | None]] = []
    position = 0
    for start, end, kind in spans:
        if start > position:
            parts.append((text[position:start], None))
        parts.append((text[start:end], kind))
        position = end
    if position < len(text):
        parts.append((text[position:], None))
    return parts


@functools.lru_cache(maxsize=4096)
def colour_index(nick: str, palette_size: int) -> int:
    """A stable palette slot for `nick` (the same on every PC and every run)."""
    return zlib.crc32(nick_key(nick).encode("utf-8")) % palette_size
