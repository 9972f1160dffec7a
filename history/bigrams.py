"""The two-character index: what it holds for a message, and which query words it can answer.

Why it exists: FTS5's ``trigram`` tokenizer cannot find a word shorter than three
characters, and most Chinese words are two (``你好``, ``会议``); alone they meant a LIKE scan
of every message (a third of a second at a million). So each message's runs of non-ASCII
letters and digits (Chinese, Japanese, Korean, Cyrillic ... written without spaces) are
also cut into overlapping pairs, and every distinct pair becomes one token of a second FTS5
table (``messages_bigram``): ``会议室`` gives ``会议`` and ``议室``. A query word of exactly
two such characters is then one token to look up.

Why the tokens are hexadecimal (``4f1ag8bae``: the two code points, ``g`` between): FTS5's
own tokenizers fold case, strip accents and split on what they call punctuation; hex
tokens pass through the plain ``ascii`` tokenizer untouched, so a pair matches exactly the
same two characters, no more, no fewer. ASCII pairs are left out on purpose: English is
spaced, its two-letter words (``at``, ``to``) are in most messages, where a scan finds the
first 50 at once, and indexing every pair of English text would double the file.

The table is contentless: a message is taken out of it by giving `tokens` of its text again,
so `tokens` must never change what it returns for a text without a new schema version that
rebuilds the table (`database.rebuild_bigrams`).
"""

from __future__ import annotations

import re
from itertools import pairwise

#: Name of the SQL function (registered on every connection) that gives a message's tokens.
SQL_FUNCTION = "lanchat_bigrams"
PAIR = 2
#: Runs of two or more indexed characters: ``\w`` is exactly `str.isalnum` plus ``_``, and
#: the ASCII range (``_`` with it) is taken out. A regular expression, because a loop over
#: every character in Python cost the writer a third of its rate.
_RUNS = re.compile(r"[^\W\x00-\x7f]{2,}")


def _indexed(character: str) -> bool:
    return not character.isascii() and character.isalnum()


def _token(first: str, second: str) -> str:
    return f"{ord(first):x}g{ord(second):x}"


def indexable(word: str) -> bool:
    """Whether `word` can be looked up in the two-character index (two indexed characters)."""
    return len(word) == PAIR and _indexed(word[0]) and _indexed(word[1])


def query(words: list[str]) -> str:
    """The FTS5 query matching messages holding every one of `words` (each `indexable`)."""
    return " AND ".join(_token(word[0], word[1]) for word in words)


def tokens(text: str | None) -> str:
    """The index's text for a message: each distinct pair of adjacent indexed characters."""
    if not text or text.isascii():
        return ""
    pairs: dict[str, None] = {}
    for run in _RUNS.findall(text):
        codes = [f"{ord(character):x}" for character in run]  # once per character, not per pair
        pairs.update(dict.fromkeys(map("g".join, pairwise(codes))))
    return " ".join(pairs)
