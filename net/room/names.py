"""Which nicknames are taken in a room: by their case-folded form, and by their look.

A nickname is taken when a present member has it (ignoring case) or one that looks like it
(the same confusable skeleton, Unicode TS #39: `net.protocol.nicknames.look_keys`). A
member may always keep its own name or take a look-alike of it.
"""

from __future__ import annotations

from net.protocol.nicknames import look_keys, nick_key
from net.room.member import Member


class Names:
    """The members by name and by look. Not thread-safe: the room's owner serialises calls."""

    def __init__(self) -> None:
        self._by_nick: dict[str, Member] = {}
        self._by_look: dict[str, Member] = {}

    def holder(self, nick: str) -> Member | None:
        """The member called `nick` (ignoring case), if any."""
        return self._by_nick.get(nick_key(nick))

    def taken(self, nick: str, allowed: Member | None) -> str:
        """Why `nick` is not free (another member than `allowed` has it or one like it), or ""."""
        holder = self._by_nick.get(nick_key(nick))
        if holder is not None and holder is not allowed:
            return f"the nickname {nick} is already taken"
        for key in sorted(look_keys(nick)):
            holder = self._by_look.get(key)
            if holder is not None and holder is not allowed:
                return f"the nickname {nick} looks too much like {holder.nick}, who is already here"
        return ""

    def name(self, member: Member, nick: str) -> None:
        """Give `member` the name `nick` (checked with `taken` first)."""
        member.nick = nick
        self._by_nick[nick_key(nick)] = member
        self._by_look.update(dict.fromkeys(look_keys(nick), member))

    def unname(self, member: Member) -> None:
        """Free `member`'s name and its look."""
        if self._by_nick.get(nick_key(member.nick)) is member:
            del self._by_nick[nick_key(member.nick)]
        for key in look_keys(member.nick):
            if self._by_look.get(key) is member:
                del self._by_look[key]
