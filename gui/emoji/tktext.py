"""Emoji in Tk Text widgets: pictures where the emoji are, their characters when read back.

A picture is embedded with ``image create`` and named after the characters it stands for
(`picture_name`); the widget's ``get`` is wrapped so that it returns those characters in
place of each picture. So reading the text, Tk's own Ctrl+C and the context menu's Copy,
and the message box's Send all see exactly what was written, and a widget's text holds no
emoji and no character outside the BMP for a font to meet.

- The transcript inserts whole batches in one Tcl call (`gui.conversation`): `with_pictures`
  turns its flat ``text, tags, text, tags...`` list into one where each emoji is a marker
  pair (U+FDD0, ``[image, name, tags...]``), and ``::lanchat::emoji::insert`` places the
  markers as pictures carrying the same tags (own, pending, link...).
- The message box is edited by the user: its ``insert`` is wrapped too, so typing, pasting
  and the emoji palette all go through `with_pictures` (only when the text inserted has a
  character above U+00A8: plain typing never leaves Tcl). A picture is one position, so
  Backspace, Delete and the arrows treat an emoji as one character.
- Tk's ``search`` does not see pictures: `find_text` searches the widget's text with the
  emoji in place when the pattern has one.
"""

from __future__ import annotations

import bisect
import itertools
import tkinter as tk
from collections.abc import Sequence

from gui.emoji.images import emoji_images
from gui.emoji.segments import chars_of_picture, emoji_set, has_pictures, picture_name, split_emoji

_INSERT_PROC = "::lanchat::emoji::insert"
#: Pictures a transcript keeps (``::lanchat::emoji::trim``): with 4,000 held, Tk takes about
#: 0.1 ms to place a new one (against 2.7 ms with 100,000, the largest scrollback).
MOST_PICTURES = 4000
_SERIALS = itertools.count()
_MARK = "\ufdd0"  # the text of a picture's pair (a noncharacter): see ``::lanchat::emoji::insert``
_TCL_HELPERS = r"""
namespace eval ::lanchat::emoji {}
# The characters a picture stands for, from its name in the widget ("e12:1f44d-1f3fd").
# Tcl 8.6 holds a character outside the BMP as a surrogate pair, as Python hands it over.
proc ::lanchat::emoji::chars {name} {
    set out ""
    set codes [string range $name [expr {[string first : $name] + 1}] end]
    foreach hex [split [lindex [split $codes #] 0] -] {
        scan $hex %x code
        if {$code > 0xFFFF} {
            incr code -0x10000
            append out [format %c%c [expr {0xD800 | ($code >> 10)}] [expr {0xDC00 | ($code & 0x3FF)}]]
        } else {
            append out [format %c $code]
        }
    }
    return $out
}
# `get from to` with each picture's characters in its place.
proc ::lanchat::emoji::get {widget from to} {
    if {[llength [$widget dump -image $from $to]] == 0} {
        return [$widget get $from $to]
    }
    set out ""
    foreach {key value index} [$widget dump -text -image $from $to] {
        if {$key eq "text"} {
            append out $value
        } elseif {[regexp {^e[0-9]+:} $value]} {
            append out [::lanchat::emoji::chars $value]
        }
    }
    return $out
}
# `insert index text tags text tags...` where a pair (U+FDD0, [image name tags...]) is a
# picture. U+FDD0 is a Unicode noncharacter: text holding just that is still inserted as
# text, unless its tags also name one of our images.
proc ::lanchat::emoji::insert {widget index args} {
    if {[lsearch -exact $args \ufdd0] < 0} {
        return [$widget insert $index {*}$args]
    }
    set at ::lanchat::emoji::at
    $widget mark set $at $index
    $widget mark gravity $at right
    set run {}
    foreach {chars tags} $args {
        if {$chars eq "\ufdd0" && [string match lanchat_emoji_* [lindex $tags 0]]} {
            if {[llength $run]} {
                $widget insert $at {*}$run
                set run {}
            }
            $widget image create $at -image [lindex $tags 0] -name [lindex $tags 1] -align center -padx 1
            if {[llength $tags] > 2} {
                set here [$widget index "$at -1 indices"]
                foreach tag [lrange $tags 2 end] {
                    $widget tag add $tag $here
                }
            }
        } else {
            lappend run $chars $tags
        }
    }
    if {[llength $run]} {
        $widget insert $at {*}$run
    }
    $widget mark unset $at
    if {[info exists ::lanchat::emoji::most($widget)]} {
        ::lanchat::emoji::trim $widget $::lanchat::emoji::most($widget)
    }
}
# Each new picture costs Tk a look at every picture the widget holds (to keep names unique),
# so a transcript keeps at most `most` of them: past that, its oldest lines go, down to 90%.
proc ::lanchat::emoji::trim {widget most} {
    set count [llength [$widget image names]]
    if {$count <= $most} {
        return
    }
    set pictures [$widget dump -image 1.0 end]
    set last [lindex $pictures [expr {($count - $most * 9 / 10) * 3 - 1}]]
    $widget delete 1.0 "$last +1 lines linestart"
}
# Wraps the command of widget `w`: `get from to` gives the pictures' characters and, if
# `on_insert` is not empty, an insert with characters above U+00A8 goes to it.
proc ::lanchat::emoji::wrap {w on_insert} {
    set inner ::lanchat::emoji::inner$w
    rename ::$w $inner
    set body {
        if {$command eq "get" && [llength $args] == 2 && ![string match -* [lindex $args 0]]} {
            return [::lanchat::emoji::get INNER {*}$args]
        }
    }
    if {$on_insert ne ""} {
        append body {
            if {$command eq "insert" && [regexp {[^\u0000-\u00a8]} [lrange $args 1 end]]} {
                return [ON_INSERT INNER {*}$args]
            }
        }
    }
    append body {
        tailcall INNER $command {*}$args
    }
    proc ::$w {command args} [string map [list INNER [list $inner] ON_INSERT [list $on_insert]] $body]
    bind $w <Destroy> +[list ::lanchat::emoji::forget $w $inner]
    # X11's PRIMARY selection (middle-click paste): the selected text, pictures as characters.
    foreach type {UTF8_STRING STRING} {
        selection handle -selection PRIMARY -type $type $w [list ::lanchat::emoji::primary $w]
    }
    return $inner
}
proc ::lanchat::emoji::primary {w offset most} {
    if {[catch {::$w get sel.first sel.last} selected]} {
        return ""
    }
    return [string range $selected $offset [expr {$offset + $most - 1}]]
}
proc ::lanchat::emoji::forget {w inner} {
    catch {rename ::$w {}}
    if {[llength [info procs $inner]]} {
        rename $inner {}
    }
}
"""


def _load_helpers(widget: tk.Misc) -> None:
    if not widget.tk.call("info", "procs", _INSERT_PROC):
        widget.tk.eval(_TCL_HELPERS)


def with_pictures(widget: tk.Misc, flat: Sequence[object]) -> list[object] | None:
    """`flat` (``text, tags, text, tags...``) with each emoji as a picture marker, for
    ``::lanchat::emoji::insert``; None when there is no emoji in it (insert it as it is)."""
    joined = "".join(text for text in flat[::2] if isinstance(text, str))
    if joined.isascii():
        return None  # the common case: one look at the whole batch
    emoji = emoji_set()
    if not emoji.may_hold(joined):
        return None
    images = emoji_images(widget)
    out: list[object] = []
    for position in range(0, len(flat), 2):
        text = flat[position]
        tags = flat[position + 1] if position + 1 < len(flat) else ()
        if not isinstance(text, str) or not emoji.may_hold(text):
            out += [text, tags]
            continue
        tag_list = widget.tk.splitlist(tags) if isinstance(tags, str) else tuple(tags)  # type: ignore[arg-type]
        for chars, slot in split_emoji(text, emoji):
            if slot is None:
                out += [chars, tags]
            else:
                out += [_MARK, (images.image(slot), picture_name(chars, next(_SERIALS)), *tag_list)]
    return out


def insert_with_pictures(widget: tk.Misc, writer: str, index: str, flat: Sequence[object]) -> None:
    """Insert `flat` at `index` through the widget command `writer`, emoji as pictures."""
    _load_helpers(widget)
    marked = with_pictures(widget, flat)
    widget.tk.call(_INSERT_PROC, writer, index, *(flat if marked is None else marked))


def show_emoji_as_pictures(text: tk.Text, *, editable: bool = False, writer: str | None = None) -> None:
    """Make `text` read back its pictures' characters and, if `editable`, turn every emoji
    inserted into it (typed, pasted, picked) into a picture. `writer`: the command through
    which a transcript's own code inserts; the pictures inserted through it are bounded
    (`MOST_PICTURES`). Call once per widget."""
    _load_helpers(text)
    if writer is not None:
        text.tk.call("set", f"::lanchat::emoji::most({writer})", MOST_PICTURES)
        text.bind("<Destroy>", f"+unset -nocomplain ::lanchat::emoji::most({writer})")
    on_insert = ""
    if editable:

        def insert(inner: str, index: str, *flat: str) -> None:
            insert_with_pictures(text, inner, index, flat)

        on_insert = text.register(insert)
    text.tk.call("::lanchat::emoji::wrap", str(text), on_insert)


def install_insert_helper(widget: tk.Misc) -> str:
    """Define the Tcl helpers (once per interpreter); returns the insert command's name,
    for Tcl code that inserts batches itself."""
    _load_helpers(widget)
    return _INSERT_PROC


def find_text(text: tk.Text, pattern: str, start: str, *, backwards: bool = False) -> tuple[str, str] | None:
    """The next (or previous) match of `pattern` from `start`, ignoring case and wrapping
    around, as (first index, index after the match); None if there is none."""
    if not has_pictures(pattern):
        count = tk.IntVar(text)
        index = text.search(pattern, start, nocase=True, backwards=backwards, count=count)
        return (str(index), f"{index}+{count.get()}c") if index else None
    return _find_with_pictures(text, pattern, start, backwards)


def _find_with_pictures(text: tk.Text, pattern: str, start: str, backwards: bool) -> tuple[str, str] | None:
    """Search the widget's text with each picture read as its characters. Every character
    left in the widget is in the BMP (the rest are pictures), so a position in a text piece
    is its Tk column."""
    pieces: list[str] = []
    where: list[tuple[int, int]] = []  # (line, column) where each piece starts
    offsets: list[int] = []  # where each piece starts in the joined text
    is_picture: list[bool] = []
    offset = 0
    for key, value, index in text.dump("1.0", "end-1c", text=True, image=True):
        chars = value if key == "text" else chars_of_picture(value)
        if not chars:
            continue
        line, column = (int(part) for part in index.split("."))
        pieces.append(chars)
        where.append((line, column))
        offsets.append(offset)
        is_picture.append(key != "text")
        offset += len(chars)
    joined = "".join(pieces)
    lowered = joined.lower() if len(joined.lower()) == len(joined) else joined
    wanted = pattern.lower()

    def offset_of(index: str) -> int:
        line, column = (int(part) for part in text.index(index).split("."))
        piece = bisect.bisect_right(where, (line, column)) - 1
        if piece < 0:
            return 0
        if is_picture[piece]:
            return offsets[piece] + (0 if (line, column) == where[piece] else len(pieces[piece]))
        return offsets[piece] + min(column - where[piece][1], len(pieces[piece]))

    def index_of(position: int, after: bool) -> str:
        piece = bisect.bisect_right(offsets, position) - 1
        line, column = where[piece]
        if is_picture[piece]:
            return f"{line}.{column + 1 if after else column}"
        return f"{line}.{column + position - offsets[piece] + (1 if after else 0)}"

    origin = offset_of(start)
    if backwards:
        found = lowered.rfind(wanted, 0, origin + len(wanted) - 1)
        found = found if found >= 0 else lowered.rfind(wanted)
    else:
        found = lowered.find(wanted, origin)
        found = found if found >= 0 else lowered.find(wanted)
    if found < 0:
        return None
    return index_of(found, after=False), index_of(found + len(wanted) - 1, after=True)
