"""The outbox: messages typed by the user that the host has not acknowledged yet, and
what the host's refusals and the session's end do to them."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from net.api import DeliveryFailed
from net.protocol.events import Error, Say


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

    Every operation costs O(send window), not O(pending): a paste of thousands of lines
    must not make each send and each ack scan all of them.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: OrderedDict[str, OutboxEntry] = OrderedDict()
        self._in_flight = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, local_id: str) -> bool:
        return local_id in self._entries

    @property
    def full(self) -> bool:
        return len(self._entries) >= self.limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def add(self, say: Say) -> None:
        self._entries[say.id] = OutboxEntry(say)

    def pop(self, local_id: str) -> OutboxEntry | None:
        entry = self._entries.pop(local_id, None)
        if entry is not None and entry.in_flight:
            self._in_flight -= 1
        return entry

    def get(self, local_id: str) -> OutboxEntry | None:
        return self._entries.get(local_id)

    def mark_sent(self, entry: OutboxEntry) -> None:
        if not entry.in_flight:
            entry.in_flight = True
            self._in_flight += 1
        entry.not_before = 0.0

    def retry_later(self, entry: OutboxEntry, not_before: float) -> None:
        """The host refused `entry` for now (rate limit): send it again at `not_before`."""
        if entry.in_flight:
            entry.in_flight = False
            self._in_flight -= 1
        entry.not_before = not_before

    def due(self, now: float, window: int) -> list[OutboxEntry]:
        """Entries to send now, oldest first, keeping at most `window` in flight.

        Sending stops at the first entry that must still wait, so messages leave in the
        order they were typed.
        """
        room = window - self._in_flight
        ready: list[OutboxEntry] = []
        if room <= 0:
            return ready
        for entry in self._entries.values():
            if entry.in_flight:
                continue
            if entry.not_before > now:
                break
            ready.append(entry)
            room -= 1
            if room <= 0:
                break
        return ready

    def next_retry(self) -> float | None:
        """When the first message held back by the rate limit may go (None: none waits)."""
        for entry in self._entries.values():
            if entry.in_flight:
                continue
            return entry.not_before or None
        return None

    def link_lost(self) -> None:
        """Nothing in flight survives a broken link: everything unacked is sent again."""
        for entry in self._entries.values():
            entry.in_flight = False
        self._in_flight = 0

    def refuse(self, error: Error, now: float) -> DeliveryFailed | None:
        """The host refused message `error.ref`. Over the rate limit it goes again once
        `retry_after` has passed (None); any other refusal is final: the message leaves the
        outbox and the event returned says why."""
        entry = None if error.ref is None else self._entries.get(error.ref)
        if entry is None:
            return None
        if error.code == "rate_limited":
            self.retry_later(entry, now + (error.retry_after or 1.0))
            return None
        self.pop(entry.say.id)
        return DeliveryFailed(entry.say.id, error.text)

    def give_up(self, reason: str) -> list[DeliveryFailed]:
        """Empty the outbox for good (the session ends): each message failed for `reason`."""
        failed = [DeliveryFailed(local_id, reason) for local_id in self._entries]
        self._entries.clear()
        self._in_flight = 0
        return failed

    def ids(self) -> list[str]:
        return list(self._entries)
