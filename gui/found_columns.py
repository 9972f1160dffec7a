"""Which columns the list of found chats shows, and how wide each is. No Tk.

Each column is as wide as its widest text, heading included, so no heading sits off its
data and no address is cut. When the list is too narrow for all of them (a small window,
longer Chinese headings), the columns that matter least are left out, in `DROP_ORDER`, rather
than every one being cut: the room, its code (two rooms of one name differ by it) and the
address to join at are always shown. The room's column takes what room is left, or gives
some up: a long room name is the one text that may be cut, and the line under the list shows
it whole with its code when the chat is selected.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Every column, in the order shown.
COLUMNS = ("room", "code", "host", "members", "transport", "address")
#: Left out first when the list is too narrow for every column.
DROP_ORDER = ("members", "host", "transport")
#: The column that takes the room left over, or gives some up.
STRETCH = "room"
#: The narrowest the room's column gets (about ten characters): what it counts for when
#: deciding which columns fit, so that one long name does not push the others out.
MIN_STRETCH = 100


def fit_columns(needed: Mapping[str, int], available: int) -> dict[str, int]:
    """The columns to show, in order, with their widths, for a list `available` pixels wide;
    `needed` is each column's widest text (plus its padding)."""
    counted = {**needed, STRETCH: min(needed[STRETCH], MIN_STRETCH)}  # a long name may be cut
    shown = list(COLUMNS)
    for column in DROP_ORDER:
        if sum(counted[name] for name in shown) <= available:
            break
        shown.remove(column)
    widths = {name: needed[name] for name in shown}
    spare = available - sum(widths.values())
    widths[STRETCH] = max(min(MIN_STRETCH, needed[STRETCH]), widths[STRETCH] + spare)
    return widths
