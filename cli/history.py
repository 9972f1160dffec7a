"""`main.py history`: search, list and export the conversations kept on this computer.

Reads the database without locking it (a LanChat window may be writing it at the same
time: SQLite's WAL lets readers and the one writer work together). Exit status 0 when
something was found or written, 1 when nothing matched or there is no history, 2 for a
bad argument.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from pathlib import Path

from history import export, store
from history.database import HistoryUnavailable, open_reader
from net.paths import history_file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "history",
        help="search, list or export the conversations kept on this computer",
        description="Search, list or export the conversations LanChat kept in its history database.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    search = actions.add_parser("search", help="print the newest messages containing every word")
    search.add_argument("words", nargs="+", metavar="WORDS", help="words to find (Chinese needs no spaces)")
    search.add_argument("--limit", type=int, default=50, metavar="N", help="at most N results (default 50)")
    search.set_defaults(func=run_search)
    listing = actions.add_parser("list", help="print every kept conversation, the most recent first")
    listing.set_defaults(func=run_list)
    exporting = actions.add_parser("export", help="write one conversation as plain text or HTML")
    exporting.add_argument(
        "conversation", metavar="CONVERSATION", help="its title or key (see `history list`)"
    )
    exporting.add_argument("--html", action="store_true", help="one self-contained HTML page instead of text")
    exporting.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (default: print)")
    exporting.set_defaults(func=run_export)


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def _open_history() -> tuple[sqlite3.Connection, bool] | None:
    """The history database for reading, or None (after saying why) when there is none."""
    try:
        return open_reader(history_file())
    except HistoryUnavailable as error:
        print(f"lanchat history: {error.detail}", file=sys.stderr)
        return None


def run_search(args: argparse.Namespace) -> int:
    if args.limit < 1:
        print("lanchat history: --limit must be at least 1", file=sys.stderr)
        return 2
    opened = _open_history()
    if opened is None:
        return 1
    connection, fts = opened
    with connection:
        hits = store.search(connection, " ".join(args.words), fts, limit=args.limit)
    connection.close()
    for hit in hits:
        message = hit.message
        body = message.body.replace("\n", " ")
        print(f"{_when(message.time)}  [{hit.title}]  {message.sender}: {body}")
    if not hits:
        print("lanchat history: no message contains all of these words", file=sys.stderr)
    return 0 if hits else 1


def run_list(args: argparse.Namespace) -> int:
    opened = _open_history()
    if opened is None:
        return 1
    connection, _ = opened
    kept = store.conversations(connection)
    connection.close()
    for conversation in kept:
        count = f"({conversation.messages})"
        print(f"{_when(conversation.last_time)}  {conversation.title}  {count}  {conversation.key}")
    return 0 if kept else 1


def run_export(args: argparse.Namespace) -> int:
    opened = _open_history()
    if opened is None:
        return 1
    connection, _ = opened
    try:
        wanted = args.conversation
        kept = store.conversations(connection)
        matches = [c for c in kept if wanted == c.key]
        matches = matches or [c for c in kept if wanted.casefold() == c.title.casefold()]
        if len(matches) != 1:
            problem = "no conversation is called" if not matches else "several conversations are called"
            hint = "see `history list` for their keys"
            print(f"lanchat history: {problem} {wanted!r}; {hint}", file=sys.stderr)
            return 2
        chosen = matches[0]
        pages: list[list[store.StoredMessage]] = []
        while True:  # page by page, from the newest back to the first
            older = store.page(connection, chosen.key, pages[-1][0] if pages else None, limit=5000)
            if not older:
                break
            pages.append(older)
        messages = [message for page in reversed(pages) for message in page]
    finally:
        connection.close()
    text = (export.to_html if args.html else export.to_text)(chosen.title, messages)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # private, like the history
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    print(f"{len(messages)} messages written to {args.output}")
    return 0
