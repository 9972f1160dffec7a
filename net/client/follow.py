"""A member's side of a handover (docs/PROTOCOL.md, "Handover"): pure, no sockets.

The `Follower` keeps the newest successor list the host signed (checked against the key the
host proved over TLS; anything else is dropped and logged), the recent room messages this
member received (what it hosts with if it takes over), and decides where the client goes
when its host is gone:

- after a `handover`: to the successor it names, at once;
- after the host vanished (the link timed out and a reconnect to it failed): the successors
  in the order of the list, one attempt each, round and round. A successor of rank k (0 is
  the first) hosts the room itself only when it has tried those before it and at least
  k x `TAKEOVER_STEP` seconds have passed since it began: the first reachable successor
  takes over and the later ones find it instead of starting rooms of their own.

`net.client.threaded` feeds it the session's events and asks it where to go.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass

from net.api import ClientConfig, Delivered, Takeover
from net.protocol import events as ev
from net.protocol.limits import MAX_HISTORY_IN_WELCOME
from net.secure.succession import verify

log = logging.getLogger(__name__)

#: Seconds a successor waits per rank before it hosts the room itself.
TAKEOVER_STEP = 2.0
#: The longest wait between two successors tried after the host vanished.
FOLLOW_PAUSE = 0.25
#: For this long after a handover the successor named is starting its host (tens of ms): it
#: is tried again after `HANDOVER_PAUSE` only, so the room is back within a few of them.
HANDOVER_HURRY = 2.0
HANDOVER_PAUSE = 0.03
#: Room messages kept for a takeover: as many as a welcome can replay, so that members who
#: come back to the successor a little late still get what they missed meanwhile.
KEPT_MESSAGES = MAX_HISTORY_IN_WELCOME
#: Own messages remembered until acknowledged (their text goes into the kept history).
KEPT_SENT = 2_048


def hello_offer(config: ClientConfig) -> tuple[bool, int | None, str | None, bool]:
    """The hello's `handover`, `host_port`, `host_key` and `look` for this client."""
    if config.look:
        return False, None, None, True
    if not config.follow_handover or not config.encrypted:
        return False, None, None, False
    offer = config.host_offer
    if offer is None:
        return True, None, None, False
    return True, offer.port, offer.key.hex(), False


@dataclass(frozen=True, slots=True)
class Place:
    """Where to go next: a successor, and whether that is this member itself."""

    entry: ev.SuccessorEntry
    mine: bool


class Follower:
    """See the module docstring. Used on the client's I/O thread only."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.epoch = -1  # of the newest list taken (a list from an older epoch is refused)
        self.room = ""
        self.successors: tuple[ev.SuccessorEntry, ...] = ()
        self._members: tuple[ev.MemberInfo, ...] = ()
        self._history: deque[ev.ChatMessage] = deque(maxlen=KEPT_MESSAGES)
        self._sent: OrderedDict[str, tuple[str, bool]] = OrderedDict()
        self._handover: ev.SuccessorEntry | None = None
        self._handed_at = float("-inf")  # when the last handover was followed
        self._lost_at: float | None = None
        self._turn = 0

    # -- what happens in the room ------------------------------------------------------------

    def sent(self, local_id: str, text: str, to: str | None, action: bool) -> None:
        """This member queued a room message: kept for the history until acknowledged."""
        if to is None:
            self._sent[local_id] = (text.rstrip(), action)
            if len(self._sent) > KEPT_SENT:
                self._sent.popitem(last=False)

    def observe(self, event: object, room_key: bytes | None, nick: str) -> bool:
        """Take note of `event`; False for the events that are this module's alone."""
        if isinstance(event, ev.Successors | ev.Handover):
            self._signed(event, room_key)
            return False
        if isinstance(event, ev.Welcome):
            self.room, self._members = event.room, event.members
            self._lost_at, self._turn = None, 0
            self._history.extend(m for m in event.history if m.to is None)
        elif isinstance(event, ev.ChatMessage):
            if event.to is None:
                self._history.append(event)
        elif isinstance(event, Delivered):
            sent = self._sent.pop(event.local_id, None)
            if sent is not None:
                self._history.append(ev.ChatMessage(event.msg_id, nick, sent[0], event.time, None, sent[1]))
        elif isinstance(event, ev.Members):
            self._members = event.members
        return True

    def _signed(self, event: ev.Successors | ev.Handover, room_key: bytes | None) -> None:
        if room_key is None or not verify(event, room_key):
            log.warning("refused a %s list not signed by this room's host", event.TYPE)
            return
        if event.epoch < self.epoch:
            log.warning("refused a %s list of an older epoch (%d < %d)", event.TYPE, event.epoch, self.epoch)
            return
        self.epoch = event.epoch
        if isinstance(event, ev.Handover):
            if event.successors:
                self._handover = event.successors[0]
        else:
            self.successors = event.successors

    # -- where to go ---------------------------------------------------------------------------

    @property
    def handing_over(self) -> bool:
        """The host said it hands the room over (its bye is no end: the client follows)."""
        return self._handover is not None

    def is_mine(self, entry: ev.SuccessorEntry) -> bool:
        offer = self.config.host_offer
        return offer is not None and entry.key == offer.key.hex() and entry.port == offer.port

    def next_place(self, now: float, *, host_unreachable: bool) -> Place | None:
        """Where to connect next, None to go on as before (retry the same host).

        Only a handover moves the client while its host may still answer; a vanished host
        (`host_unreachable`: a connection to it failed) sends it down the successor list.
        """
        if self._handover is not None:
            entry, self._handover = self._handover, None
            self._lost_at, self._turn, self._handed_at = now, 0, now
            return Place(entry, self.is_mine(entry))
        entries = self.successors
        if not host_unreachable or not entries:
            return None
        if self._lost_at is None:
            self._lost_at, self._turn = now, 0
        entry = entries[self._turn % len(entries)]
        rank = self._turn % len(entries)
        if self.is_mine(entry):
            if now >= self._lost_at + rank * TAKEOVER_STEP:
                self._turn = 0
                return Place(entry, True)
            self._turn = 0  # not yet: try those before again
            entry = entries[0]
            if self.is_mine(entry):
                return Place(entry, True)
        self._turn += 1
        return Place(entry, False)

    def pause(self, now: float) -> float:
        """The wait before the next successor is tried: short just after a handover."""
        return HANDOVER_PAUSE if now - self._handed_at < HANDOVER_HURRY else FOLLOW_PAUSE

    def takeover(self) -> Takeover:
        """What this member hosts the room with when it takes over."""
        return Takeover(self.room, self.epoch + 1, tuple(self._history), self._members)

    def give_up_mine(self) -> None:
        """This member could not start its host: it is skipped from now on."""
        offer = self.config.host_offer
        self.successors = tuple(e for e in self.successors if not self.is_mine(e))
        if offer is not None:
            log.warning("could not take the room over on port %d: following the others", offer.port)
