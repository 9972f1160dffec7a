"""Which columns the list of found chats shows, and how wide (issue 15.7). No window."""

from __future__ import annotations

from gui.found_columns import COLUMNS, MIN_STRETCH, fit_columns

NEEDED = {"room": 110, "code": 100, "host": 80, "members": 75, "transport": 80, "address": 150}


def test_every_column_fits_in_a_wide_list_and_the_room_takes_what_is_left() -> None:
    widths = fit_columns(NEEDED, 700)
    assert tuple(widths) == COLUMNS
    assert sum(widths.values()) == 700
    assert widths["room"] == 110 + 700 - sum(NEEDED.values())
    assert all(widths[name] == NEEDED[name] for name in COLUMNS if name != "room")


def test_a_narrow_list_leaves_out_members_then_host_then_transport_never_the_address() -> None:
    assert tuple(fit_columns(NEEDED, 560)) == ("room", "code", "host", "transport", "address")
    assert tuple(fit_columns(NEEDED, 480)) == ("room", "code", "transport", "address")
    narrow = fit_columns(NEEDED, 380)
    assert tuple(narrow) == ("room", "code", "address")
    assert narrow["address"] == 150 and narrow["code"] == 100  # whole, not cut


def test_a_long_room_name_is_cut_rather_than_pushing_other_columns_out() -> None:
    widths = fit_columns({**NEEDED, "room": 400}, 595)
    assert tuple(widths) == COLUMNS
    assert widths["room"] == 595 - sum(NEEDED.values()) + NEEDED["room"]
    assert widths["room"] >= MIN_STRETCH
