"""One chat session's state, and the reducer that applies network events to it.

`ChatModel` knows who is in the chat, who is typing, which private conversations are open,
which of our messages still wait for the host's ack (how they stand: `gui.model.delivery`),
and what the status bar says. The
controller feeds it the user's side (`open_private`, `queued`, ...) and batches of network
events (`apply`), and shows the `Changes` each batch returns. No Tk, no sockets, no threads:
one injected clock dates everything (lines, typing notices, the reconnect countdown), so
tests drive time by hand.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from gui import chat_wording as words
from gui.model import changes as out
from gui.model.changes import Changes
from gui.model.delivery import Delivery, delivered_mark, delivery_mark, held_key, waiting_mark
from gui.model.nicks import key_of, member_named, mentions
from gui.model.values import ROOM, Line, Overflowed, Status
from gui.wording import failure_sentence, host_refusal_sentence, not_delivered_note
from net.addresses import format_address
from net.api import (
    ClientState,
    Delivered,
    DeliveryFailed,
    FailureKind,
    HostStopped,
    HostVerified,
    KeyRejected,
    LatencyMeasured,
    RoomMoved,
    StateChanged,
)
from net.protocol import events as ev
from net.secure.codes import room_code

log = logging.getLogger(__name__)

#: Someone's "typing" notice is forgotten after this long without a refresh (their
#: "stopped typing" may be lost with a dropped link).
TYPING_EXPIRES = 8.0
#: Members who left that `/msg` still finds this session (for a message kept until they return).
GONE_KEPT = 200


class ChatModel:
    """The state of one join (or host + join), from the click to leaving. Not thread-safe."""

    def __init__(self, nick: str, status: Status, *, clock: Callable[[], float]) -> None:
        self.nick = nick
        self.room = ""
        self.welcomed = False
        self.members: dict[str, ev.MemberInfo] = {}  # nick_key -> member
        self.privates: dict[str, str] = {}  # key -> nick shown
        self.notes: list[str] = []  # shown in the room once it is joined
        self._clock = clock
        self._status = status
        self._retry_at: float | None = None
        self._lost = False  # "connection lost" shown since the last welcome
        self._rejected: KeyRejected | None = None  # the host showed another key than expected
        self._pending: dict[str, str | None] = {}  # local id -> to whom (None: the room)
        #: Our private messages the host keeps for members who are away: msg id -> time.
        #: (Bounded by the host: 100 per member; they go on delivery or with the session.)
        self._held: dict[str, float] = {}
        #: Members who left during this session, newest last (at most `GONE_KEPT`).
        self._gone: dict[str, ev.MemberInfo] = {}
        self._room_typing: dict[str, float] = {}  # nick -> when last heard
        self._private_typing: dict[str, float] = {}  # key of the sender -> when last heard

    # -- queries ------------------------------------------------------------------------------

    def status(self) -> Status:
        """The status bar as of now (the reconnect countdown counted down)."""
        if self._retry_at is None or self._status.retry_in is None:
            return self._status
        left = min(self._status.retry_in, max(0.0, self._retry_at - self._clock()))
        return dataclasses.replace(self._status, retry_in=left)

    def hosting_here(self) -> None:
        """This window's member took the room over (`gui.takeover`): the status bar says so."""
        self._status = dataclasses.replace(self._status, hosting=True)

    def sorted_members(self) -> list[ev.MemberInfo]:
        """The member list: the host first, then by name."""
        return sorted(self.members.values(), key=lambda m: (not m.host, key_of(m.nick)))

    def typing_nicks(self) -> set[str]:
        """Everyone typing anywhere (marked in the member list)."""
        return set(self._room_typing) | {self.privates.get(key, key) for key in self._private_typing}

    def room_typists(self) -> list[str]:
        """Who is typing in the room, by name."""
        return sorted(self._room_typing)

    def private_typists(self) -> dict[str, list[str]]:
        """Each open private conversation with who is typing in it (nobody: an empty list)."""
        return {key: [nick] if key in self._private_typing else [] for key, nick in self.privates.items()}

    def peer(self, conversation: str | None) -> str | None:
        """Whom a message typed in `conversation` goes to (None: the whole room)."""
        return self.privates.get(conversation) if conversation is not None else None

    # -- the user's side ------------------------------------------------------------------------

    def open_private(self, nick: str, focus: bool = True) -> out.OpenPrivate | None:
        """Open (or find) the private conversation with the member `nick` names (as the room
        compares names): what the view should show; None when nobody of that name is here or
        left during this session (the host may keep a message for someone who left)."""
        member = member_named(nick, self.members) or member_named(nick, self._gone)
        return None if member is None else self._open_private(member.nick, focus)

    def _open_private(self, nick: str, focus: bool) -> out.OpenPrivate:
        key = key_of(nick)
        member = self.members.get(key)
        shown = member.nick if member else self.privates.get(key, nick)
        self.privates[key] = shown
        return out.OpenPrivate(key, shown, focus)

    def close_private(self, key: str) -> None:
        self.privates.pop(key, None)
        self._private_typing.pop(key, None)

    def queued(self, local_id: str, text: str, to: str | None, action: bool) -> Line:
        """Our message went into the outbox: remember it until its ack, and show it as sending
        (dated now until the ack brings the host's time; see `gui.model.delivery`)."""
        self._pending[local_id] = to
        kind = "action" if action else "message"
        mark = delivery_mark(Delivery.SENDING)
        return Line(kind, text.rstrip(), self._clock(), self.nick, True, local_id, mark)

    def expire_typing(self) -> bool:
        """Forget typing notices not refreshed within `TYPING_EXPIRES`; True if any went."""
        now = self._clock()
        before = len(self._room_typing) + len(self._private_typing)
        # A notice dated after now means the clock was set back: forget it too.
        for table in (self._room_typing, self._private_typing):
            for who in [who for who, seen in table.items() if not now - TYPING_EXPIRES <= seen <= now]:
                del table[who]
        return len(self._room_typing) + len(self._private_typing) != before

    # -- the network's side ---------------------------------------------------------------------

    def apply(self, batch: list[object]) -> Changes:
        """Apply a batch of events in order; returns what changed.

        An event that cannot be applied is logged and skipped. A failed first connection
        ends the batch: nothing after it belongs to this session.
        """
        changes = Changes()
        for event in batch:
            try:
                self._apply(event, changes)
            except Exception:
                log.exception("could not show %r", event)
            if changes.failed is not None:
                break
        for conversation in [c for c in changes.lines if c is not ROOM and c not in self.privates]:
            del changes.lines[conversation]  # the conversation was closed (or renamed) meanwhile
        return changes

    def _apply(self, event: object, changes: Changes) -> None:
        match event:
            case ev.ChatMessage():
                self._chat_message(event, changes)
            case ev.Welcome():
                self._welcomed(event, changes)
            case StateChanged():
                self._state_changed(event, changes)
            case Delivered(local_id=local_id, time=when):
                self._pending.pop(local_id, None)
                changes.ops.append(out.MarkDelivered(local_id, when, delivery_mark(Delivery.SENT)))
            case ev.Held(id=local_id, msg_id=msg_id, time=when, to=to):
                self._pending.pop(local_id, None)
                self._held[msg_id] = when
                changes.ops.append(out.MarkDelivered(local_id, when, waiting_mark(to), held_key(msg_id)))
            case ev.Delivered(msg_id=msg_id, to=to) if msg_id in self._held:
                when = self._held.pop(msg_id)
                changes.ops.append(out.MarkDelivered(held_key(msg_id), when, delivered_mark(to)))
            case DeliveryFailed(local_id=local_id, reason=reason):
                to = self._pending.pop(local_id, None)
                log.info("message %s not delivered: %s", local_id, reason)
                absent = to if to is not None and key_of(to) not in self.members else None
                connected = self._status.state is ClientState.CONNECTED
                note = not_delivered_note(absent, connected)
                changes.ops.append(out.MarkFailed(local_id, delivery_mark(Delivery.FAILED, note)))
            case ev.Joined(nick=nick, time=when, host=is_host, plaintext=plaintext):
                self.members[key_of(nick)] = ev.MemberInfo(nick, is_host, when, plaintext)
                changes.add(ROOM, Line("system", words.joined(nick, is_host, plaintext), when))
                changes.members = True
            case ev.Left(nick=nick, time=when, cause=cause):
                key = key_of(nick)
                gone = self.members.pop(key, None)
                if gone is not None:
                    self._gone.pop(key, None)
                    self._gone[key] = gone
                    if len(self._gone) > GONE_KEPT:
                        del self._gone[next(iter(self._gone))]
                self._room_typing.pop(nick, None)
                self._private_typing.pop(key, None)
                changes.add(ROOM, Line("system", words.left(nick, cause), when))
                if key in self.privates:
                    changes.add(key, Line("system", words.left(nick, cause), when))
                changes.members = changes.typing = True
            case ev.Renamed(old=old, new=new, time=when):
                self._renamed(old, new, when, changes)
                changes.members = True
            case ev.Members(members=members):
                self.members = {key_of(m.nick): m for m in members}
                changes.members = True
            case ev.TypingNotice(nick=nick, active=active, to=to):
                table, who = (self._room_typing, nick) if to is None else (self._private_typing, key_of(nick))
                if active:
                    table[who] = self._clock()
                else:
                    table.pop(who, None)
                changes.typing = True
            case ev.Error(code=code, text=text):
                changes.add(ROOM, self._line("error", host_refusal_sentence(code, text)))
            case LatencyMeasured(seconds=seconds):
                self._status = dataclasses.replace(self._status, rtt=seconds)
                changes.status = True
            case HostStopped(reason=reason) if self._status.hosting:
                changes.add(ROOM, self._line("error", words.host_stopped(reason)))
            case Overflowed(count=count):
                changes.add(ROOM, self._line("error", words.skipped(count)))
            case HostVerified(fingerprint=fingerprint, first_use=first_use):
                code = room_code(fingerprint)
                self._status = dataclasses.replace(self._status, encrypted=True, code=code)
                changes.verified, changes.status = fingerprint, True
                if first_use:
                    self.notes.append(words.first_meeting(code))
            case KeyRejected():
                self._rejected = event  # the failure itself follows, maybe in a later batch
            case RoomMoved(transport=transport, host=host, port=port, new_host=new_host):
                address, name = format_address(host, port), transport.value.upper()
                self._status = dataclasses.replace(self._status, transport=name, address=address, port=port)
                mine = new_host is not None and key_of(new_host) == key_of(self.nick)
                line = words.new_host(new_host, mine) if new_host else words.moved(name, address)
                changes.add(ROOM, self._line("system", line))
                changes.status = True

    def _chat_message(self, message: ev.ChatMessage, changes: Changes) -> None:
        own = key_of(message.sender) == key_of(self.nick)
        conversation: str | None = ROOM
        if message.to is not None:
            other = message.to if own else message.sender
            conversation = key_of(other)
            if conversation not in self.privates:
                changes.ops.append(self._open_private(other, focus=False))
            self._private_typing.pop(conversation, None)
            changes.typing = True
        elif message.sender in self._room_typing:
            del self._room_typing[message.sender]
            changes.typing = True
        kind = "action" if message.action else "message"
        changes.add(conversation, Line(kind, message.text, message.time, message.sender, own))
        private = message.to is not None
        changes.incoming.append(
            out.Incoming(conversation, message.sender, message.text, message.action, private)
        )
        if not own:
            changes.attention += 1
            if message.to is not None or mentions(message.text, self.nick):
                changes.mention = True

    def _welcomed(self, welcome: ev.Welcome, changes: Changes) -> None:
        first = not self.welcomed
        self.welcomed = True
        self._lost = False
        self.nick = welcome.nick
        self.room = welcome.room
        self.members = {key_of(m.nick): m for m in welcome.members}
        changes.ops.append(out.SetRoom(welcome.room, welcome.nick))
        if first:
            changes.opened = True
            text = words.welcomed(welcome.room, welcome.nick)
            for note in self.notes:
                changes.add(ROOM, self._line("system", note))
        else:
            text = words.reconnected(welcome.room)
        for message in welcome.history:
            if message.to is None:
                own = key_of(message.sender) == key_of(welcome.nick)
                kind = "action" if message.action else "message"
                changes.add(ROOM, Line(kind, message.text, message.time, message.sender, own))
        if first and any(m.to is None for m in welcome.history):  # replayed, or kept here
            changes.add(ROOM, self._line("system", words.earlier_above()))
        changes.add(ROOM, self._line("system", text))
        changes.members = changes.status = True

    def _state_changed(self, change: StateChanged, changes: Changes) -> None:
        connected = change.state is ClientState.CONNECTED
        address = self._status.address
        reason = ""
        if not connected and change.failure is not None:
            reason = failure_sentence(change.failure, address, change.reason)
        self._retry_at = self._clock() + change.retry_in if change.retry_in is not None else None
        self._status = dataclasses.replace(
            self._status,
            state=change.state,
            reason=reason,
            rtt=self._status.rtt if connected else None,
            retry_in=change.retry_in,
        )
        changes.status = True
        if change.state is ClientState.DISCONNECTED and not self.welcomed:
            log.info("could not join %s: %s (%s)", address, change.reason, change.failure)
            changes.failed = failure_sentence(change.failure, address, change.reason)
            changes.failure, changes.rejected = change.failure, self._rejected
        elif change.state is ClientState.RECONNECTING and not self._lost:
            self._lost = True
            self._room_typing.clear()
            self._private_typing.clear()
            changes.typing = True
            style = "system" if change.failure is FailureKind.HANDED_OVER else "error"  # no failure
            changes.add(ROOM, self._line(style, reason or words.connection_lost()))
        elif change.state is ClientState.DISCONNECTED and change.failure is not FailureKind.CLOSED:
            changes.add(ROOM, self._line("error", reason or words.disconnected()))

    def _renamed(self, old: str, new: str, when: float, changes: Changes) -> None:
        old_key, new_key = key_of(old), key_of(new)
        member = self.members.pop(old_key, None)
        self.members[new_key] = (
            dataclasses.replace(member, nick=new) if member else ev.MemberInfo(new, since=when)
        )
        if key_of(self.nick) == old_key:
            self.nick = new
            changes.ops.append(out.SetRoom(self.room, new))
            changes.add(ROOM, Line("system", words.renamed_self(new), when))
            return
        text = words.renamed(old, new)
        changes.add(ROOM, Line("system", text, when))
        if old_key in self.privates:
            del self.privates[old_key]
            self.privates[new_key] = new
            changes.ops.append(out.RenamePrivate(old_key, new_key, new))
            changes.add(new_key, Line("system", text, when))
        if self._room_typing.pop(old, None) is not None:
            self._room_typing[new] = self._clock()

    def _line(self, kind: str, text: str) -> Line:
        """A system or error line dated now."""
        return Line(kind, text, self._clock())
