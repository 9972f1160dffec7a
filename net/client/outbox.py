"""The outbox: messages typed by the user that the host has not acknowledged yet."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from net.protocol.events import Say


@dataclass(slots=True)
class OutboxEntry:
    say: Say
    in_flight: bool = False
    not_before: float = 0.0  # a rate-limited message waits until then


class Outbox:
    """Pending messages in the order they were typed, bounded.

    A message stays here from the moment it is typed until the host acks it, across any
    number of reconnects, so nothing typed is lost when a link drops; the host drops a
    repeat of an id it has already relayed, so nothing is shown twice either.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: OrderedDict[str, OutboxEntry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, local_id: str) -> bool:
        return local_id in self._entries

    @property
    def full(self) -> bool:
        return len(self._entries) >= self.limit

    @property
    def in_flight(self) -> int:
        return sum(1 for entry in self._entries.values() if entry.in_flight)

    def add(self, say: Say) -> None:
        self._entries[say.id] = OutboxEntry(say)

    def pop(self, local_id: str) -> OutboxEntry | None:
        return self._entries.pop(local_id, None)

    def get(self, local_id: str) -> OutboxEntry | None:
        return self._entries.get(local_id)

    def due(self, now: float, window: int) -> list[OutboxEntry]:
        """Entries to send now, oldest first, keeping at most `window` in flight.

        Sending stops at the first entry that must still wait, so messages leave in the
        order they were typed.
        """
        room = window - self.in_flight
        ready: list[OutboxEntry] = []
        for entry in self._entries.values():
            if room <= 0:
                break
            if entry.in_flight:
                continue
            if entry.not_before > now:
                break
            ready.append(entry)
            room -= 1
        return ready

    def next_retry(self) -> float | None:
        waiting = [e.not_before for e in self._entries.values() if not e.in_flight and e.not_before]
        return min(waiting) if waiting else None

    def link_lost(self) -> None:
        """Nothing in flight survives a broken link: everything unacked is sent again."""
        for entry in self._entries.values():
            entry.in_flight = False

    def ids(self) -> list[str]:
        return list(self._entries)
