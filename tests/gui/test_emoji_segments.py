"""Finding emoji in text (gui.emoji.segments): pure, on the bundled set."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gui.emoji.segments import (
    PLACEHOLDER,
    chars_of_picture,
    emoji_folder,
    emoji_set,
    has_pictures,
    label_text,
    picture_name,
    split_emoji,
)
from gui.emoji_picker import EMOJI


def chars(hexes: str) -> str:
    return "".join(chr(int(code, 16)) for code in hexes.split("-"))


def pictures(text: str) -> list[str]:
    return [piece for piece, slot in split_emoji(text) if slot is not None]


def test_text_without_emoji_is_one_plain_piece():
    assert split_emoji("just words, 中文 and é") == [("just words, 中文 and é", None)]
    assert split_emoji("") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi 👍 there", ["👍"]),
        ("skin 👍🏽 tone", ["👍🏽"]),
        ("family 👨‍👩‍👧 ok", ["👨‍👩‍👧"]),
        ("flags 🇫🇷🇯🇵", ["🇫🇷", "🇯🇵"]),
        ("keycaps 1️⃣ #️⃣ and bare 2⃣", ["1️⃣", "#️⃣", "2⃣"]),
        ("scotland 🏴󠁧󠁢󠁳󠁣󠁴󠁿!", ["🏴󠁧󠁢󠁳󠁣󠁴󠁿"]),
        ("heart ❤️ as emoji", ["❤️"]),
        ("rainbow flag without selectors 🏳‍🌈", ["🏳‍🌈"]),
        ("the picker's row 👍👏🙏🎉🔥🚀💡🍕", list("👍👏🙏🎉🔥🚀💡🍕")),
        ("bmp emoji ☕⚡⭐", ["☕", "⚡", "⭐"]),
    ],
)
def test_emoji_sequences_are_one_picture_each(text, expected):
    assert pictures(text) == expected
    assert "".join(piece for piece, _ in split_emoji(text)) == text


@pytest.mark.parametrize("text", ["❤ plain", "© 2024", "ok ✔", "™", "digits 123 # * no keycap", "❤︎"])
def test_characters_that_are_text_by_default_stay_text(text):
    assert pictures(text) == []
    assert not has_pictures(text)


def test_a_selector_after_an_emoji_belongs_to_it():
    assert split_emoji("👍\ufe0f!") == [("👍\ufe0f", split_emoji("👍")[0][1]), ("!", None)]


def test_unknown_characters_outside_the_bmp_are_placeholder_boxes():
    assert split_emoji("𠮷田") == [("𠮷", PLACEHOLDER), ("田", None)]
    # A lone regional indicator, and a pair that is no country's flag.
    assert [slot for _piece, slot in split_emoji("🇦🇦")] == [PLACEHOLDER, PLACEHOLDER]


def test_a_zwj_sequence_not_in_the_set_falls_back_to_its_parts():
    text = "👨‍🦲‍🐱"  # not an RGI sequence
    assert "".join(piece for piece, _ in split_emoji(text)) == text
    assert pictures(text)[0] == "👨‍🦲"


def test_every_emoji_of_the_set_is_found_whole():
    index = json.loads((emoji_folder() / "index.json").read_text(encoding="utf-8"))
    for sequence, _name in index["emoji"]:
        text = chars(sequence)
        found = split_emoji(text)
        assert len(found) == 1 and found[0][0] == text, sequence
        assert found[0][1] is not None


def test_every_picker_emoji_is_one_picture_of_the_set():
    for emoji in EMOJI:
        ((piece, slot),) = split_emoji(emoji)
        assert piece == emoji and slot not in (None, PLACEHOLDER), emoji


def test_label_text_names_emoji_and_boxes_the_rest():
    assert label_text("Lunch 🍕 at noon") == "Lunch :pizza: at noon"
    assert label_text("𠮷田") == "\ufffd田"
    assert label_text("plain ❤") == "plain ❤"


def test_picture_names_spell_their_characters():
    assert picture_name("👍🏽", 7) == "e7:1f44d-1f3fd"
    assert chars_of_picture("e7:1f44d-1f3fd#12") == "👍🏽"
    assert chars_of_picture("other") is None
    assert chars_of_picture("x7:1f44d") is None
    assert chars_of_picture("e7:zz") is None


#: Pieces of sequences, to be glued in every order: selectors, joiners, tones, flags' halves.
_EMOJI_SAMPLES = st.sampled_from(
    [
        *("👍", "🏽", "👨", "👩", "❤", "#", "1", "🏴", "🇫", "🇷"),
        *("\u200d", "\ufe0f", "\ufe0e", "\u20e3", "\U000e0067", "\U000e007f"),
    ]
)
_ANY = st.characters(blacklist_categories=("Cs",))
texts = st.lists(st.one_of(_ANY, _EMOJI_SAMPLES, st.sampled_from(EMOJI)), max_size=40).map("".join)


@given(texts)
def test_pieces_join_back_and_leave_nothing_outside_the_bmp_for_a_font(text):
    pieces = split_emoji(text)
    assert "".join(piece for piece, _ in pieces) == text
    for index, (piece, slot) in enumerate(pieces):
        assert piece
        if slot is None:
            assert all(char <= "\uffff" for char in piece)
            assert index == 0 or pieces[index - 1][1] is not None  # plain runs are whole
    assert all(char <= "\uffff" for char in label_text(text))
    assert has_pictures(text) == any(slot is not None for _piece, slot in pieces)


@given(st.text(_ANY, min_size=1, max_size=12), st.integers(min_value=0))
def test_picture_names_round_trip(text, serial):
    assert chars_of_picture(picture_name(text, serial)) == text


def test_the_set_is_read_once():
    assert emoji_set() is emoji_set()
