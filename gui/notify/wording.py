"""What a desktop notification says: who wrote, where, and the first line, shortened. No Tk.

A file offer is worded as such: who sends files, to us or to the room, and what they are.

The text comes from the network: control characters and the Unicode bidirectional
overrides (which could make the line read backwards) are taken out, runs of white space
become one space, and only the first line with something on it is kept, cut to
`FIRST_LINE_CHARS` characters.
"""

from __future__ import annotations

import re

from gui.i18n import ntr, tr
from gui.notify.pacing import Pile

FIRST_LINE_CHARS = 120
#: Long room names are cut in the title (nicknames are short already).
ROOM_CHARS = 40
_UNSHOWN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shortened(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def first_line(text: str, limit: int = FIRST_LINE_CHARS) -> str:
    """The first line of `text` that has something on it, cleaned and shortened."""
    for line in text.splitlines():
        cleaned = " ".join(_UNSHOWN.sub(" ", line).split())
        if cleaned:
            return shortened(cleaned, limit)
    return ""


def toast_text(pile: Pile) -> tuple[str, str]:
    """The title and the text of the notification for `pile`."""
    line = first_line(pile.text)
    sender = first_line(pile.sender, ROOM_CHARS)
    said = f"* {sender} {line}" if pile.action else line
    room = first_line(pile.room, ROOM_CHARS)
    if pile.offer:  # what is offered says more than how many came before it
        if pile.private:
            return tr("{sender} sends you files").format(sender=sender), line
        return tr("{sender} sends files to {room}").format(sender=sender, room=room or "LanChat"), line
    if pile.private:
        if pile.count == 1:
            return tr("{sender} (private message)").format(sender=sender), said
        title = ntr(
            "{count} new private message from {sender}",
            "{count} new private messages from {sender}",
            pile.count,
        )
        return title.format(count=pile.count, sender=sender), said
    if pile.count == 1:
        return (tr("{sender} in {room}").format(sender=sender, room=room) if room else sender), said
    title = ntr("{count} new message in {room}", "{count} new messages in {room}", pile.count)
    return title.format(
        count=pile.count, room=room or "LanChat"
    ), said if pile.action else f"{sender}: {line}"
