"""Up/Down recall in the input box."""

from __future__ import annotations

from gui.input_history import InputHistory


def test_walks_back_and_returns_to_the_draft():
    history = InputHistory()
    for text in ("one", "two", "three"):
        history.add(text)
    assert history.older("draft") == "three"
    assert history.older("three") == "two"
    assert history.older("two") == "one"
    assert history.older("one") is None
    assert history.newer() == "two"
    assert history.newer() == "three"
    assert history.newer() == "draft"
    assert history.newer() is None


def test_repeats_and_blanks_are_not_stored_and_size_is_bounded():
    history = InputHistory(size=3)
    for text in ("a", "a", "  ", "b", "c", "d"):
        history.add(text)
    seen = []
    while (text := history.older("")) is not None:
        seen.append(text)
    assert seen == ["d", "c", "b"]
