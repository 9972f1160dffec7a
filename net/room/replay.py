"""How much recent history a welcome replays: as much as fits one frame, newest kept.

A welcome must always fit in one frame (`MAX_FRAME_BYTES`), whatever the history holds
(huge messages) and however many members are listed, so the replay is bounded by upper
bounds of the encoded sizes, counted newest first, and by `MAX_HISTORY_IN_WELCOME`.
"""

from __future__ import annotations

from collections.abc import Reversible

from net.protocol import events as ev
from net.protocol.limits import MAX_FRAME_BYTES, MAX_HISTORY_IN_WELCOME, WELCOME_HISTORY_BUDGET


def size_bound(message: ev.ChatMessage) -> int:
    """An upper bound of the encoded size (4 bytes a character, JSON envelope included)."""
    return 4 * (len(message.text) + len(message.sender) + len(message.to or "")) + 160


#: Upper bound of a welcome's encoded size without its members and history (the envelope,
#: nickname and room name at 4 bytes a character, numbers).
_WELCOME_ENVELOPE_BOUND = 2048


def _member_size_bound(member: ev.MemberInfo) -> int:
    return 4 * len(member.nick) + 80


def history_that_fits(
    history: Reversible[ev.ChatMessage], members: tuple[ev.MemberInfo, ...]
) -> tuple[ev.ChatMessage, ...]:
    """The newest messages of `history` (oldest first) that fit a welcome beside `members`."""
    replay: list[ev.ChatMessage] = []
    # A long member list leaves less room: the welcome must always fit in one frame.
    room_left = MAX_FRAME_BYTES - _WELCOME_ENVELOPE_BOUND - sum(map(_member_size_bound, members))
    budget = min(WELCOME_HISTORY_BUDGET, room_left)
    for message in reversed(history):
        budget -= size_bound(message)
        if budget < 0 or len(replay) >= MAX_HISTORY_IN_WELCOME:
            break
        replay.append(message)
    replay.reverse()
    return tuple(replay)
