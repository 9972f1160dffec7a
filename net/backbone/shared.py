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

A private message for a member of another host (the room's `Send` to an `OtherHost`) goes
to that host alone (`net.backbone.private`); its ack waits until that host answers that it
handed the message over, and becomes a `no_such_member` error when it could not. A member's
nickname is unique across the hosts: the room refuses a join with a nickname a member of
another host holds (`RemoteMembers.taken`); two joins under one nickname on two hosts at
the same moment both pass, and once the hosts hear of each other the earlier join wins (by
its `since`, the hosts' clocks; equal: the smaller host id): the later one is refused with
`nick_taken` and disconnected. Runs on the service thread only; the backbone thread is
reached through `Backbone`'s thread-safe calls.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from net.backbone.link import Backbone, Duplicate, Replayed, Stored
from net.backbone.private import PrivateDone, PrivateIn
from net.backbone.wire import Presence
from net.protocol import events as ev
from net.room import Broadcast, Disconnect, Output, Relay, Room, Send
from net.room.remote import OtherHost

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
        apply: Callable[[list[Output]], None] | None = None,
    ) -> None:
        """`send(peer, event)` and `apply(outputs)` are the driver's; `io` the transport's
        `HostIO` (`relay`, `broadcast`)."""
        self.room = room
        self.backbone = backbone
        self.address = address
        self._send = send
        self._apply = apply
        self._io = io
        self._clock = clock
        self._held: dict[str, _Held] = {}
        self.last_seq = 0
        self._announced: tuple[tuple[ev.MemberInfo, ...], tuple[str, ...]] | None = None
        room.shared = True

    # -- the room's outputs -----------------------------------------------------------------

    def intercept(self, outputs: list[Output]) -> list[Output]:
        """`outputs` less the room messages and their acks, which go through the stream."""
        kept: list[Output] = []
        unsent: list[str] = []
        for output in outputs:
            if type(output) is Send and type(output.to) is OtherHost and type(output.event) is ev.ChatMessage:
                self._held[output.event.id] = _Held(None)  # its ack waits for the other host's answer
                if not self.backbone.private.send(output.to.host_id, output.event):
                    unsent.append(output.event.id)
            elif type(output) is Relay:
                self._publish(output.messages, output.sender)
                for ack in output.acks:
                    self._held[ack.msg_id].acks.append((output.sender, ack))
            elif type(output) is Broadcast and type(output.event) is ev.ChatMessage and not output.event.to:
                self._publish([output.event], output.exclude)
            elif type(output) is Send and type(output.event) is ev.Ack and output.event.msg_id in self._held:
                self._held[output.event.msg_id].acks.append((output.to, output.event))
            else:
                kept.append(output)
        for msg_id in unsent:
            log.error("too many private messages wait for the backbone: one not sent")
            self._private_done(PrivateDone(msg_id, False))
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
            elif type(item) is PrivateIn:
                self._private_in(item)
            elif type(item) is PrivateDone:
                self._private_done(item)
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

    def _private_in(self, item: PrivateIn) -> None:
        """Another host's private message for a member here: hand it over and say so."""
        assert item.message.to is not None  # (`wire.read_private`)
        peer = self.room.peer_of(item.message.to)
        if peer is not None:
            self._send(peer, item.message)
        self.backbone.private.answer(item.reply, peer is not None)

    def _private_done(self, done: PrivateDone) -> None:
        """The other host answered (or never did): the sender's ack goes out, or why not."""
        held = self._held.pop(done.msg_id, None)
        for peer, ack in held.acks if held is not None else ():
            if done.delivered:
                self._send(peer, ack)
            else:
                text = "the member on another host of the room could not be reached"
                self._send(peer, ev.Error(code="no_such_member", text=text, ref=ack.id))

    def _presence(self, presence: Presence) -> None:
        host, now, local = presence.host_id, self._clock(), self._local_nicks()
        update = self.room.remote.update(host, presence.address, presence.members, now, local, presence.tags)
        for notice in update:
            self._io.broadcast(_stamped(notice), None)
        self._settle_names(host)

    def _settle_names(self, host: str) -> None:
        """Two members joined two hosts under one nickname before the hosts heard of each
        other: the earlier join stays, the later one here is refused and disconnected."""
        mine = (self.room.peers(), self.room.members()[: len(self.room)], self.room.tags())
        for peer, info, tag in zip(*mine, strict=True):
            holder = self.room.remote.holder(info.nick)
            if holder is None or holder.host_id != host or holder.tag == tag:
                continue
            if (holder.member.since, holder.host_id) < (info.since, self.backbone.host_id) and self._apply:
                text = f"the nickname {info.nick} was taken on another host of the room a moment earlier"
                log.info("two members joined as one nickname on two hosts: the later one goes")
                removed = ev.LeaveCause.REMOVED
                kept = [o for o in self.room.leave(peer, text, removed) if type(o) is not Broadcast]
                refuse = Send(peer, ev.Refuse(code="nick_taken", text=text))  # its name stays: no left
                self._apply([*kept, refuse, Disconnect(peer, text, removed)])

    def _tick(self) -> None:
        """Announce the local members when they changed; forget hosts gone silent."""
        local = self.room.members()[: len(self.room)]  # the room lists its own members first
        announced = (local, self.room.tags())
        if announced != self._announced:
            self._announced = announced
            self.backbone.announce(Presence(self.backbone.host_id, self.address, local, announced[1]))
        timeout = self.backbone.config.presence_timeout
        for notice in self.room.remote.expire(self._clock(), timeout, [info.nick for info in local]):
            self._io.broadcast(_stamped(notice), None)

    def _local_nicks(self) -> list[str]:
        return [info.nick for info in self.room.members()[: len(self.room)]]


def _stamped(notice: ev.Event) -> ev.Event:
    """A remote member's joined or left notice with the time of day (`RemoteMembers` counts
    on the monotonic clock, which members would show as a time in 1970)."""
    if isinstance(notice, ev.Joined | ev.Left):
        return dataclasses.replace(notice, time=round(time.time(), 3))
    return notice
