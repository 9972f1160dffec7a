"""Nickname rules: which nicknames are allowed, and when two of them are the same."""

from __future__ import annotations

import unicodedata

import pytest

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
    assert normalize_nick(nick) == unicodedata.normalize("NFC", nick)


def test_outer_spaces_are_removed_and_the_form_is_nfc() -> None:
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
        ("zero\u200bwidth", "the nickname may not contain 'U+200B'"),
        ("rtl\u202eevil", "the nickname may not contain 'U+202E'"),
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
