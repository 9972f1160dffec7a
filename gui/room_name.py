"""The room name offered for hosting from the window. No Tk.

Every host used to offer "Our chat", so the chats found on a LAN all looked alike. The
window offers "<nickname>'s chat" instead, and keeps it in step with the nickname (and the
language) until the user types a name of their own. A name remembered from an earlier chat
is offered again, unless it is that old default.
"""

from __future__ import annotations

from gui.i18n import tr

#: What older versions offered, in English and Chinese; remembered only because it was kept.
OLD_DEFAULTS = frozenset({"Our chat", "我们的聊天"})


def default_room_name(nick: str) -> str:
    """The nickname's chat ("{nick}'s chat" translated), or "" while there is no nickname."""
    nick = " ".join(nick.split())
    return tr("{nick}'s chat").format(nick=nick) if nick else ""


def offered_room_name(remembered: str, nick: str) -> str:
    """The room name to offer: the one remembered from the last chat hosted, else the default."""
    return remembered if remembered and remembered not in OLD_DEFAULTS else default_room_name(nick)


def follows_nick(room: str, offered: str) -> bool:
    """Whether the room field still shows what was offered (or nothing), so it may follow the
    nickname; once the user typed a name of their own it is left alone."""
    return room.strip() in ("", offered)
