"""Scrolling to the top of a conversation shows the older messages kept here, a page at a time.

A transcript's scroll callback (Tcl, `gui.transcript_tcl`) asks for older lines when its view
reaches the top, once until they came; `OlderPages.wanted` reads the page before the oldest
one shown (`HistoryKeeper.older`: under 3 ms at a million messages, so on the main thread)
and inserts it above, keeping the line that was at the top where it was: the view does not
jump. A private conversation's pane shows its first page as soon as it opens (`added`, from
the chat view), above a divider as the room's earlier conversation is: older than the
message that opened it, if one did, so that message shows once, below.

A pane pages up until nothing older is kept, or as far as its scrollback allows (a transcript
holds at most that many lines: a page that would pass it is not read). Once new lines have
pushed its oldest ones out, the top is no longer where paging left off, so it stops there.
"""

from __future__ import annotations

import dataclasses
import tkinter as tk
from collections.abc import Callable

from gui.chat_wording import earlier_above
from gui.conversation import ConversationPane
from gui.history_keeper import HistoryKeeper
from gui.model.values import Line
from history import store

WANTED_COMMAND = "::lanchat::older_wanted"
PREPEND_PROC = "::lanchat::prepend_lines"

#: Inserts text+tags pairs above the first line and keeps the line that was at the top of the
#: view at the top; returns how many lines went in.
PREPEND_TCL = """
proc ::lanchat::prepend_lines {w args} {
    set real ::lanchat::real$w
    set top [lindex [split [$real index @0,0] .] 0]
    set before [lindex [split [$real index end-1c] .] 0]
    ::lanchat::emoji::insert $real 1.0 {*}$args
    set added [expr {[lindex [split [$real index end-1c] .] 0] - $before}]
    $real tag add line 1.0 [expr {$added + 1}].0
    $real yview [expr {$top + $added}].0
    return $added
}
"""


@dataclasses.dataclass
class _Paging:
    """How far one pane has paged up, in one session."""

    generation: int
    key: str
    before: store.StoredMessage | None
    first_shown: bool  # the pane shows the newest page (or the room's welcome did)
    done: bool = False


class OlderPages:
    """Answers the transcripts' requests for older lines (main thread only)."""

    def __init__(
        self,
        root: tk.Misc,
        keeper: HistoryKeeper,
        panes: Callable[[], dict[str | None, ConversationPane]],
    ) -> None:
        self._keeper = keeper
        self._panes = panes  # the chat view's panes by conversation (none without a chat view)
        self._paging: dict[str, _Paging] = {}  # by the text widget's path
        root.tk.createcommand(WANTED_COMMAND, self.wanted)
        if not root.tk.call("info", "procs", PREPEND_PROC):
            root.tk.eval(PREPEND_TCL)

    def added(self, conversation: str | None, pane: ConversationPane) -> None:
        """A private pane just opened: note where it pages up from (older than what the batch
        that opened it brought, which it shows), before later batches move that on."""
        if conversation is not None:  # shown at once: its tab may stay in the background
            path = str(pane.text)
            self._start(path, conversation, pane)
            self._show_older(path, conversation, pane)

    def load_until(self, conversation: str | None, pane: ConversationPane, when: float) -> None:
        """Page up the transcript until it shows what was said at `when` (or can show no more)."""
        path = str(pane.text)
        paging = self._paging.get(path)
        if self._stale(paging):
            paging = self._start(path, conversation, pane)
        while paging is not None and not paging.done and (paging.before is None or paging.before.time > when):
            self._show_older(path, conversation, pane)

    def wanted(self, path: str) -> None:
        """The transcript `path` shows its top: put the page before it above, if there is one."""
        found = next(((k, p) for k, p in self._panes().items() if str(p.text) == path), None)
        if found is None:
            return  # closed meanwhile; its Tcl state went with it
        conversation, pane = found
        try:
            self._show_older(path, conversation, pane)
        finally:
            pane.tk.call("unset", "-nocomplain", f"::lanchat::older_asked({path})")

    def _show_older(self, path: str, conversation: str | None, pane: ConversationPane) -> None:
        paging = self._paging.get(path)
        if self._stale(paging):
            paging = self._start(path, conversation, pane)
        if paging is None or paging.done:
            return  # nothing kept here (yet: ask again when welcomed), or nothing more
        if pane.tk.getboolean(pane.tk.call("info", "exists", f"::lanchat::trimmed({path})")):
            paging.done = True  # the oldest lines were pushed out: the top is not where we were
            return
        room = pane.scrollback - pane.line_count() - 1
        page = self._keeper.older(paging.key, paging.before, min(store.PAGE, room))
        if len(page) < store.PAGE:
            paging.done = True
        if not page:
            return
        paging.before = page[0]
        lines = [_line(message) for message in page]
        if not paging.first_shown:  # a private pane's earlier conversation: above a divider
            paging.first_shown = True
            lines.append(Line("system", earlier_above(), page[-1].time))
        pane.tk.call(PREPEND_PROC, path, *pane.older_segments(lines))

    def _stale(self, paging: _Paging | None) -> bool:
        """Whether `paging` must start again: it is of an earlier session (an IP Messenger
        conversation's is never: `generation` -1)."""
        return paging is None or paging.generation not in (-1, self._keeper.generation)

    def _start(self, path: str, conversation: str | None, pane: ConversationPane) -> _Paging | None:
        key = self._keeper.conversation_key(conversation)
        if key is None:
            return None
        before, first_shown = self._keeper.start_of(conversation)
        if path not in self._paging:
            pane.text.bind("<Destroy>", lambda _e: self._paging.pop(path, None), add="+")
        generation = self._keeper.generation if self._keeper.session_bound(conversation) else -1
        paging = self._paging[path] = _Paging(generation, key, before, first_shown)
        paging.done = first_shown and before is None
        return paging


def _line(message: store.StoredMessage) -> Line:
    return Line(
        "action" if message.action else "message", message.body, message.time, message.sender, message.own
    )
