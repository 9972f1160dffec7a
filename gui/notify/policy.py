"""Which messages deserve a desktop notification. Pure: no Tk, no threads, no clock.

A message gets one when notifications are on, someone else wrote it, and its conversation
is not the one the user is looking at (the window focused with that tab in front). In
"mentions" mode a room message must also name us; a private message always counts, since
it was written to us alone (as `ChatModel` already treats it for the bell).
"""

from __future__ import annotations

from gui.model.changes import Incoming
from gui.model.nicks import key_of, mentions
from gui.settings import Settings

ALL, MENTIONS = "all", "mentions"


def is_own(message: Incoming, own_nick: str) -> bool:
    """Whether `message` is ours (nicknames compare as the host compares them)."""
    return bool(own_nick) and key_of(message.sender) == key_of(own_nick)


def should_notify(
    message: Incoming,
    window_focused: bool,
    conversation_in_front: bool,
    settings: Settings,
    own_nick: str,
) -> bool:
    """Whether `message` should show a desktop notification.

    `conversation_in_front`: its conversation is the tab shown in the window (which only
    counts while the window has the focus: a minimised window shows nothing).
    """
    if not settings.desktop_notifications or is_own(message, own_nick):
        return False
    if window_focused and conversation_in_front:
        return False
    if settings.notify_for == MENTIONS:
        return message.private or mentions(message.text, own_nick)
    return True
