"""A host that comes back looks for its room first: one room, never two (docs/PROTOCOL.md,
"One room").

While it served, the host kept the successor list it signed last in its journal
(`RoomDriver._keep_successors`). Restarted with that journal (the same installation key and
room name), before it binds, it asks each successor of that list, all at once and for at
most `LOOK_SECONDS`, where the room is: a TLS connection that must prove the successor's
key, and a `hello` with `look` that the successor answers with its own signed list and a
`bye` (never joining its room). A list signed by that key, for the same room and a newer
epoch, means the room moved on while this host was away: the host does not serve it again
(the members follow the newest epoch; newcomers with the old invite would find an empty
second room) and says where it is now (`RoomElsewhere`, a `HostStartError`).

Built on the clients of `net.transports`, imported when a look runs: a host that never
named successors loads nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from net.addresses import format_address
from net.api import ChatClient, ClientConfig, ClientState, HostConfig, HostStartError, StateChanged, Transport
from net.host.journal import JournalError
from net.protocol import events as ev
from net.secure.succession import verify

log = logging.getLogger(__name__)

#: The longest a restarting host looks for its successors before it serves the room.
LOOK_SECONDS = 2.0
#: The nickname a look says hello with (never shown: a look does not join).
LOOK_NICK = "look"


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """Where the room is now: who hosts it, where, and at which epoch."""

    nick: str
    address: str
    port: int
    transport: str
    epoch: int


class RoomElsewhere(HostStartError):
    """The room this host would serve is hosted by a successor at a newer epoch."""

    def __init__(self, room: str, where: Elsewhere) -> None:
        self.room = room
        self.where = where
        place = format_address(where.address, where.port)
        super().__init__(
            f"The room {room!r} moved on while this host was away: {where.nick} hosts it now at "
            f"{place} ({where.transport.upper()}). Join it there instead of hosting it again."
        )


def check_the_room_is_here(config: HostConfig) -> None:
    """Raise `RoomElsewhere` when the successors this host named last (kept in its journal)
    host the room at a newer epoch; return at once for a host that never named any, and for
    a takeover (epoch above 0: it follows a signed handover, and members wait for it)."""
    if config.journal is None or config.identity is None or not config.handover or config.epoch > 0:
        return
    try:
        journal = config.journal()
    except JournalError:
        return  # the loop says why when it opens it
    try:
        last = journal.last_successors()
    finally:
        journal.close()
    where = None if last is None else look_for_the_room(last, config.room.name)
    if where is not None:
        raise RoomElsewhere(config.room.name, where)


def look_for_the_room(last: ev.Successors, room: str, timeout: float = LOOK_SECONDS) -> Elsewhere | None:
    """Ask the successors of `last` (the list this host signed last, for `room`) where the
    room is; the one at the newest epoch above `last.epoch`, None when none answers so."""
    if last.room != room or not last.successors:
        return None
    looks = [_Look(entry, timeout) for entry in last.successors if entry.addresses]
    for look in looks:
        look.start()
    deadline = time.monotonic() + timeout + 0.5
    found: list[Elsewhere] = []
    for look in looks:
        answer = look.finish(max(0.0, deadline - time.monotonic()))
        if answer is not None and answer.room == room and answer.epoch > last.epoch:
            entry = look.entry
            found.append(Elsewhere(entry.nick, entry.addresses[0], entry.port, entry.transport, answer.epoch))
    if not found:
        log.info("none of this room's successors hosts it: serving it again")
        return None
    newest = max(found, key=lambda where: where.epoch)
    log.warning("the room moved on: %s hosts it at epoch %d", newest.nick, newest.epoch)
    return newest


class _Look:
    """One successor asked where the room is: a client of its transport that says hello with
    `look`, and takes the signed list it answers with (checked against the successor's key)."""

    def __init__(self, entry: ev.SuccessorEntry, timeout: float) -> None:
        self.entry = entry
        self._timeout = timeout
        self._done = threading.Event()
        self._answer: ev.Successors | None = None
        self._key = b""
        self._client: ChatClient | None = None

    def start(self) -> None:
        from net.transports import make_client  # the one place that knows the transports

        try:
            self._key = bytes.fromhex(self.entry.key)
            transport = Transport(self.entry.transport)
        except ValueError:
            self._done.set()
            return
        config = ClientConfig(
            host=self.entry.addresses[0],
            port=self.entry.port,
            nick=LOOK_NICK,
            pinned=self._key,
            connect_timeout=self._timeout,
            reconnect=False,
            look=True,
        )
        self._client = make_client(transport, config, self._heard)
        self._client.start()

    def _heard(self, event: object) -> None:
        if isinstance(event, ev.Successors) and verify(event, self._key):
            self._answer = event
            self._done.set()
        elif isinstance(event, StateChanged) and event.state is ClientState.DISCONNECTED:
            self._done.set()

    def finish(self, timeout: float) -> ev.Successors | None:
        """Wait for the answer (at most `timeout` s), close the client, return the list."""
        self._done.wait(timeout)
        if self._client is not None:
            self._client.close("looked")
        return self._answer
