"""What the room answers with: instructions for the transport, carried out in order.

The room (`net.room.room`) never touches a socket; for each event it returns outputs that
say who gets what, and the host engine (`net.host.driver`) has a transport deliver them. `in_runs`
groups what a transport read so that consecutive messages reach `Room.handle_says` as one
run.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from net.protocol import events as ev

#: A transport's peer object. The room only hashes and compares it, never looks inside;
#: typed as Any so each transport gets its own peer type back in the outputs.
PeerId = Any


# The outputs are named tuples rather than frozen dataclasses: the room makes two per
# message, and a tuple is built in a third of the time (immutable all the same).


class Send(NamedTuple):
    """Deliver `event` to one peer."""

    to: PeerId
    event: ev.Event


class Broadcast(NamedTuple):
    """Deliver `event` to every member except `exclude`."""

    event: ev.Event
    exclude: PeerId | None = None


class Disconnect(NamedTuple):
    """Close `peer` once what was sent to it before has been written; its bye (if it still
    gets one) carries `reason` and `cause` (an `ev.LeaveCause`)."""

    peer: PeerId
    reason: str
    cause: ev.LeaveCause = ev.LeaveCause.REMOVED


class Relay(NamedTuple):
    """Deliver `messages` from `sender` to every other member and their acks to `sender`:
    the `Broadcast` and `Send` pair of each message, for a run of them (`Room.handle_says`).
    `acked` holds the sender's own ids of the messages, what its acks need besides them."""

    sender: PeerId
    messages: list[ev.ChatMessage]
    acked: list[str]

    @property
    def acks(self) -> list[ev.Ack]:
        """The acks for `sender`, in order, as events."""
        return [
            ev.Ack(id=own, msg_id=m.id, time=m.time) for own, m in zip(self.acked, self.messages, strict=True)
        ]


Output = Send | Broadcast | Disconnect | Relay


class SayRun(NamedTuple):
    """Consecutive `Say` events from one read: what `Room.handle_says` takes in one call."""

    says: list[ev.Say]


def in_runs(events: list[Any]) -> list[Any]:
    """`events` in order, with each stretch of consecutive `Say` events given as one
    `SayRun`: what a transport hands to `Room.handle_says` (everything else, events and
    refused input alike, it handles one by one)."""
    say = ev.Say
    if all(type(event) is say for event in events):
        return [SayRun(events)] if events else []  # the usual read: nothing but messages
    grouped: list[Any] = []
    for event in events:
        if type(event) is not say:
            grouped.append(event)
        elif grouped and type(grouped[-1]) is SayRun:
            grouped[-1].says.append(event)
        else:
            grouped.append(SayRun([event]))
    return grouped
