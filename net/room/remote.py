"""Members served by other hosts of the same room (a room on a backbone, `net.backbone`).

Each host of a shared room announces its own members now and then (a snapshot, not a
stream of changes, so a lost announcement heals with the next one). `RemoteMembers` keeps
the latest snapshot per host and turns the difference into `Joined` and `Left` notices
for the local members. A host silent for longer than the timeout is forgotten, and its
members leave, except those who are now here or on another host under the same
nickname: a member whose host died and who reconnected elsewhere has moved, not left.

A nickname is unique across the hosts: `taken` says a join here may not use one a member
of another host holds (unless it is that member, by its `member_tag`, moving here), and
`holder` names the remote member behind a nickname for the race of two joins at once
(`net.backbone.shared` lets the earlier join win). `host_of` says where to route a private
message for a member of another host (`OtherHost`: the room's `Send` to it goes on the
backbone).

Pure: the clock is passed in, nothing here touches the network.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from net.protocol import events as ev
from net.protocol.nicknames import look_keys, nick_key

#: At most this many other hosts are tracked (a bound on what strangers on the backbone cost).
MAX_REMOTE_HOSTS = 64


def member_tag(client_id: str) -> str:
    """What a host announces of a member's client id: enough to know the same client moved
    here from another host, nothing to act as it (the session's secret never leaves a host)."""
    return hashlib.sha256(f"lanchat-member\0{client_id}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class OtherHost:
    """The room's "peer" for a member of another host: a `Send` to it is a private message
    the backbone carries to host `host_id` (`net.backbone.shared`)."""

    host_id: str


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """A private message's recipient on another host, as the room routes it (`nick`, `peer`)."""

    nick: str
    peer: OtherHost


@dataclass(frozen=True, slots=True)
class Holder:
    """The member of another host behind a nickname."""

    host_id: str
    member: ev.MemberInfo
    tag: str


@dataclass(slots=True)
class RemoteHost:
    """The latest snapshot one other host announced."""

    address: str  # "host:port fingerprint" as the welcome lists it (`Welcome.hosts`)
    members: tuple[ev.MemberInfo, ...]
    heard: float
    tags: tuple[str, ...] = ()  # each member's `member_tag`, in order ("" when not told)


class RemoteMembers:
    """Other hosts' members, by host id. Not thread-safe: the service thread owns it."""

    def __init__(self) -> None:
        self._hosts: dict[str, RemoteHost] = {}
        self._index: dict[str, Holder] | None = None  # by nick key and by look key, made on use

    def __len__(self) -> int:
        return len(self._hosts)

    def nicks(self) -> set[str]:
        return {member.nick for host in self._hosts.values() for member in host.members}

    def members(self, local: Collection[str]) -> tuple[ev.MemberInfo, ...]:
        """Every remote member once, leaving out nicknames `local` holds (one who moved here)."""
        seen = set(local)
        listed: list[ev.MemberInfo] = []
        for host in self._hosts.values():
            for member in host.members:
                if member.nick not in seen:
                    seen.add(member.nick)
                    listed.append(member)
        return tuple(listed)

    def holder(self, nick: str) -> Holder | None:
        """The remote member called `nick` (ignoring case), if any."""
        return self._indexed().get("=" + nick_key(nick))

    def taken(self, nick: str, client_id: str) -> str:
        """Why a member of another host keeps `nick` from client `client_id` (it or one that
        looks like it), or "" (free, or that client's own: it moved here)."""
        if not self._hosts:
            return ""
        index, tag = self._indexed(), member_tag(client_id)
        for key in ["=" + nick_key(nick), *sorted(look_keys(nick))]:
            holder = index.get(key)
            if holder is not None and holder.tag != tag:
                return f"the nickname {nick} is taken by {holder.member.nick} on another host of the room"
        return ""

    def host_of(self, nick: str) -> Elsewhere | None:
        """Where a private message for `nick` goes when no member here has that name."""
        holder = self.holder(nick) if self._hosts else None
        return Elsewhere(holder.member.nick, OtherHost(holder.host_id)) if holder else None

    def _indexed(self) -> dict[str, Holder]:
        if self._index is None:
            self._index = {}
            for host_id, host in self._hosts.items():
                tags = host.tags if len(host.tags) == len(host.members) else ("",) * len(host.members)
                for member, tag in zip(host.members, tags, strict=True):
                    holder = Holder(host_id, member, tag)
                    self._index.setdefault("=" + nick_key(member.nick), holder)
                    for key in look_keys(member.nick):
                        self._index.setdefault(key, holder)
        return self._index

    def addresses(self) -> tuple[str, ...]:
        """Where the other hosts of the room accept members (for the welcome)."""
        return tuple(host.address for host in self._hosts.values() if host.address)

    def update(
        self,
        host_id: str,
        address: str,
        members: tuple[ev.MemberInfo, ...],
        now: float,
        local: Collection[str],
        tags: tuple[str, ...] = (),
    ) -> list[ev.Event]:
        """Take host `host_id`'s snapshot; the notices its changes make (empty `members`
        and no address: the host said it stops)."""
        before = self.nicks() | set(local)
        old = self._hosts.get(host_id)
        if old is None and len(self._hosts) >= MAX_REMOTE_HOSTS:
            return []
        self._index = None
        if not members and not address:
            self._hosts.pop(host_id, None)
        else:
            self._hosts[host_id] = RemoteHost(address, members, now, tags)
        return self._notices(before, old.members if old else (), members, now, local)

    def expire(self, now: float, timeout: float, local: Collection[str]) -> list[ev.Event]:
        """Forget the hosts silent for more than `timeout` seconds; their members' notices."""
        notices: list[ev.Event] = []
        for host_id, host in list(self._hosts.items()):
            if now - host.heard > timeout:
                del self._hosts[host_id]
                self._index = None
                notices += self._notices(set(), host.members, (), now, local, cause=ev.LeaveCause.LOST)
        return notices

    def _notices(
        self,
        before: set[str],
        old: tuple[ev.MemberInfo, ...],
        new: tuple[ev.MemberInfo, ...],
        now: float,
        local: Collection[str],
        cause: ev.LeaveCause = ev.LeaveCause.QUIT,
    ) -> list[ev.Event]:
        notices: list[ev.Event] = []
        still = self.nicks() | set(local)
        old_nicks = {member.nick for member in old}
        for member in new:
            if member.nick not in old_nicks and member.nick not in before:
                joined = ev.Joined(nick=member.nick, time=now, host=member.host, plaintext=member.plaintext)
                notices.append(joined)
        new_nicks = {member.nick for member in new}
        for member in old:
            if member.nick not in new_nicks and member.nick not in still:
                notices.append(ev.Left(nick=member.nick, time=now, cause=cause))
        return notices
