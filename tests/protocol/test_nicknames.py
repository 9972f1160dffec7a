"""Nickname rules: which nicknames are allowed, and when two of them are the same."""

from __future__ import annotations

import unicodedata

import pytest

from net.protocol import nicknames
from net.protocol.limits import MAX_NICK_CHARS
from net.protocol.nicknames import InvalidNickname, nick_key, normalize_nick


@pytest.mark.parametrize(
    "nick",
    [
        "alice",
        "Bob_2",
        "小明",
        "김민수",
        "Ольга",
        "José",
        "Zoë-Ann",
        "O'Brien",
        "a.b",
        "Jean·Paul",
        "नमस्ते",  # Devanagari with combining vowel signs
        "x\u0301\u0323",  # combining marks after a letter
        "42",
        "٣٤",  # Arabic-Indic digits
        "𠀀𠀁",  # CJK Extension B (outside the BMP)
        "n" * MAX_NICK_CHARS,
        "字" * MAX_NICK_CHARS,
    ],
)
def test_allowed_nicknames_are_kept(nick: str) -> None:
    assert normalize_nick(nick) == unicodedata.normalize("NFKC", nick)


def test_outer_spaces_are_removed_and_the_form_is_nfkc() -> None:
    assert normalize_nick("  Jose\u0301 \t") == "José"
    assert len(normalize_nick("Jose\u0301")) == 4


@pytest.mark.parametrize(
    ("nick", "message"),
    [
        ("", "the nickname is empty"),
        ("   ", "the nickname is empty"),
        ("n" * (MAX_NICK_CHARS + 1), f"the nickname is longer than {MAX_NICK_CHARS} characters"),
        ("two words", "the nickname may not contain ' '"),
        ("a/b", "the nickname may not contain '/'"),
        ("/msg", "the nickname may not contain '/'"),
        ("bell\x07", "the nickname may not contain 'U+0007'"),
        ("esc\x1b[31m", "the nickname may not contain 'U+001B'"),
        ("tab\tin", "the nickname may not contain 'U+0009'"),
        ("nl\nin", "the nickname may not contain 'U+000A'"),
        ("del\x7f", "the nickname may not contain 'U+007F'"),
        ("zero\u200bwidth", "the nickname may not contain the invisible character U+200B"),
        ("rtl\u202eevil", "the nickname may not contain the invisible character U+202E"),
        ("lone\ud800", "the nickname may not contain 'U+D800'"),
        ("smile😀", "the nickname may not contain '😀'"),
        ("at@home", "the nickname may not contain '@'"),
        ("_lead", "the nickname must start with a letter or digit"),
        ("-x", "the nickname must start with a letter or digit"),
        ("\u0301a", "the nickname must start with a letter or digit"),
    ],
)
def test_refused_nicknames_say_why(nick: str, message: str) -> None:
    with pytest.raises(InvalidNickname) as info:
        normalize_nick(nick)
    assert str(info.value) == message


def test_a_nickname_must_be_text() -> None:
    with pytest.raises(InvalidNickname, match="must be text"):
        normalize_nick(42)  # type: ignore[arg-type]


def test_length_is_counted_after_normalisation() -> None:
    decomposed = "e\u0301" * MAX_NICK_CHARS  # 48 code points, 24 after NFC
    assert normalize_nick(decomposed) == "é" * MAX_NICK_CHARS


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Alice", "alice"),
        ("ALICE", "alice"),
        ("Straße", "STRASSE"),
        ("straße", "strasse"),
        ("José", "Jose\u0301"),
        ("ΣΊΣΥΦΟΣ", "σίσυφος"),
        ("Ǆemal", "ǆemal"),
    ],
)
def test_nicknames_that_clash(a: str, b: str) -> None:
    assert nick_key(a) == nick_key(b)


@pytest.mark.parametrize(
    ("a", "b"), [("alice", "alicia"), ("小明", "小朋"), ("José", "Jose"), ("a.b", "a_b")]
)
def test_nicknames_that_do_not_clash(a: str, b: str) -> None:
    assert nick_key(a) != nick_key(b)


# --- look-alike and invisible nicknames (issue 14, item 7) --------------------------------


@pytest.mark.parametrize(
    "nick",
    [
        "小明",
        "田中さん",  # Han and Hiragana
        "タナカ_たなか_田中",  # Katakana, Hiragana and Han
        "김철수",
        "金김",  # Han and Hangul
        "ㄅ小明",  # Bopomofo and Han
        "Bob王",  # Latin with Han
        "Yuki雪さん",  # Latin with Japanese
        "Kim김",  # Latin with Korean
        "Ali_علي",  # Latin with Arabic
        "Ольга",
        "ѕсоре",  # all Cyrillic: one script, so allowed (a look-alike of a present "scope" is taken)
        "Σίσυφος",
        "Ωμέγα2",  # Greek, with a digit
        "a٣٤",  # Latin letters with Arabic-Indic digits
        "葛\U000e0100",  # an ideographic variation sequence (a Japanese name's glyph)
    ],
)
def test_nicknames_of_one_writing_system_are_allowed(nick: str) -> None:
    assert normalize_nick(nick) == unicodedata.normalize("NFKC", nick)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("ａｌｉｃｅ", "alice"),  # fullwidth
        ("𝐚lice", "alice"),  # mathematical bold
        ("𝔞𝔩𝔦𝔠𝔢", "alice"),  # mathematical fraktur
        ("ｱﾘｽ", "アリス"),  # halfwidth katakana
        ("Ⅻ", "XII"),  # a compatibility numeral
        ("ﬁsh", "fish"),  # a ligature
        ("Ｂｏｂ２", "Bob2"),
    ],
)
def test_compatibility_forms_are_folded_to_plain_letters(raw: str, folded: str) -> None:
    assert normalize_nick(raw) == folded


@pytest.mark.parametrize(
    "char",
    [
        "\u3164",  # HANGUL FILLER, a letter that shows nothing
        "\u115f",  # HANGUL CHOSEONG FILLER
        "\u1160",  # HANGUL JUNGSEONG FILLER
        "\uffa0",  # HALFWIDTH HANGUL FILLER
        "\u2800",  # BRAILLE PATTERN BLANK
        "\u200b",  # ZERO WIDTH SPACE
        "\u200c",  # ZERO WIDTH NON-JOINER
        "\u200d",  # ZERO WIDTH JOINER
        "\u2060",  # WORD JOINER
        "\ufeff",  # ZERO WIDTH NO-BREAK SPACE
        "\u00ad",  # SOFT HYPHEN
        "\u034f",  # COMBINING GRAPHEME JOINER
        "\u17b4",  # KHMER VOWEL INHERENT AQ
        "\u180e",  # MONGOLIAN VOWEL SEPARATOR
        "\u180b",  # MONGOLIAN FREE VARIATION SELECTOR ONE
        "\ufe0f",  # VARIATION SELECTOR-16
        "\U000e0100",  # VARIATION SELECTOR-17
        "\U000e0041",  # TAG LATIN CAPITAL LETTER A
        "\U0001d173",  # MUSICAL SYMBOL BEGIN BEAM
        "\u061c",  # ARABIC LETTER MARK
        "\u200e",  # LEFT-TO-RIGHT MARK
        "\u202e",  # RIGHT-TO-LEFT OVERRIDE
        "\u2066",  # LEFT-TO-RIGHT ISOLATE
    ],
)
@pytest.mark.parametrize("where", ["{}", "alice{}", "{}alice", "al{}ice"])
def test_invisible_and_filler_characters_are_refused(char: str, where: str) -> None:
    with pytest.raises(InvalidNickname) as info:
        normalize_nick(where.format(char))
    shown = f"U+{ord(char):04X}"
    assert str(info.value) == f"the nickname may not contain the invisible character {shown}"


@pytest.mark.parametrize(
    ("nick", "scripts"),
    [
        ("аlice", "Cyrillic and Latin"),  # Cyrillic а
        ("pаypal", "Cyrillic and Latin"),
        ("Аlice", "Cyrillic and Latin"),  # Cyrillic capital А
        ("αlice", "Greek and Latin"),
        ("Ωmega", "Greek and Latin"),
        ("bοb", "Greek and Latin"),  # Greek omicron
        ("Ꭺlice", "Cherokee and Latin"),  # Cherokee: not a script to mix with Latin
        ("Ольгаω", "Cyrillic and Greek"),
        ("あ김", "Hangul and Hiragana"),  # Japanese kana with Korean
        ("Иван王", "Cyrillic and Han"),
    ],
)
def test_mixed_script_nicknames_are_refused(nick: str, scripts: str) -> None:
    with pytest.raises(InvalidNickname) as info:
        normalize_nick(nick)
    assert str(info.value) == f"the nickname mixes {scripts} letters"


def test_digits_of_different_number_systems_are_refused() -> None:
    with pytest.raises(InvalidNickname) as info:
        normalize_nick("bob1١")  # ASCII one and ARABIC-INDIC DIGIT ONE
    assert str(info.value) == "the nickname mixes digits of different number systems"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("alice", "ａｌｉｃｅ"),
        ("alice", "𝐚lice"),
        ("alice", "ALICE"),
        ("peace", "реасе"),  # all Cyrillic
        ("scope", "ѕсоре"),
        ("ABE", "ΑΒΕ"),  # all Greek capitals
        ("TOM", "ТОМ"),  # all Cyrillic capitals
        ("Ian", "lan"),  # capital I and small l
        ("mary", "rnary"),
        ("BOB", "B0B"),
        ("bob", "B0B"),  # B0B looks like BOB, another casing of bob
        ("bill", "bi1l"),
        ("Straße", "STRASSE"),
        ("葛", "葛\U000e0100"),
        ("José", "Jose\u0301"),
        ("小明", "小明"),
    ],
)
def test_look_alikes(a: str, b: str) -> None:
    assert nicknames.look_alike(normalize_nick(a), normalize_nick(b))
    assert nicknames.look_alike(normalize_nick(b), normalize_nick(a))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("alice", "alicia"),
        ("小明", "小朋"),
        ("José", "Jose"),
        ("a.b", "a_b"),
        ("김철수", "김철순"),
        ("bob", "rob"),
        ("ian", "lan"),  # a small i has its dot
    ],
)
def test_not_look_alikes(a: str, b: str) -> None:
    assert not nicknames.look_alike(normalize_nick(a), normalize_nick(b))


def test_prototypes_from_the_homoglyph_lists() -> None:
    """The data lists each confusables.txt line both ways; the classes are stars."""

    def entry(c: str) -> dict[str, str]:
        return {"c": c, "n": "NAME"}

    data = {
        "а": [entry("a")],  # Cyrillic а -> a
        "ɑ": [entry("a")],
        "a": [entry("а"), entry("ɑ")],
        "m": [entry("rn")],  # a prototype of two characters
        "rn": [entry("m")],
        "Ꮢ": [entry("R")],  # a class of two single characters: either serves
        "R": [entry("Ꮢ")],
        "\u200e\u05c0\u200e": [entry("l")],  # right-to-left characters come wrapped in LRM
        "l": [entry("\u200e\u05c0\u200e"), entry("I")],
        "I": [entry("l")],
    }
    prototypes = nicknames.prototypes_from_homoglyphs(data)
    assert prototypes == {"а": "a", "ɑ": "a", "m": "rn", "Ꮢ": "R", "\u05c0": "l", "I": "l"}


def test_a_skeleton_is_its_own_skeleton() -> None:
    prototypes = nicknames._prototypes()
    assert len(prototypes) > 5000  # the data is there (also in the executable)
    for text in [*prototypes, *prototypes.values()]:
        skeleton = nicknames._skeleton(text)
        assert nicknames._skeleton(skeleton) == skeleton
