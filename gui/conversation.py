"""One conversation's transcript: the room or a private chat, as a read-only Text widget.

Built for bursts: a whole batch of lines goes in with *one* ``insert`` call (text and tags
interleaved, so no index arithmetic — see `gui.textparts`), followed by one trim of the
oldest lines past the scrollback cap and at most one ``see("end")``. Tags are few and
shared (time, system, nick0..nick11, own, pending, link, mention, ...); the only per-item
tags are ``pend:<id>`` on own messages not yet acknowledged, and the outbox bounds those.
"""

from __future__ import annotations

import functools
import time
import tkinter as tk
import webbrowser
from collections.abc import Callable
from tkinter import font as tkfont
from tkinter import ttk

from gui.emoji.tktext import find_text, install_insert_helper, show_emoji_as_pictures, with_pictures
from gui.i18n import tr
from gui.model.values import Line
from gui.palette import Palette
from gui.textparts import colour_index, link_target, split_parts


def typing_sentence(names: list[str]) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return tr("{name} is typing…").format(name=names[0])
    if len(names) == 2:
        return tr("{first} and {second} are typing…").format(first=names[0], second=names[1])
    return tr("Several people are typing…")


#: Batches of at least this many insert arguments (text and tags: 6 per plain line) first
#: drop Tk's layout of the lines on screen (see `_TCL_HELPERS`).
RELAYOUT_FROM = 24
_APPEND_PROC = "::lanchat::append_lines"
_SCROLLED_PROC = "::lanchat::scrolled"
_READ_ONLY_PROC = "::lanchat::make_read_only"
#: Tcl helpers for the transcript. Speed matters here, for two reasons found by measuring:
#: every call from Python into Tcl releases the GIL (and waits to get it back from busy
#: network threads), so a whole batch is one call; and reconfiguring a Text (the usual
#: ``-state normal``/``disabled`` toggle around an insert) re-lays-out every line it holds
#: — 20 times the cost of the insert itself at 5,000 lines. So the widget stays "normal"
#: and is made read-only by a proxy command that refuses insert/delete from bindings (the
#: user's typing, paste), while our own code writes through the real command.
_TCL_HELPERS = """
namespace eval ::lanchat {
    variable relayout_from RELAYOUT_FROM
}
proc ::lanchat::make_read_only {w} {
    rename $w ::lanchat::real$w
    proc ::$w {command args} [string map [list REAL ::lanchat::real$w] {
        switch -- $command {
            insert - delete - replace { return }
        }
        tailcall REAL $command {*}$args
    }]
    bind $w <Destroy> [list ::lanchat::forget $w]
    return ::lanchat::real$w
}
proc ::lanchat::forget {w} {
    catch {rename ::$w {}}
}
# Appends text+tags pairs, trims to `cap` lines, and scrolls to the end if the view was at
# the end before; returns whether it was (if not, Python shows the marker).
#
# Two more savings, both measured (CPU time, 400 lines into a full 5,000-line transcript):
# - While Tk holds the layout of the lines on screen (it does after every redraw and every
#   `see`), every insert operation (one per text+tags pair) walks it and lays out the last
#   line on screen again: 7.6 ms for the 400 lines, against 2.3 ms without it. Tagging the
#   lines on screen with a tag that affects geometry (and untagging them) drops that layout
#   in 0.05 ms; it is redone at the next redraw anyway (when following, the view moves to
#   the new end). Skipped for a line or two, where it would save less than it costs.
# - The "line" tag (margins, spacing) goes on the whole batch at once: one tag application
#   instead of one per segment.
proc ::lanchat::append_lines {w cap args} {
    set real ::lanchat::real$w
    set follow [expr {[lindex [$real yview] 1] >= 0.999}]
    if {[llength $args] >= $::lanchat::relayout_from && [winfo ismapped $w]} {
        set shown [list [$real index @0,0] [$real index "@0,[winfo height $w] +1 lines"]]
        $real tag add relayout {*}$shown
        $real tag remove relayout {*}$shown
    }
    set first [$real index end-1c]
    ::lanchat::emoji::insert $real end-1c {*}$args
    $real tag add line $first end-1c
    # Every line ends with a newline, so end-1c sits on an empty line after the last one.
    set lines [expr {[lindex [split [$real index end-1c] .] 0] - 1}]
    if {$lines > $cap} {
        $real delete 1.0 [expr {$lines - $cap + 1}].0
    }
    if {$follow} {
        $real see end
    }
    return $follow
}
# The text's -yscrollcommand: move the scrollbar; at the end, hide the "new messages" marker.
proc ::lanchat::scrolled {scrollbar marker first last} {
    $scrollbar set $first $last
    if {$last >= 0.999 && [winfo manager $marker] eq "place"} {
        place forget $marker
    }
}
"""


class ConversationPane(ttk.Frame):
    """The transcript of one conversation, with a find bar and a "new messages below" marker."""

    def __init__(
        self,
        master: tk.Misc,
        palette: Palette,
        scrollback: int,
        *,
        open_link: Callable[[str], object] = webbrowser.open,
    ) -> None:
        super().__init__(master)
        self.scrollback = scrollback
        self.own_nick = ""
        self.highlight_mentions = True
        self.lines_added = 0  # every line ever shown here (trimmed or not); tests and benchmarks
        self._open_link = open_link
        self._last_day = ""
        self._palette = palette

        install_insert_helper(self)  # emoji pictures: `::lanchat::emoji::insert`
        if not self.tk.call("info", "procs", _APPEND_PROC):
            self.tk.eval(_TCL_HELPERS.replace("RELAYOUT_FROM", str(RELAYOUT_FROM)))
        self.columnconfigure(0, weight=1)
        self.rowconfigure(1, weight=1)
        self._build_find_bar()
        self.text = tk.Text(
            self,
            wrap="word",
            width=40,  # a small request: the window's size decides
            height=10,
            undo=False,
            insertwidth=0,  # read-only: no blinking insertion cursor
            borderwidth=0,
            highlightthickness=0,
            padx=14,
            pady=10,
            font="LanChatBody",
            cursor="xterm",
            takefocus=True,
        )
        self._writer = str(self.tk.call(_READ_ONLY_PROC, self.text))  # the real widget command
        show_emoji_as_pictures(self.text, writer=self._writer)  # get, copy: the emoji's characters
        self.scrollbar = ttk.Scrollbar(self, orient="vertical", command=self.text.yview)
        self.marker = ttk.Button(self, style="Marker.TButton", command=self.scroll_to_end)
        self.marker_name = str(self.marker)
        # Pure Tcl, so redraws never wait for Python (see _TCL_HELPERS).
        self.text.configure(yscrollcommand=f"{_SCROLLED_PROC} {self.scrollbar} {self.marker_name}")
        self.text.grid(row=1, column=0, sticky="nsew")
        self.scrollbar.grid(row=1, column=1, sticky="ns")
        self.typing_label = ttk.Label(self, style="Typing.TLabel", text="", padding=(14, 0, 0, 0))
        self.typing_label.grid(row=2, column=0, columnspan=2, sticky="w")

        self.text.bind("<Button-1>", lambda _e: self.text.focus_set(), add="+")
        self.text.bind("<Button-3>", self._context_menu)
        self.text.tag_bind("link", "<Enter>", lambda _e: self.text.configure(cursor="hand2"))
        self.text.tag_bind("link", "<Leave>", lambda _e: self.text.configure(cursor="xterm"))
        self.text.tag_bind("link", "<ButtonRelease-1>", self._on_link_click)
        self.apply_palette(palette)
        self.apply_texts()

    # -- appearance ---------------------------------------------------------------------

    def apply_palette(self, palette: Palette) -> None:
        self._palette = palette
        p = palette
        text = self.text
        text.configure(
            background=p.surface,
            foreground=p.text,
            insertbackground=p.text,
            selectbackground=p.select_bg,
            selectforeground=p.text,
            inactiveselectbackground=p.select_bg,
        )
        indent = tkfont.nametofont("LanChatBody").measure("00:00  ")
        text.tag_configure("line", lmargin2=indent, spacing1=3, spacing3=3)
        text.tag_configure("time", foreground=p.muted, font="LanChatSmall")
        for index, colour in enumerate(p.nick_colours):  # bold and coloured: one tag per nick
            text.tag_configure(f"nick{index}", foreground=colour, font="LanChatBold")
        text.tag_configure("own", background=p.own_bg)
        text.tag_configure("pending", foreground=p.muted)
        text.tag_configure("failed", foreground=p.error, overstrike=True)
        text.tag_configure("failnote", foreground=p.error, font="LanChatSmall")
        text.tag_configure("action", font="LanChatItalic")
        text.tag_configure("system", foreground=p.muted, font="LanChatSmallItalic")
        text.tag_configure("error", foreground=p.error)
        text.tag_configure(
            "day", foreground=p.muted, font="LanChatSmall", justify="center", spacing1=8, spacing3=4
        )
        text.tag_configure("link", foreground=p.link, underline=True)
        text.tag_configure("mention", background=p.mention_bg)
        text.tag_configure("found", background=p.found_bg)
        # Only ever on for an instant, inside one Tcl call (see _TCL_HELPERS): it exists for
        # its side effect, a geometry change that makes Tk drop its layout of the visible lines.
        text.tag_configure("relayout", spacing1=0)
        text.tag_lower("relayout")
        text.tag_raise("sel")
        text.tag_raise("found")

    def apply_texts(self) -> None:
        self.marker.configure(text=tr("New messages below ↓"))
        self.find_label.configure(text=tr("Find:"))
        self.find_next_button.configure(text=tr("Next"))
        self.find_close_button.configure(text=tr("Close"))

    # -- adding lines -------------------------------------------------------------------

    def add_lines(self, lines: list[Line]) -> None:
        """Show `lines` at the end: one insert, one trim, one scroll — in a single Tcl call.

        Every call into Tcl releases Python's GIL, and getting it back can take a thread
        switch interval while network threads are busy; so the whole update is one call.
        """
        if not lines:
            return
        segments: list[object] = []
        for line in lines:
            self._segments(line, segments)
        segments = with_pictures(self.text, segments) or segments  # emoji as pictures
        followed = self.tk.call(_APPEND_PROC, str(self.text), self.scrollback, *segments)
        self.lines_added += len(lines)
        if not self.tk.getboolean(followed):
            self._show_marker()

    def _segments(self, line: Line, out: list[object]) -> None:
        day, stamp = _day_and_time(line.time)
        if day != self._last_day:
            if self._last_day:
                out += [f"— {day} —\n", ("day",)]
            self._last_day = day
        # "line" is added to the whole batch by the Tcl helper; plain lines carry few tags,
        # because every tag on every segment costs Tk a B-tree update.
        base: tuple[str, ...] = ("own",) if line.own else ()
        if line.local_id is not None:
            base = (*base, "pending", f"pend:{line.local_id}")
        out += [stamp + "  ", (*base, "time")]
        if line.kind in ("system", "error"):
            out += [line.text + "\n", (*base, line.kind)]
            return
        nick_tag = f"nick{colour_index(line.sender, len(self._palette.nick_colours))}"
        mention = None if line.own or not self.highlight_mentions else self.own_nick
        # Separators and the newline ride along with their neighbours: fewer segments, less Tcl work.
        if line.kind == "action":
            body_tags: tuple[str, ...] = (*base, "action")
            out += ["* ", body_tags, line.sender, (*body_tags, nick_tag)]
            lead = " "
        else:
            body_tags = base
            out += [line.sender, (*base, nick_tag)]
            lead = "  "
        parts = split_parts(line.text, mention)
        if len(parts) == 1:
            out += [lead + line.text + "\n", body_tags]
            return
        out += [lead, body_tags]
        for chunk, kind in parts:
            out += [chunk, (*body_tags, kind) if kind else body_tags]
        out += ["\n", body_tags]

    def line_count(self) -> int:
        """Lines currently held (the scrollback cap bounds it)."""
        return int(self.text.index("end-1c").split(".")[0]) - 1

    def content(self) -> str:
        return self.text.get("1.0", "end-1c")

    def clear(self) -> None:
        self.tk.call(self._writer, "delete", "1.0", "end")
        self._last_day = ""
        self._hide_marker()

    # -- delivery marks -----------------------------------------------------------------

    def mark_delivered(self, local_id: str) -> bool:
        tag = f"pend:{local_id}"
        ranges = self.text.tag_ranges(tag)
        if ranges:
            self.text.tag_remove("pending", ranges[0], ranges[-1])
        self.text.tag_delete(tag)
        return bool(ranges)

    def mark_failed(self, local_id: str, note: str) -> bool:
        tag = f"pend:{local_id}"
        ranges = self.text.tag_ranges(tag)
        if ranges:
            text = self.text
            text.tag_remove("pending", ranges[0], ranges[-1])
            stamp = len("00:00  ")  # the time stays readable; the message is struck through
            text.tag_add("failed", f"{ranges[0]}+{stamp}c", f"{ranges[-1]}-1c")
            self.tk.call(self._writer, "insert", f"{ranges[-1]}-1c", "  ⚠ " + note, ("line", "failnote"))
        self.text.tag_delete(tag)
        return bool(ranges)

    def pending_ids(self) -> list[str]:
        return [
            name[5:]
            for name in self.text.tag_names()
            if name.startswith("pend:") and self.text.tag_ranges(name)
        ]

    # -- scrolling ------------------------------------------------------------------------

    def at_bottom(self) -> bool:
        return self.text.yview()[1] >= 0.999

    def scroll_to_end(self) -> None:
        self.text.see("end")
        self._hide_marker()

    def marker_visible(self) -> bool:
        return self.marker.winfo_manager() == "place"

    def _show_marker(self) -> None:
        if not self.marker_visible():
            self.marker.place(relx=0.5, rely=1.0, y=-30, anchor="s")
            self.marker.lift()

    def _hide_marker(self) -> None:
        self.marker.place_forget()

    # -- links, copying, finding ------------------------------------------------------------

    def link_at(self, index: str) -> str | None:
        """The URL under the text index `index`, if any."""
        if "link" not in self.text.tag_names(index):
            return None
        found = self.text.tag_prevrange("link", f"{index}+1c")
        if not found:
            return None
        start, end = found
        return self.text.get(start, end)

    def _on_link_click(self, event: tk.Event) -> None:
        if self.text.tag_ranges("sel"):
            return  # the user was selecting text, not clicking the link
        url = self.link_at(self.text.index(f"@{event.x},{event.y}"))
        if url:
            self._open_link(link_target(url))

    def copy_selection(self) -> str:
        """Put the selected text on the clipboard (also bound to Ctrl+C by Tk); returns it."""
        try:
            selected = self.text.get("sel.first", "sel.last")
        except tk.TclError:
            return ""
        self.clipboard_clear()
        self.clipboard_append(selected)
        return selected

    def _context_menu(self, event: tk.Event) -> None:
        menu = tk.Menu(self, tearoff=False)
        menu.add_command(label=tr("Copy"), command=self.copy_selection)
        menu.add_command(label=tr("Select all"), command=lambda: self.text.tag_add("sel", "1.0", "end-1c"))
        menu.add_command(label=tr("Find…"), command=self.show_find)
        menu.tk_popup(event.x_root, event.y_root)

    def _build_find_bar(self) -> None:
        bar = self.find_bar = ttk.Frame(self, padding=(8, 6))
        self.find_label = ttk.Label(bar)
        self.find_var = tk.StringVar(self)
        self.find_entry = ttk.Entry(bar, textvariable=self.find_var, width=28)
        self.find_next_button = ttk.Button(bar, command=self.find_next)
        self.find_close_button = ttk.Button(bar, command=self.hide_find)
        self.find_status = ttk.Label(bar, style="Muted.TLabel")
        self.find_label.pack(side="left", padx=(4, 6))
        self.find_entry.pack(side="left")
        self.find_next_button.pack(side="left", padx=6)
        self.find_close_button.pack(side="left")
        self.find_status.pack(side="left", padx=8)
        self.find_entry.bind("<Return>", lambda _e: self.find_next())
        self.find_entry.bind("<Shift-Return>", lambda _e: self.find_next(backwards=True))
        self.find_entry.bind("<Escape>", lambda _e: self.hide_find())
        self._find_from = "1.0"

    def show_find(self) -> None:
        self.find_bar.grid(row=0, column=0, columnspan=2, sticky="ew")
        self.find_entry.focus_set()
        self.find_entry.select_range(0, "end")

    def hide_find(self) -> None:
        self.find_bar.grid_remove()
        self.text.tag_remove("found", "1.0", "end")
        self.find_status.configure(text="")

    def find_next(self, backwards: bool = False) -> str | None:
        """Select the next match of the find text (wrapping around); returns its index."""
        pattern = self.find_var.get()
        self.text.tag_remove("found", "1.0", "end")
        if not pattern:
            return None
        start = self._find_from if not backwards else f"{self._find_from}-1c"
        found = find_text(self.text, pattern, start, backwards=backwards)  # emoji too
        if not found:
            self.find_status.configure(text=tr("Not found"))
            return None
        index, end = found
        self.text.tag_add("found", index, end)
        self.text.see(index)
        self._find_from = end if not backwards else index
        self.find_status.configure(text="")
        return index


@functools.lru_cache(maxsize=256)
def _minute_stamp(minute: int) -> tuple[str, str]:
    moment = time.localtime(minute * 60)
    return time.strftime("%Y-%m-%d", moment), time.strftime("%H:%M", moment)


def _day_and_time(when: float) -> tuple[str, str]:
    """The local date and HH:MM of a time (memoised per minute: bursts share a few minutes)."""
    return _minute_stamp(int(when // 60))
