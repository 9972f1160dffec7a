"""Ctrl+Shift+F: search every kept conversation, go to a result or read it in a preview.

`HistorySearch` (owned by the window) binds the key, opens one `SearchDialog` at a time,
sends what is typed to the `HistorySearcher` thread and shows the `SearchResults` the window's
event bridge brings back (`handle`). A result from a conversation this window shows (the
room, or a private tab that is open) is gone to on a double-click: its transcript pages up
(`OlderPages.load_until`) until the message is there, which is selected and scrolled into
view; any other result, or one older than a transcript can hold, is shown in the preview
with the messages around it (`store.around`, an indexed read, fine on the main thread).
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from gui.conversation import ConversationPane
from gui.emoji.tktext import find_text
from gui.history_keeper import HistoryKeeper
from gui.history_search import HistorySearcher, SearchResults
from gui.i18n import tr
from gui.lifetime import destroy_now
from gui.older_pages import OlderPages
from history import store

#: Matches of a result's text looked at in a transcript before giving up (then: the preview).
MAX_LOOKS = 200
#: How much of a message a result's row shows.
ROW_TEXT = 160


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def _conversation(hit: store.Hit) -> str:
    return ("@ " if hit.message.conversation.startswith(("private:", "ipmsg:")) else "# ") + hit.title


class SearchDialog(tk.Toplevel):
    """The search window: a query, the results (conversation, sender, time, text), a preview."""

    def __init__(
        self, master: tk.Misc, on_search: Callable[[str], object], on_go: Callable[[store.Hit], bool]
    ):
        super().__init__(master)
        self.title(tr("Search conversations"))
        self.transient(master.winfo_toplevel())
        self.configure(background=ttk.Style(self).lookup("TFrame", "background"))
        top = master.winfo_toplevel()  # over the window, a little down from its top
        self.geometry(f"760x480+{top.winfo_rootx() + 40}+{top.winfo_rooty() + 60}")
        self.minsize(480, 320)
        self._on_search = on_search
        self._on_go = on_go
        self.hits: list[store.Hit] = []
        self.columnconfigure(0, weight=1)
        self.rowconfigure(2, weight=3)
        self.rowconfigure(3, weight=2)

        bar = ttk.Frame(self, padding=(12, 12, 12, 6))
        bar.grid(row=0, column=0, sticky="ew")
        bar.columnconfigure(0, weight=1)
        self.query = ttk.Entry(bar)
        self.query.grid(row=0, column=0, sticky="ew")
        self.search_button = ttk.Button(bar, text=tr("Search"), style="Accent.TButton", command=self.search)
        self.search_button.grid(row=0, column=1, padx=(8, 0))
        self.status = ttk.Label(self, padding=(12, 0, 12, 4), text=tr("Double-click a result to go to it."))
        self.status.grid(row=1, column=0, sticky="ew")

        columns = ("conversation", "sender", "time", "text")
        self.results = ttk.Treeview(self, columns=columns, show="headings", selectmode="browse")
        for column, heading, width, stretch in (
            ("conversation", tr("Conversation"), 140, False),
            ("sender", tr("From"), 100, False),
            ("time", tr("Time"), 150, False),
            ("text", tr("Message"), 300, True),
        ):
            self.results.heading(column, text=heading, anchor="w")
            self.results.column(column, width=width, stretch=stretch, anchor="w")
        self.results.grid(row=2, column=0, sticky="nsew", padx=12)
        self.results.bind("<Double-1>", self._on_double_click)
        self.results.bind("<Return>", lambda _e: self.go_to_selected())

        self.preview = tk.Text(
            self, height=6, wrap="word", borderwidth=0, padx=10, pady=6, font="LanChatBody"
        )
        self.preview.grid(row=3, column=0, sticky="nsew", padx=12, pady=(8, 12))
        self.preview.tag_configure("found", font="LanChatBold")
        self.preview.configure(state="disabled")

        self.query.bind("<Return>", lambda _e: self.search())
        self.bind("<Escape>", lambda _e: destroy_now(self))

    def search(self) -> None:
        text = self.query.get().strip()
        if text:
            self.status.configure(text=tr("Searching…"))
            self._on_search(text)

    def show(self, results: SearchResults) -> None:
        """Show `results`, unless they answer an older query than the one in the field."""
        if results.text != self.query.get().strip():
            return
        self.hits = list(results.hits)
        self.results.delete(*self.results.get_children())
        for index, hit in enumerate(self.hits):
            text = " ".join(hit.message.body.split())[:ROW_TEXT]
            values = (_conversation(hit), hit.message.sender, _when(hit.message.time), text)
            self.results.insert("", "end", iid=str(index), values=values)
        if results.failed:
            self.status.configure(text=tr("The history could not be read."))
        elif not self.hits:
            self.status.configure(text=tr("No message found."))
        else:
            self.status.configure(
                text=tr("Found: {count}. Double-click a result to go to it.").format(count=len(self.hits))
            )

    def _on_double_click(self, event: tk.Event) -> str:
        row = self.results.identify_row(event.y)
        if row:
            self.results.selection_set(row)
            self.go_to_selected()
        return "break"

    def go_to_selected(self) -> None:
        selected = self.results.selection()
        if selected:
            self._on_go(self.hits[int(selected[0])])

    def show_preview(self, hit: store.Hit, around: list[store.StoredMessage]) -> None:
        """The messages around `hit` (in its conversation), the hit itself in bold."""
        self.preview.configure(state="normal")
        self.preview.delete("1.0", "end")
        for message in around:
            line = f"{_when(message.time)}  {message.sender}  {message.body}\n"
            self.preview.insert("end", line, ("found",) if message.row == hit.message.row else ())
        self.preview.configure(state="disabled")
        found = self.preview.tag_ranges("found")
        if found:
            self.preview.see(found[0])


class HistorySearch:
    """The window's search: Ctrl+Shift+F, one dialog, one searcher thread (`close` joins it)."""

    def __init__(
        self,
        root: tk.Tk,
        keeper: HistoryKeeper,
        post: Callable[[object], None],
        older: OlderPages,
        panes: Callable[[], dict[str | None, ConversationPane]],
        select: Callable[[ConversationPane], object],
    ) -> None:
        self._root = root
        self._keeper = keeper
        self._older = older
        self._panes = panes
        self._select = select  # shows a pane's tab
        path = keeper.path
        self._searcher = HistorySearcher(path, post) if path is not None else None
        self.dialog: SearchDialog | None = None
        for sequence in ("<Control-Shift-F>", "<Control-Shift-f>"):
            root.bind_all(sequence, lambda _e: self.open())

    def open(self) -> str:
        if self.dialog is None or not self.dialog.winfo_exists():
            self.dialog = SearchDialog(self._root, self._search, self.go_to)
            if self._searcher is None:
                self.dialog.status.configure(
                    text=tr("This window keeps no history: there is nothing to search.")
                )
        self.dialog.deiconify()
        self.dialog.lift()
        self.dialog.query.focus_set()
        return "break"

    def _search(self, text: str) -> None:
        if self._searcher is not None:
            self._searcher.search(text)

    def handle(self, batch: list[object]) -> None:
        """The window's events: show the search results among them."""
        for event in batch:
            if isinstance(event, SearchResults) and self.dialog is not None and self.dialog.winfo_exists():
                self.dialog.show(event)

    def go_to(self, hit: store.Hit) -> bool:
        """Go to `hit` in its transcript if this window shows its conversation, else preview it;
        returns whether it went."""
        for conversation, pane in self._panes().items():
            if self._keeper.conversation_key(conversation) == hit.message.conversation:
                self._older.load_until(conversation, pane, hit.message.time)
                if _select_message(pane, hit.message):
                    self._select(pane)
                    if self.dialog is not None:  # closed once the click that went is over
                        self._root.after_idle(destroy_now, self.dialog)
                        self.dialog = None
                    return True
        if self.dialog is not None:
            self.dialog.show_preview(hit, self._keeper.around(hit.message.row))
        return False

    def close(self) -> None:
        for sequence in ("<Control-Shift-F>", "<Control-Shift-f>"):
            self._root.unbind_all(sequence)
        if self._searcher is not None:
            self._searcher.stop()
        if self.dialog is not None and self.dialog.winfo_exists():
            destroy_now(self.dialog)
        self.dialog = None


def _select_message(pane: ConversationPane, message: store.StoredMessage) -> bool:
    """Find `message` in the transcript (newest first; emoji shown as pictures match their
    characters), select it and scroll it into view."""
    text = pane.text
    needle = message.body.split("\n", 1)[0]
    start, first = "end", None
    for _ in range(MAX_LOOKS):
        found = find_text(text, needle, start, backwards=True) if needle else None
        if found is None or found[0] == first:  # none, or round again (it wraps)
            return False
        first = first or found[0]
        line_start = text.index(f"{found[0]} linestart")
        if message.sender in text.get(line_start, found[0]):
            text.tag_remove("found", "1.0", "end")
            text.tag_add("found", line_start, f"{found[0]} lineend")
            text.see(found[0])
            return True
        start = found[0]
    return False
