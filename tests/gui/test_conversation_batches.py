"""Big batches into a transcript: following, the marker, the cap and the tags stay right.

Batches of RELAYOUT_FROM arguments or more take the fast path of the Tcl helper (Tk's layout
of the lines on screen is dropped before the insert), so these tests use both sizes.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Iterator

import pytest

from gui.conversation import ConversationPane
from gui.emoji import tktext
from gui.model.values import Line
from gui.theme import apply_theme
from gui.transcript_tcl import RELAYOUT_FROM

WHEN = time.time()


@pytest.fixture
def pane(tk_root: tk.Tk) -> Iterator[ConversationPane]:
    palette = apply_theme(tk_root, "light", "en", 11)
    window = tk.Toplevel(tk_root)
    window.geometry("700x400+0+0")
    shown = ConversationPane(window, palette, 500)
    shown.own_nick = "reader"
    shown.pack(fill="both", expand=True)
    window.update()
    try:
        yield shown
    finally:
        window.destroy()


def burst(count: int, start: int = 0) -> list[Line]:
    return [Line("message", f"burst {start + n:05d} " + "x" * 40, WHEN, "sender") for n in range(count)]


def last_line(pane: ConversationPane) -> str:
    return pane.text.get("end-2l linestart", "end-1c").rstrip("\n")


@pytest.mark.parametrize("size", [1, 3, 300])  # 6 arguments a line: below and above RELAYOUT_FROM
def test_a_batch_at_the_end_is_followed(pane, tk_root, size):
    pane.add_lines(burst(50))
    tk_root.update()
    pane.add_lines(burst(size, start=50))
    tk_root.update()
    assert pane.at_bottom() and not pane.marker_visible()
    assert last_line(pane).endswith(f"burst {50 + size - 1:05d} " + "x" * 40)
    assert pane.text.bbox("end-2c") is not None  # the newest line is on screen
    assert pane.text.tag_ranges("relayout") == ()  # only ever on inside the Tcl call


@pytest.mark.parametrize("size", [1, 300])
def test_a_batch_while_scrolled_up_shows_the_marker_and_keeps_the_view(pane, tk_root, size):
    pane.add_lines(burst(200))
    tk_root.update()
    pane.text.yview_moveto(0.0)
    tk_root.update()
    top = pane.text.index("@0,0")
    pane.add_lines(burst(size, start=200))
    tk_root.update()
    assert pane.marker_visible()
    assert pane.text.index("@0,0") == top  # the view did not jump
    pane.scroll_to_end()
    tk_root.update()
    assert pane.at_bottom() and not pane.marker_visible()


def test_a_batch_larger_than_the_scrollback_keeps_the_newest_lines(pane, tk_root):
    pane.add_lines(burst(1_200))
    tk_root.update()
    kept = pane.line_count()
    assert kept == 500  # exactly the cap
    assert pane.lines_added == 1_200
    assert "burst 01199" in last_line(pane)
    assert f"burst {1_200 - kept:05d} " in pane.text.get("1.0", "1.end")  # the oldest kept
    assert f"burst {1_199 - kept:05d} " not in pane.content()


def test_tags_of_a_big_batch(pane, tk_root):
    """The margins tag covers every new line; nick and time keep their own tags."""
    assert RELAYOUT_FROM <= 101 * 6  # the fast path
    pane.add_lines([*burst(100), Line("message", "mine", WHEN, "reader", True, "L1")])
    tk_root.update()
    text = pane.text
    for index in ("1.0", "50.20", "101.0"):
        assert "line" in text.tag_names(index)
    assert "time" in text.tag_names("50.0")
    nick_tags = [tag for tag in text.tag_names("50.8") if tag.startswith("nick")]
    assert len(nick_tags) == 1 and text.tag_cget(nick_tags[0], "font") == "LanChatBold"
    assert set(text.tag_names("50.20")) == {"line"}  # a plain body carries no other tag
    assert {"own", "pending"} <= set(text.tag_names("101.20"))
    assert pane.pending_ids() == ["L1"] and text.index("pend:L1") == "101.0"  # a mark at its start
    # No tag per message: Tk's delete walks every tag, and a paste makes thousands of messages.
    assert not [tag for tag in text.tag_names() if tag.startswith("pend:")]
    assert text.tag_ranges("newpend") == ()


def own(count: int, start: int = 0) -> list[Line]:
    """Our own messages, still sending."""
    return [
        Line("message", f"mine {start + n}", WHEN, "reader", True, f"L{start + n}", "sending…")
        for n in range(count)
    ]


def test_own_messages_are_settled_where_they_are_even_among_many(pane, tk_root):
    pane.add_lines([*burst(10), *own(400), *burst(10, start=10)])
    assert len(pane.pending_ids()) == 400
    later = WHEN + 3_600
    assert pane.mark_delivered("L200", later, "✓")
    assert pane.mark_failed("L201", "! not delivered")
    start = pane.text.search("mine 200", "1.0")
    line = pane.text.get(f"{start} linestart", f"{start} lineend")
    assert line == time.strftime("%H:%M", time.localtime(later)) + "  reader  mine 200  ✓"
    assert "pending" not in pane.text.tag_names(start)
    failed = pane.text.search("mine 201", "1.0")
    assert pane.text.get(failed, f"{failed} lineend") == "mine 201  ! not delivered"
    assert "failed" in pane.text.tag_names(failed)
    pending = pane.text.search("mine 202", "1.0")
    assert pane.text.get(pending, f"{pending} lineend") == "mine 202  sending…"
    assert len(pane.pending_ids()) == 398
    assert not pane.mark_delivered("L200", later, "✓")  # once only


def test_own_messages_trimmed_or_cleared_are_forgotten(pane, tk_root):
    pane.add_lines(own(3))
    pane.add_lines(burst(600))  # the cap is 500: the three are trimmed away
    assert pane.pending_ids() == []
    assert not pane.mark_delivered("L0", WHEN, "✓")
    assert "✓" not in pane.content()
    pane.add_lines(own(2, start=10))
    pane.clear()
    assert pane.pending_ids() == [] and not pane.mark_delivered("L10", WHEN, "✓")


def test_a_transcript_keeps_a_bounded_number_of_emoji_pictures(tk_root, monkeypatch):
    """Tk looks at every picture a Text holds to place a new one: past the bound, the oldest
    lines go (as past the scrollback cap), so a burst of emoji stays as fast as the first."""
    monkeypatch.setattr(tktext, "MOST_PICTURES", 100)
    palette = apply_theme(tk_root, "light", "en", 11)
    window = tk.Toplevel(tk_root)
    window.geometry("700x400+0+0")
    try:
        pane = ConversationPane(window, palette, 5000)
        pane.pack(fill="both", expand=True)
        window.update()
        pane.add_lines([Line("message", f"emoji {n:04d} 🎉 and 👍", WHEN, "sender") for n in range(300)])
        tk_root.update()
        pictures = len(pane.text.image_names())
        assert 90 <= pictures <= 100
        assert pane.line_count() == pictures // 2  # two a line: whole lines went
        assert last_line(pane).endswith("emoji 0299 🎉 and 👍")
        assert pane.at_bottom()
    finally:
        window.destroy()


@pytest.mark.parametrize("size", [1, 300])
def test_a_batch_with_emoji_at_the_end_is_followed(pane, tk_root, size):
    """Pictures are taller than text: the view still ends on the newest line."""
    pane.add_lines(burst(50))
    tk_root.update()
    pane.add_lines([Line("message", f"party {n} 🎉🎉 👨‍👩‍👧", WHEN, "sender") for n in range(size)])
    tk_root.update()
    assert pane.at_bottom() and not pane.marker_visible()
    assert pane.text.bbox("end-2c") is not None
