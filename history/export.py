"""A conversation as a file for people: plain text, or one self-contained HTML page.

The HTML carries its style inline and loads nothing (no scripts, fonts or images), so it
opens the same anywhere, offline; every text from the chat is escaped, so a message
cannot become markup.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable

from history.store import StoredMessage


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _line(message: StoredMessage) -> str:
    if message.action:
        return f"* {message.sender} {message.body}"
    return f"<{message.sender}> {message.body}"


def to_text(title: str, messages: Iterable[StoredMessage]) -> str:
    """``[time] <sender> text`` lines under a title line; a message's own line breaks are kept,
    its following lines indented so that each message still starts a line of its own."""
    out = [title, ""]
    for message in messages:
        body = _line(message).replace("\n", "\n    ")
        out.append(f"[{_when(message.time)}] {body}")
    return "\n".join(out) + "\n"


_STYLE = (
    "body{font-family:sans-serif;max-width:50em;margin:2em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.3em}.m{margin:.3em 0;white-space:pre-wrap;overflow-wrap:anywhere}"
    ".t{color:#888;font-size:.85em;margin-right:.5em}.s{font-weight:bold;margin-right:.4em}"
    ".own .s{color:#1a5fb4}.action{font-style:italic}"
)


def to_html(title: str, messages: Iterable[StoredMessage]) -> str:
    """One HTML page with everything inline, every chat text escaped."""
    rows = []
    for message in messages:
        classes = "m" + (" own" if message.own else "") + (" action" if message.action else "")
        sender = html.escape(message.sender) + ("" if message.action else ":")
        rows.append(
            f'<div class="{classes}"><span class="t">{_when(message.time)}</span>'
            f'<span class="s">{sender}</span>{html.escape(message.body)}</div>'
        )
    escaped_title = html.escape(title)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{escaped_title}</title><style>{_STYLE}</style></head>\n"
        f"<body><h1>{escaped_title}</h1>\n" + "\n".join(rows) + "\n</body></html>\n"
    )
