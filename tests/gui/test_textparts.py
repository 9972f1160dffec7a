"""Links, mentions and nickname colours in message text."""

from __future__ import annotations

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from gui.model.nicks import mentions
from gui.textparts import _URL, colour_index, link_target, may_hold_link, split_parts


def test_plain_text_is_one_part():
    assert split_parts("just words 😀") == [("just words 😀", None)]


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("see https://example.org/a?b=1.", "https://example.org/a?b=1"),
        ("(http://example.org/x)", "http://example.org/x"),
        ("wiki http://en.wikipedia.org/wiki/Tk_(toolkit) ok", "http://en.wikipedia.org/wiki/Tk_(toolkit)"),
        ("go to www.example.org, then", "www.example.org"),
        ("链接：https://example.org/中文。", "https://example.org/中文"),
    ],
)
def test_links(text, url):
    parts = split_parts(text)
    assert "".join(chunk for chunk, _ in parts) == text
    assert [chunk for chunk, kind in parts if kind == "link"] == [url]


_LINKISH_CHARS = st.sampled_from("wW.:/hHtTpPsS xİıſ") | st.characters()
#: Pieces of link prefixes in several cases and broken forms: random characters alone never
#: spell "www." or "://" (0 links in 500 examples), these make about half the texts link-like.
#: "ſ" (long s) matches "s" under IGNORECASE, "İ" grows under lower().
_LINK_PIECES = st.sampled_from(
    [
        "http://",
        "https://",
        "HTTPS://",
        "hTtP://",
        "httpſ://",
        "www.",
        "WWW.",
        "wWw.",
        "://",
        "ww.",
        "www",
        "http:/",
    ]
)


@given(
    st.text(alphabet=_LINKISH_CHARS, max_size=40)
    | st.lists(_LINK_PIECES | st.text(alphabet=_LINKISH_CHARS, max_size=4), max_size=8).map("".join)
)
@example("see www.example.org")
@example("İWWW.x")
@example("httpſ://x")
@example("链接：WwW.例子.中国。")
def test_the_link_prefilter_never_hides_a_link(text):
    """The cheap substring test only skips texts the URL pattern cannot match."""
    if _URL.search(text) is not None:
        event("the URL pattern matches")
        assert may_hold_link(text)


@pytest.mark.parametrize("text", ["WWW.Example.org", "HTTPS://x.org", "hTtP://x", "a www.b c"])
def test_the_link_prefilter_is_case_blind(text):
    assert may_hold_link(text)
    assert [kind for _, kind in split_parts(text)].count("link") == 1


def test_link_targets():
    assert link_target("www.example.org") == "http://www.example.org"
    assert link_target("https://example.org") == "https://example.org"


@pytest.mark.parametrize(
    ("text", "nick", "expected"),
    [
        ("hi alice!", "alice", True),
        ("hi Alice", "alice", True),
        ("hi malice", "alice", False),
        ("alice_bot says", "alice", False),
        ("小王你好", "小王", True),
        ("nobody", "小王", False),
        ("", "alice", False),
    ],
)
def test_mentions(text, nick, expected):
    assert mentions(text, nick) is expected


def test_mention_and_link_parts_join_back():
    text = "alice: look at https://example.org/alice 😀 alice"
    parts = split_parts(text, mention="alice")
    assert "".join(chunk for chunk, _ in parts) == text
    assert [kind for _, kind in parts] == ["mention", None, "link", None, "mention"]


def test_colours_are_stable_and_case_blind():
    assert colour_index("Bob", 12) == colour_index("bob", 12)
    assert 0 <= colour_index("小王", 12) < 12
