"""Nickname rules: what a nickname may contain, and when two are the same or look the same.

The form follows the PRECIS Nickname profile (RFC 8266): outer spaces removed, then NFKC,
so compatibility forms become the plain letters they stand for (fullwidth ``ａｌｉｃｅ``,
mathematical ``𝐚lice`` and halfwidth ``ｱﾘｽ`` are ``alice`` and ``アリス``). They are folded
rather than refused: an East Asian input method in full-width mode types ``ｂｏｂ`` for
bob, and the name everyone sees and addresses is then the one anyone can type.

Then the rules: letters of any script (CJK included), combining marks, digits and
``_ - . ' ·``; no spaces, no punctuation that would confuse commands (``/msg bob``), no
control characters, and nothing invisible (default-ignorable code points and blank
letters such as the Hangul fillers, except a variation selector after a CJK ideograph).
One writing system per nickname, as Unicode TS #39's "moderately restrictive" level has
it: Latin may go with Han, kana or Hangul (``Bob王``, ``田中さん``) or one other common
script, but not with Cyrillic or Greek (``аlice`` with a Cyrillic ``а`` is refused); and
digits of one number system.

Two nicknames are the same (`nick_key`) when their case-folded NFKC forms are equal, and
a nickname is taken when it looks like a present member's (`look_alike`): when their
confusable skeletons (TS #39, from the Unicode data `confusable_homoglyphs` ships) are
equal, ignoring case. So ``реасе`` in Cyrillic and ``peace``, ``Ian`` and ``lan``, ``B0B``
and ``bob`` clash.
"""

from __future__ import annotations

import bisect
import functools
import importlib.resources
import json
import re
import unicodedata
from typing import Any

from net.protocol.limits import MAX_NICK_CHARS

_ALLOWED_SYMBOLS = frozenset("_-.'·")
_ALLOWED_CATEGORIES = ("L", "M", "N")

#: Characters that show nothing: Default_Ignorable_Code_Point (Unicode 15.1, which has the
#: zero-width characters, bidi controls, variation selectors, tags and the Hangul fillers
#: U+115F, U+1160, U+3164, U+FFA0), and U+2800 BRAILLE PATTERN BLANK.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
#: Variation selectors: allowed after a CJK ideograph only (an ideographic variation
#: sequence picks the glyph of a name's character), and ignored when comparing.
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")

#: Scripts that count for nothing when deciding whether a nickname mixes scripts.
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})
#: Script sets a nickname may combine (TS #39 "highly restrictive"): Latin with the scripts
#: of Japanese, Chinese (Bopomofo) or Korean writing.
_CJK_SETS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
#: The scripts in common use (UAX #31's "recommended" scripts) that Latin may go with
#: ("moderately restrictive"): all but Cyrillic and Greek, whose letters look like Latin ones.
_LATIN_MAY_JOIN = frozenset(
    {
        "ARABIC", "ARMENIAN", "BENGALI", "BOPOMOFO", "DEVANAGARI", "ETHIOPIC", "GEORGIAN",
        "GUJARATI", "GURMUKHI", "HAN", "HANGUL", "HEBREW", "HIRAGANA", "KANNADA", "KATAKANA",
        "KHMER", "LAO", "MALAYALAM", "MYANMAR", "ORIYA", "SINHALA", "TAMIL", "TELUGU",
        "THAANA", "THAI", "TIBETAN",
    }
)  # fmt: skip


class InvalidNickname(ValueError):
    """The nickname breaks a rule; the message says which, for the user."""


def normalize_nick(raw: str) -> str:
    """Return the canonical form of `raw` (outer spaces removed, NFKC) or raise InvalidNickname."""
    if not isinstance(raw, str):
        raise InvalidNickname("a nickname must be text")
    stripped = raw.strip()
    _check_visible(stripped)  # before NFKC, so that the message names what the user typed
    nick = unicodedata.normalize("NFKC", stripped).strip()
    if not nick:
        raise InvalidNickname("the nickname is empty")
    if len(nick) > MAX_NICK_CHARS:
        raise InvalidNickname(f"the nickname is longer than {MAX_NICK_CHARS} characters")
    _check_visible(nick)
    for char in nick:
        if char in _ALLOWED_SYMBOLS:
            continue
        if not unicodedata.category(char).startswith(_ALLOWED_CATEGORIES):
            shown = char if char.isprintable() else f"U+{ord(char):04X}"
            raise InvalidNickname(f"the nickname may not contain {shown!r}")
    if not unicodedata.category(nick[0]).startswith(("L", "N")):
        raise InvalidNickname("the nickname must start with a letter or digit")
    _check_one_writing_system(nick)
    return nick


def nick_key(nick: str) -> str:
    """The key under which nicknames are the same (case-insensitive, Unicode-aware): what
    `/msg`, private messages and typing notices address a member by."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", nick).casefold())


def look_keys(nick: str) -> frozenset[str]:
    """Keys of a normalised nickname's look: two nicknames look alike when they share one
    (`look_alike`). The skeleton of its case-folded form (so equal `nick_key`s share it), and
    that of its skeleton case-folded: a nickname that looks like another casing of a name
    looks like that name (``B0B`` looks like ``BOB``, which is ``bob``; ``Ian`` like ``lan``)."""
    return frozenset({_skeleton(nick_key(nick)), _skeleton(nick_key(_skeleton(nick)))})


def look_alike(a: str, b: str) -> bool:
    """True when normalised nicknames `a` and `b` could be taken for each other."""
    return not look_keys(a).isdisjoint(look_keys(b))


# -- the rules ----------------------------------------------------------------------------


def load_tables() -> None:
    """Read the script and confusables tables now (about 40 ms, once per process), so the
    first join of a host's life is not the one that pays for it."""
    _script_ranges()
    _prototypes()


def _check_visible(nick: str) -> None:
    for found in _INVISIBLE.finditer(nick):
        char, at = found[0], found.start()
        if _VARIATION_SELECTORS.fullmatch(char) and at and _script(nick[at - 1]) == "HAN":
            continue
        raise InvalidNickname(f"the nickname may not contain the invisible character U+{ord(char):04X}")


def _check_one_writing_system(nick: str) -> None:
    scripts = {_script(char) for char in nick} - _NEUTRAL_SCRIPTS
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in _CJK_SETS):
        others = scripts - {"LATIN"}
        if len(others) != 1 or not others <= _LATIN_MAY_JOIN:
            names = sorted(script.title() for script in scripts)
            listed = ", ".join(names[:-1]) + " and " + names[-1]
            raise InvalidNickname(f"the nickname mixes {listed} letters")
    # Digits of one number system (TS #39 mixed-number detection): "1" and Arabic-Indic "١".
    zeros = {ord(char) - unicodedata.decimal(char) for char in nick if unicodedata.category(char) == "Nd"}
    if len(zeros) > 1:
        raise InvalidNickname("the nickname mixes digits of different number systems")


# -- Unicode data from confusable_homoglyphs (read on first use) ---------------------------
#
# Only its data files are used: its modules import urllib.request (80 ms, and http.client
# and ssl, which the executable leaves out) to be able to download newer data.


def _data_file(name: str) -> Any:
    return json.loads(importlib.resources.files(_DATA_PACKAGE).joinpath(name).read_bytes())


_DATA_PACKAGE = "confusable_homoglyphs"


@functools.cache
def _script_ranges() -> tuple[list[int], list[tuple[int, str]]]:
    """Scripts.txt as (first code points, [(last code point, script)]) for bisecting."""
    data = _data_file("categories.json")
    names: list[str] = data["iso_15924_aliases"]
    ranges = sorted(data["code_points_ranges"])
    return [first for first, *_ in ranges], [(last, names[script]) for _, last, script, _ in ranges]


def _script(char: str) -> str:
    """The Unicode Script property of `char` in upper case ("LATIN", "HAN", "COMMON"...)."""
    firsts, rest = _script_ranges()
    code = ord(char)
    at = bisect.bisect_right(firsts, code) - 1
    if at >= 0 and code <= rest[at][0]:
        return rest[at][1]
    return "UNKNOWN"


def _skeleton(text: str) -> str:
    """TS #39's skeleton: NFD, ignorable characters removed, each character replaced by its
    prototype, NFD again. The prototype of a class of look-alikes is one fixed member of it."""
    prototypes = _prototypes()
    nfd = unicodedata.normalize("NFD", text)
    mapped = "".join(prototypes.get(char, char) for char in nfd if _INVISIBLE.fullmatch(char) is None)
    return unicodedata.normalize("NFD", mapped)


@functools.cache
def _prototypes() -> dict[str, str]:
    return prototypes_from_homoglyphs(_data_file("confusables.json"))


def prototypes_from_homoglyphs(homoglyphs: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    """The skeleton mapping (character -> prototype) from `confusable_homoglyphs` data.

    That data lists, for each line ``source ; prototype`` of Unicode's confusables.txt, the
    prototype under the source and the source under the prototype (right-to-left characters
    wrapped in U+200E marks). Sources are single characters and never prototypes, so the
    look-alike classes are stars: one prototype and the sources around it. The prototype is
    the class's member of several characters (``rn`` for ``m``) or the one with several
    neighbours; of a class of two single characters either will do (comparisons only need
    one fixed member), so the smaller is taken. Prototypes are mapped on (in NFD) until they
    stay, so that a skeleton is its own skeleton.
    """
    neighbours: dict[str, set[str]] = {}
    for key, entries in homoglyphs.items():
        a = key.replace("\u200e", "")
        for entry in entries:
            b = entry["c"].replace("\u200e", "")
            if a and b and a != b:
                neighbours.setdefault(a, set()).add(b)
                neighbours.setdefault(b, set()).add(a)
    proto_of: dict[str, str] = {}
    for node, around in neighbours.items():
        if len(node) > 1:
            continue  # a prototype of several characters
        if len(around) > 1:
            proto_of[node] = node  # the prototype of several sources
            continue
        (other,) = around
        alone = len(other) == 1 and len(neighbours[other]) == 1  # a class of two characters
        proto_of[node] = min(node, other) if alone else other

    def settled(text: str) -> str:
        """`text` in NFD with each character its prototype, until that changes nothing (the
        characters of a prototype, and of its NFD, have prototypes of their own)."""
        for _ in range(8):
            mapped = unicodedata.normalize("NFD", "".join(proto_of.get(char, char) for char in text))
            if mapped == text:
                break
            text = mapped
        return text

    mapping = {char: settled(unicodedata.normalize("NFD", proto)) for char, proto in proto_of.items()}
    return {char: proto for char, proto in mapping.items() if proto != char}
