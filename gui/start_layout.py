"""The start view's two layouts: roomy at the window's usual size, compact in a small window.

At 1000x680 the cards have generous margins. Below `COMPACT_WIDTH` x `COMPACT_HEIGHT`
(down to 640x480) that would cut the cards off, so the margins shrink, the tagline and the
host card's hint go, and the list of found chats shows a row less. Only widgets are placed
here; what they show is the view's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gui.start_view import StartView

#: Narrower or lower than this, the start view is laid out compactly.
COMPACT_WIDTH = 900
COMPACT_HEIGHT = 600


def is_compact(width: int, height: int) -> bool:
    return width < COMPACT_WIDTH or height < COMPACT_HEIGHT


def lay_out(view: StartView, *, compact: bool) -> None:
    """Place the start view's widgets for the roomy or the compact layout (once per change)."""
    if view.compact == compact:
        return
    view.compact = compact
    margin, card, gap = (12, 12, 4) if compact else (24, 16, 8)
    view.configure(padding=(margin, margin * 3 // 4))
    view.host_card.configure(padding=card)
    view.join_card.configure(padding=card)
    # The cards share the width 1:2 (compact 2:5) whatever they ask for: the join card's list
    # has more columns, and neither card's content may squeeze the other.
    host_share, join_share = (2, 5) if compact else (1, 2)
    view.columnconfigure(0, weight=host_share, uniform="cards")
    view.columnconfigure(1, weight=join_share, uniform="cards")
    view.host_card.grid_configure(padx=(0, gap))
    view.join_card.grid_configure(padx=(gap, 0))
    view.nick_row.configure(padding=(0, 6, 0, 8) if compact else (0, 14, 0, 14))
    view.foot.configure(padding=(0, 6 if compact else 16, 0, 0))
    for widget in (view.tagline, view.host_hint):
        if compact:
            widget.grid_remove()
        else:
            widget.grid()
    view.found_tree.configure(height=3 if compact else 4)
    button_gap = (8, 0) if compact else (16, 0)
    view.host_button.grid_configure(pady=button_gap)
    view.join_button.grid_configure(pady=button_gap)
    view.this_pc_label.grid_configure(pady=(8 if compact else 12, 0))
