"""Searching every kept conversation off the main thread. No Tk.

A search can take a while (a query of rare one-character words, which no index helps,
reads every message: a third of a second in a million), so it runs on `HistorySearcher`'s
one thread, with its own read-only connection, and its results come back as a
`SearchResults` event through the window's event bridge (`post`), like everything else from
other threads. Only the newest search asked for runs: one typed while another runs
replaces any still waiting. The window owns the searcher: `stop` ends and joins its thread.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from history import store
from history.database import HistoryUnavailable, open_reader

log = logging.getLogger(__name__)

#: Results shown for one search (the newest first).
MAX_RESULTS = 200


@dataclass(frozen=True)
class SearchResults:
    """What the search for `text` found (`failed`: the history could not be read)."""

    text: str
    hits: tuple[store.Hit, ...]
    failed: bool = False


class HistorySearcher:
    """One thread running the newest search asked for; results go to `post` (thread-safe)."""

    def __init__(self, path: Path, post: Callable[[object], None]) -> None:
        self._path = path
        self._post = post
        self._wake = threading.Condition()
        self._wanted: str | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    def search(self, text: str) -> None:
        """Search for `text` (main thread); its `SearchResults` arrive through `post`."""
        with self._wake:
            if self._stopping:
                return
            self._wanted = text
            self._wake.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lanchat-history-search", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """End the thread (after the search it runs, if any) and join it. Safe to repeat."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _next(self) -> str | None:
        with self._wake:
            while self._wanted is None and not self._stopping:
                self._wake.wait()
            if self._stopping:
                return None
            text, self._wanted = self._wanted, None
            return text

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        fts = False
        try:
            while (text := self._next()) is not None:
                try:
                    if connection is None:
                        connection, fts = open_reader(self._path)
                    hits = store.search(connection, text, fts, MAX_RESULTS)
                except (sqlite3.Error, HistoryUnavailable) as error:
                    log.warning("history: search failed (%s)", type(error).__name__)
                    self._post(SearchResults(text, (), failed=True))
                    continue
                self._post(SearchResults(text, tuple(hits)))
        finally:
            if connection is not None:
                connection.close()
