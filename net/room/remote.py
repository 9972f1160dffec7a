"""Members served by other hosts of the same room (a room on a backbone, `net.backbone`).

Each host of a shared room announces its own members now and then (a snapshot, not a
stream of changes, so a lost announcement heals with the next one). `RemoteMembers` keeps
the latest snapshot per host and turns the difference into `Joined` and `Left` notices
for the local members. A host silent for longer than the timeout is forgotten, and its
members leave, except those who are now here or on another host under the same
nickname: a member whose host died and who reconnected elsewhere has moved, not left.

Pure: the clock is passed in, nothing here touches the network.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from net.protocol import events as ev

#: At most this many other hosts are tracked (a bound on what strangers on the backbone cost).
MAX_REMOTE_HOSTS = 64


@dataclass(slots=True)
class RemoteHost:
    """The latest snapshot one other host announced."""

    address: str  # "host:port fingerprint" as the welcome lists it (`Welcome.hosts`)
    members: tuple[ev.MemberInfo, ...]
    heard: float


class RemoteMembers:
    """Other hosts' members, by host id. Not thread-safe: the service thread owns it."""

    def __init__(self) -> None:
        self._hosts: dict[str, RemoteHost] = {}

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
    ) -> list[ev.Event]:
        """Take host `host_id`'s snapshot; the notices its changes make (empty `members`
        and no address: the host said it stops)."""
        before = self.nicks() | set(local)
        old = self._hosts.get(host_id)
        if old is None and len(self._hosts) >= MAX_REMOTE_HOSTS:
            return []
        if not members and not address:
            self._hosts.pop(host_id, None)
        else:
            self._hosts[host_id] = RemoteHost(address, members, now)
        return self._notices(before, old.members if old else (), members, now, local)

    def expire(self, now: float, timeout: float, local: Collection[str]) -> list[ev.Event]:
        """Forget the hosts silent for more than `timeout` seconds; their members' notices."""
        notices: list[ev.Event] = []
        for host_id, host in list(self._hosts.items()):
            if now - host.heard > timeout:
                del self._hosts[host_id]
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
