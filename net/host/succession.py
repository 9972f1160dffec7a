"""Who takes the room over when its host goes: the host's side of a handover.

Members announce in their `hello` that they follow a room that moves (`handover`) and, if
their PC can host it, the port and key they would host it with (`host_port`, `host_key`;
only windowed members do). The host names up to `MAX_SUCCESSORS` of the latter, in the
order they joined it (the longest present first; its own owner never), in a list signed
with its key (`net.secure.succession`), and sends it to every member that follows, again
whenever it changes. When the host stops with members present, it tells them `handover`
(signed, naming the first successor); plain-text members get a line with the new address
in their goodbye. Pure: the driver (`net.host.driver`) calls it on its thread.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from net.addresses import format_address
from net.protocol import events as ev
from net.room import Room
from net.secure.succession import Signer

log = logging.getLogger(__name__)

#: The most successors a host names (a list is tried in order; more would only wait longer).
MAX_SUCCESSORS = 5


class Offer(NamedTuple):
    """What a member's hello announced."""

    client_id: str
    follows: bool
    port: int | None
    key: str | None
    address: str | None


class HostSuccession:
    """The candidates, the signed list and the handover of one host (see the module docstring)."""

    def __init__(self, signer: Signer, transport: str, epoch: int = 0) -> None:
        self.signer = signer
        self.transport = transport
        #: The room's epoch: 0 for a room that never moved, +1 at every takeover; the newest
        #: epoch is the room (docs/PROTOCOL.md, "Handover").
        self.epoch = epoch
        self._offers: dict[Any, Offer] = {}
        self._current: tuple[ev.SuccessorEntry, ...] = ()
        self._signed: ev.Successors | None = None
        self._told: set[Any] = set()
        #: A list signed since the driver last kept one in the journal (`take_unsaved`).
        self._unsaved: ev.Successors | None = None

    def hello(self, peer: Any, hello: ev.Hello, address: str | None) -> None:
        """Note what `peer` announced (before the room judges its hello)."""
        can_host = hello.host_port is not None and hello.host_key is not None and 0 < hello.host_port < 65536
        self._offers[peer] = Offer(
            hello.client_id,
            hello.handover,
            hello.host_port if can_host else None,
            hello.host_key if can_host else None,
            address,
        )

    def follows(self, peer: Any) -> bool:
        offer = self._offers.get(peer)
        return offer is not None and offer.follows

    def entries(self, room: Room) -> tuple[ev.SuccessorEntry, ...]:
        """The successors, in order: members that can host, in the order they joined."""
        owner = room.config.owner_client_id
        found: list[ev.SuccessorEntry] = []
        for peer in room.peers():
            offer = self._offers.get(peer)
            if offer is None or offer.port is None or offer.key is None or offer.client_id == owner:
                continue
            nick = room.nick_of(peer)
            addresses = (offer.address,) if offer.address else ()
            if nick is None or not addresses:
                continue
            found.append(ev.SuccessorEntry(nick, addresses, offer.port, self.transport, offer.key))
            if len(found) >= MAX_SUCCESSORS:
                break
        return tuple(found)

    def signed(self, room: Room) -> ev.Successors:
        """The current list, signed (signed anew when it changed)."""
        for peer in [p for p in self._offers if getattr(p, "closing", False)]:
            del self._offers[peer]
            self._told.discard(peer)
        entries = self.entries(room)
        if entries != self._current or self._signed is None:
            self._current = entries
            self._signed = self._unsaved = self.signer.signed(ev.Successors, self.epoch, room.name, entries)
            self._told.clear()
            if entries:
                log.info("successors named: %s", ", ".join(e.nick for e in entries))
        return self._signed

    def take_unsaved(self) -> ev.Successors | None:
        """The list signed since the last call, if any: the journal keeps the last one, so
        that this host, restarted, can look for the room where it named it to go."""
        unsaved, self._unsaved = self._unsaved, None
        return unsaved

    def due(self, room: Room) -> list[tuple[Any, ev.Successors]]:
        """The signed list for each following member that has not got its current version."""
        signed = self.signed(room)
        due = [peer for peer in room.peers() if peer not in self._told and self.follows(peer)]
        self._told.update(due)
        return [(peer, signed) for peer in due]

    def handover(self, room: Room) -> ev.Handover | None:
        """The signed `handover` naming the first successor (None: nobody can take over)."""
        entries = self.entries(room)
        if not entries:
            return None
        log.info("handing the room over to %s", entries[0].nick)
        return self.signer.signed(ev.Handover, self.epoch, room.name, entries[:1])  # type: ignore[no-any-return]


def moved_line(handover: ev.Handover) -> str:
    """What a plain-text member is told, in its goodbye: where the chat is now."""
    entry = handover.successors[0]
    where = format_address(entry.addresses[0], entry.port)
    return f"the chat moves: {entry.nick} hosts it now at {where} ({entry.transport.upper()})"
