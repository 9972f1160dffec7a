"""One conversation's transcript: the room or a private chat, as a read-only Text widget.

Built for bursts: a whole batch of lines goes in with *one* ``insert`` call (text and tags
interleaved, so no index arithmetic — see `gui.textparts`), followed by one trim of the
oldest lines past the scrollback cap and at most one ``see("end")``. Tags are few and
shared (time, system, nick0..nick11, own, pending, mark, link, mention, ...), and none is
per item: an own message not yet acknowledged is found again by a Tk mark, ``pend:<id>``
(the outbox bounds those). Such a message ends with a mark of how its delivery stands
("sending…"), which `mark_delivered` or `mark_failed` replaces; the Tcl side is in
`gui.transcript_tcl`.
"""

from __future__ import annotations

import functools
import time
import tkinter as tk
import webbrowser
from collections.abc import Callable
from tkinter import font as tkfont
from tkinter import ttk

from gui.emoji import label_text
from gui.emoji.tktext import find_text, install_insert_helper, show_emoji_as_pictures, with_pictures
from gui.i18n import tr
from gui.model.values import Line
from gui.palette import Palette
from gui.textparts import colour_index, link_target, split_parts
from gui.transcript_tcl import (
    APPEND_PROC,
    AT_END_PROC,
    FOLLOW_PROC,
    FORGET_MARKS_PROC,
    KEEP_END_PROC,
    READ_ONLY_PROC,
    SCROLLED_PROC,
    SETTLE_PROC,
    tcl_source,
)


def typing_sentence(names: list[str]) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return tr("{name} is typing…").format(name=names[0])
    if len(names) == 2:
        return tr("{first} and {second} are typing…").format(first=names[0], second=names[1])
    return tr("Several people are typing…")


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
        if not self.tk.call("info", "procs", APPEND_PROC):
            self.tk.eval(tcl_source())
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
        self.scrollbar = ttk.Scrollbar(self, orient="vertical", command=self.text.yview)
        self.text.grid(row=1, column=0, sticky="nsew")
        self.scrollbar.grid(row=1, column=1, sticky="ns")
        # Below the text, never over it: a widget placed over a Text is smeared across it
        # when the Text scrolls by copying its pixels (as on Windows). The typing notice and
        # the marker share a row that keeps the marker's height, so showing it moves nothing.
        self.typing_label = ttk.Label(self, style="Typing.TLabel", text="", padding=(14, 0, 0, 0))
        self.typing_label.grid(row=2, column=0, sticky="w")
        self.marker = ttk.Button(self, style="Marker.TButton", command=self.scroll_to_end)
        self.marker.grid(row=2, column=0, columnspan=2, sticky="e", pady=(2, 0))
        self.marker.grid_remove()
        self._writer = str(self.tk.call(READ_ONLY_PROC, self.text, self.marker))  # the real command
        show_emoji_as_pictures(self.text, writer=self._writer)  # get, copy: the emoji's characters
        # Pure Tcl, so redraws never wait for Python (see gui.transcript_tcl).
        self.text.configure(yscrollcommand=f"{SCROLLED_PROC} {self.text} {self.scrollbar}")
        self.bind("<Map>", lambda _e: self.tk.call(KEEP_END_PROC, self.text), add="+")
        self._typists: list[str] = []

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
        text.tag_configure("mark", foreground=p.muted, font="LanChatSmall")
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
        # Only ever on for an instant, inside one Tcl call (see gui.transcript_tcl): it exists
        # for its side effect, a geometry change that makes Tk drop its layout of the lines shown.
        text.tag_configure("relayout", spacing1=0)
        text.tag_lower("relayout")
        text.tag_raise("sel")
        text.tag_raise("found")
        self._reserve_marker_row()

    def apply_texts(self) -> None:
        self.marker.configure(text=tr("New messages below ↓"))
        self.find_label.configure(text=tr("Find:"))
        self.find_next_button.configure(text=tr("Next"))
        self.find_close_button.configure(text=tr("Close"))
        if self.find_status.cget("text"):  # it says nothing or "Not found"
            self.find_status.configure(text=tr("Not found"))
        self.show_typing(self._typists)
        self._reserve_marker_row()

    def show_typing(self, names: list[str]) -> None:
        """Say below the transcript who is typing (nobody: nothing)."""
        self._typists = names
        self.typing_label.configure(text=typing_sentence([label_text(name) for name in names]))

    def _reserve_marker_row(self) -> None:
        """The row below the text keeps the marker's height whether it shows or not."""
        self.rowconfigure(2, minsize=self.marker.winfo_reqheight() + 2)

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
        pending = tuple(line.local_id for line in lines if line.local_id is not None)
        followed = self.tk.call(APPEND_PROC, str(self.text), self.scrollback, pending, *segments)
        self.lines_added += len(lines)
        if not self.tk.getboolean(followed):
            self._show_marker()

    def older_segments(self, lines: list[Line]) -> list[object]:
        """Text and tags of `lines` to go above the first line (`gui.older_pages` inserts them)."""
        last_day, self._last_day = self._last_day, ""
        segments: list[object] = []
        for line in lines:
            self._segments(line, segments)
        self._last_day = last_day  # the day of the newest line, which later lines follow
        return with_pictures(self.text, segments) or segments

    def _segments(self, line: Line, out: list[object]) -> None:
        day, stamp = _day_and_time(line.time)
        if day != self._last_day:
            if self._last_day:
                out += [f"— {day} —\n", ("day",)]
            self._last_day = day
        # "line" is added to the whole batch by the Tcl helper; plain lines carry few tags,
        # because every tag on every segment costs Tk a B-tree update.
        base: tuple[str, ...] = ("own",) if line.own else ()
        if line.local_id is None:
            out += [stamp + "  ", (*base, "time")]
        else:  # the Tcl side marks the message where "newpend" starts (see gui.transcript_tcl)
            base = (*base, "pending")
            out += [stamp + "  ", (*base, "time", "newpend")]
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
        if len(parts) == 1 and not line.mark:
            out += [lead + line.text + "\n", body_tags]
            return
        out += [lead, body_tags]
        for chunk, kind in parts:
            out += [chunk, (*body_tags, kind) if kind else body_tags]
        if line.mark:  # how our message's delivery stands, replaced when it is settled
            out += ["  " + line.mark, (*base, "mark")]
        out += ["\n", body_tags]

    @property
    def writer(self) -> str:
        """The Text's real command: what inserts into the read-only transcript (file cards)."""
        return self._writer

    def line_count(self) -> int:
        """Lines currently held (the scrollback cap bounds it)."""
        return int(self.text.index("end-1c").split(".")[0]) - 1

    def content(self) -> str:
        return self.text.get("1.0", "end-1c")

    def clear(self) -> None:
        self.tk.call(self._writer, "delete", "1.0", "end")
        self.tk.call(FORGET_MARKS_PROC, self.text)
        self._last_day = ""
        self.tk.call(FOLLOW_PROC, self.text, 1)

    # -- delivery marks -----------------------------------------------------------------

    def mark_delivered(self, local_id: str, when: float, mark: str, again: str = "") -> bool:
        """The host took our message `local_id` at `when`: its mark becomes `mark` and its time
        the host's (the time everyone else sees; it was the time it was typed). With `again`
        it can be marked once more under that id (held for a member who is away)."""
        stamp = _day_and_time(when)[1] + "  "
        return self._settle(local_id, mark, ("mark",), stamp, "", again)

    def mark_failed(self, local_id: str, mark: str) -> bool:
        """Our message `local_id` will not be delivered: its mark becomes `mark` (why)."""
        return self._settle(local_id, mark, ("mark", "failnote"), "", "failed")

    def _settle(
        self, local_id: str, mark: str, mark_tags: tuple[str, ...], stamp: str, body: str, again: str = ""
    ) -> bool:
        settled = self.tk.call(SETTLE_PROC, self.text, local_id, "  " + mark, mark_tags, stamp, body, again)
        return self.tk.getboolean(settled)

    def pending_ids(self) -> list[str]:
        return [name[5:] for name in self.text.mark_names() if name.startswith("pend:")]

    # -- scrolling ------------------------------------------------------------------------

    def at_bottom(self) -> bool:
        """Whether the last line is wholly on screen."""
        return self.tk.getboolean(self.tk.call(AT_END_PROC, self.text))

    def following(self) -> bool:
        """Whether new lines scroll into view (until the user scrolls away from the end)."""
        return self.tk.getboolean(self.tk.getvar(f"::lanchat::following({self.text})"))

    def scroll_to_end(self) -> None:
        self.tk.call(self._writer, "see", "end")
        self.tk.call(FOLLOW_PROC, self.text, 1)

    def marker_visible(self) -> bool:
        return self.marker.winfo_manager() != ""

    def _show_marker(self) -> None:
        if not self.marker_visible():
            self.marker.grid()

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
