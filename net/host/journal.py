"""The host's journal: what it keeps on disk so that a restart loses nothing acknowledged.

The room (`net.room`) notes what changed (`Room.unsaved`); the driver hands it to the
journal after each round and before any byte of that round leaves the host
(`RoomDriver.make_durable`), so an `ack` or `held` always names a message already
written. The journal is opened and used on the host's service thread only; the storage
itself (`history.room_journal`) is the owner's choice, given as a factory in
`HostConfig.journal`, so `net/` knows no database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from net.protocol import events as ev
from net.room.mailbox import Away, Change, Kept


class JournalError(Exception):
    """The journal cannot be opened or written; the text says why (for the log)."""


@dataclass(slots=True)
class JournalState:
    """What a journal held when it was opened (oldest first)."""

    history: list[ev.ChatMessage] = field(default_factory=list)
    away: list[Away] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)


class RoomJournal(Protocol):
    def load(self, history_size: int) -> JournalState:
        """The newest `history_size` room messages and the mailbox as kept."""
        ...

    def write(self, messages: Sequence[ev.ChatMessage], changes: Sequence[Change]) -> None:
        """Keep `messages` and apply `changes` in one transaction; durable against a process
        crash when it returns. Raises `JournalError`."""

    def keep_successors(self, successors: ev.Successors) -> None:
        """Keep `successors`, the list this host signed last, instead of the one before (a
        restart looks for the room there). Raises `JournalError`."""

    def last_successors(self) -> ev.Successors | None:
        """The list kept by `keep_successors`, None when there is none (or it is unreadable)."""
        ...

    def close(self) -> None:
        """Finish (fold the log into the file) and let go of the file."""


#: Opens the room's journal on the service thread. Raises `JournalError`.
JournalFactory = Callable[[], RoomJournal]
