"""The service thread's side of a room on a backbone: one conversation, in the stream's order.

The ordering rule: the stream's order is the room's order. A local member's room message
is not relayed to the local members when the room accepts it: `intercept` takes it out
of the room's outputs, hands it to the backbone and holds back its sender's ack. When it
comes back from the stream (`Stored`, with its sequence number) it goes to every local
member but its sender, and the sender gets its ack: so every member on every host
receives the room's messages in one order, and an ack means "kept by the cluster" (a
host that dies after acking loses nothing; before acking, the member resends to another
host, and the message id, derived from the member's own id, makes the stream keep it
once). Messages from other hosts arrive the same way, without an ack. A stream message at
or below the last sequence handed out (a redelivery after a restart) is dropped.

Private messages stay on the host that serves both members (a recipient on another host
is "not here"), and a member's nickname is unique per host: see the README's backbone
section. Runs on the service thread only; the backbone thread is reached through
`Backbone`'s thread-safe calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from net.backbone.link import Backbone, Duplicate, Replayed, Stored
from net.backbone.wire import Presence
from net.protocol import events as ev
from net.room import Broadcast, Output, Relay, Room, Send

log = logging.getLogger(__name__)

#: The sender of messages from other hosts: nobody here, so every local member gets them.
_NOBODY = object()


class _Held:
    """A message on its way through the stream: whom it skips, and the acks it waits to send."""

    __slots__ = ("acks", "exclude")

    def __init__(self, exclude: Any) -> None:
        self.exclude = exclude
        self.acks: list[tuple[Any, ev.Ack]] = []


class SharedRoom:
    """Joins one `Room` served by one host to the backbone (see the module docstring)."""

    def __init__(
        self,
        room: Room,
        backbone: Backbone,
        address: str,
        send: Callable[[Any, ev.Event], None],
        io: Any,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`send(peer, event)` is the driver's; `io` the transport's `HostIO` (`relay`, `broadcast`)."""
        self.room = room
        self.backbone = backbone
        self.address = address
        self._send = send
        self._io = io
        self._clock = clock
        self._held: dict[str, _Held] = {}
        self.last_seq = 0
        self._announced: tuple[ev.MemberInfo, ...] | None = None
        room.shared = True

    # -- the room's outputs -----------------------------------------------------------------

    def intercept(self, outputs: list[Output]) -> list[Output]:
        """`outputs` less the room messages and their acks, which go through the stream."""
        kept: list[Output] = []
        for output in outputs:
            if type(output) is Relay:
                self._publish(output.messages, output.sender)
                for ack in output.acks:
                    self._held[ack.msg_id].acks.append((output.sender, ack))
            elif type(output) is Broadcast and type(output.event) is ev.ChatMessage and not output.event.to:
                self._publish([output.event], output.exclude)
            elif type(output) is Send and type(output.event) is ev.Ack and output.event.msg_id in self._held:
                self._held[output.event.msg_id].acks.append((output.to, output.event))
            else:
                kept.append(output)
        return kept

    def _publish(self, messages: list[ev.ChatMessage], exclude: Any) -> None:
        if not self.backbone.publish(messages):
            log.error("the backbone is too far behind: %d messages not published", len(messages))
            return
        for message in messages:
            self._held.setdefault(message.id, _Held(exclude))

    # -- what came from the backbone --------------------------------------------------------

    def pump(self, timers_ran: bool) -> None:
        """Serve what the backbone handed over; on timer rounds, announce and expire members."""
        items = self.backbone.take()
        run: list[ev.ChatMessage] = []
        run_sender: Any = _NOBODY
        for item in items:
            if type(item) is Stored:
                if item.seq <= self.last_seq:
                    self._release(item.message.id)
                    continue
                self.last_seq = item.seq
                self.room.remember(item.message)
                held = self._release(item.message.id)
                sender = _NOBODY if held is None or held.exclude is None else held.exclude
                if run and sender is not run_sender:
                    self._relay(run_sender, run)
                    run = []
                run_sender = sender
                run.append(item.message)
                continue
            if run:
                self._relay(run_sender, run)
                run = []
            if type(item) is Duplicate:
                self._release(item.msg_id)
            elif type(item) is Replayed:
                for message in item.messages:
                    self.room.remember(message)
                self.last_seq = max(self.last_seq, item.last_seq)
            elif type(item) is Presence:
                self._presence(item)
        if run:
            self._relay(run_sender, run)
        if timers_ran:
            self._tick()

    def _release(self, msg_id: str) -> _Held | None:
        """The message is in the stream: its acks go out now."""
        held = self._held.pop(msg_id, None)
        if held is not None:
            for peer, ack in held.acks:
                self._send(peer, ack)
        return held

    def _relay(self, sender: Any, messages: list[ev.ChatMessage]) -> None:
        self._io.relay(Relay(sender, messages, []), None)

    def _presence(self, presence: Presence) -> None:
        host, now, local = presence.host_id, self._clock(), self._local_nicks()
        for notice in self.room.remote.update(host, presence.address, presence.members, now, local):
            self._io.broadcast(notice, None)

    def _tick(self) -> None:
        """Announce the local members when they changed; forget hosts gone silent."""
        local = self.room.members()[: len(self.room)]  # the room lists its own members first
        if local != self._announced:
            self._announced = local
            self.backbone.announce(Presence(self.backbone.host_id, self.address, local))
        timeout = self.backbone.config.presence_timeout
        for notice in self.room.remote.expire(self._clock(), timeout, [info.nick for info in local]):
            self._io.broadcast(notice, None)

    def _local_nicks(self) -> list[str]:
        return [info.nick for info in self.room.members()[: len(self.room)]]
