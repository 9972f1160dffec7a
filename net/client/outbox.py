"""The outbox: messages typed by the user that the host has not acknowledged yet, and
what the host's refusals and the session's end do to them.

It also keeps the room messages the host acknowledged in the last `SETTLED_SECONDS` (at
most `SETTLED_LIMIT`): a host acknowledges a message once its journal has it, but a member
that takes the room over has only what reached it before the host died. A message acked
just before a crash can miss the successor; its sender alone still has it. So after every
welcome, those recent acked messages that the welcome's history lacks go out again, with
their own ids (`resend_unconfirmed`): the new host gives them the same message ids, members
that had them drop the repeat by id, and the sender is not told twice that they arrived.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from net.api import DeliveryFailed
from net.protocol.events import Ack, ChatMessage, Error, Held, Say

#: How long an acknowledged room message is kept to send again should the host that acked
#: it die before a successor had it: a heartbeat timeout (30 s by default), the look down
#: the successor list and the takeover fit in it many times over.
SETTLED_SECONDS = 120.0
#: The most acknowledged room messages kept meanwhile (a host dies within one round of its
#: last acks, and at most the send window of them are in flight).
SETTLED_LIMIT = 256


@dataclass(slots=True)
class OutboxEntry:
    say: Say
    in_flight: bool = False
    not_before: float = 0.0  # a rate-limited message waits until then
    #: Acknowledged once already (by a host that died): its new ack is not news to the owner.
    resent: bool = False


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
        #: Acknowledged room messages by local id: the Say, its message id, its time (the
        #: host's clock) and when it was acked (ours).
        self._settled: OrderedDict[str, tuple[Say, str, float, float]] = OrderedDict()

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

    def settle(self, ack: Ack | Held, now: float) -> OutboxEntry | None:
        """The host took `ack.id` (None: it was not pending); a room message is kept a
        while, to go again if a successor's welcome lacks it (`resend_unconfirmed`)."""
        entry = self.pop(ack.id)
        if entry is not None and type(ack) is Ack and entry.say.to is None:
            self._settled[ack.id] = (entry.say, ack.msg_id, ack.time, now)
            self._settled.move_to_end(ack.id)
            while len(self._settled) > SETTLED_LIMIT:
                self._settled.popitem(last=False)
        return entry

    def resend_unconfirmed(self, history: Iterable[ChatMessage], now: float) -> list[str]:
        """A host welcomed us with `history`: put back first in line, in the order typed,
        the room messages acked in the last `SETTLED_SECONDS` that it does not hold (their
        host died before the room had them). Returns their local ids.

        Only what the history would show is judged: a message older than its oldest one
        (a busy room's welcome holds only its newest messages) is taken to be there."""
        while self._settled and next(iter(self._settled.values()))[3] < now - SETTLED_SECONDS:
            self._settled.popitem(last=False)
        if not self._settled:
            return []
        held = {message.id for message in history}
        since = min((message.time for message in history), default=float("-inf"))
        missing = [
            say for say, msg_id, time, _ in self._settled.values() if msg_id not in held and time >= since
        ]
        for say in reversed(missing):
            del self._settled[say.id]
            self._entries[say.id] = OutboxEntry(say, resent=True)
            self._entries.move_to_end(say.id, last=False)
        return [say.id for say in missing]

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
        failed = [DeliveryFailed(i, reason) for i, entry in self._entries.items() if not entry.resent]
        self._entries.clear()
        self._in_flight = 0
        return failed

    def ids(self) -> list[str]:
        return list(self._entries)
