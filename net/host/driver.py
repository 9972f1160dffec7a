"""The host engine: every rule of serving a room, written once for both transports.

`RoomDriver` is pure (no sockets, no threads; the clock is injected): a transport shell
hands it what arrived from a peer (`receive`), and it feeds the room, carries out the
room's outputs, answers bad input, runs the timers (handshake deadline, heartbeat, the
grace a closing connection gets) and closes connections by one policy. Whatever must
reach the network goes through the small `HostIO` protocol that each transport
implements: queue bytes for one peer, broadcast to many, finish a peer.

Errors are values here: `HostPeer.decode` returns refused input in its place among the
events, and `receive` answers each in order, so a bad frame costs its sender an error
frame (or its connection) and never disturbs the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar

from net.addresses import sockaddr_host
from net.host.journal import JournalError, JournalFactory, RoomJournal
from net.host.peer import Entry, HostPeer, PlaintextRefused
from net.host.succession import HostSuccession, moved_line
from net.protocol import LocalProtocolError, RemoteProtocolError
from net.protocol import events as ev
from net.protocol.connection import MAX_REMOTE_ERRORS, ConnectionClosed
from net.protocol.fastcodec import encode_acks, encode_event
from net.protocol.textmode import NICKNAME_PROMPT, PROMPT_AFTER_SILENCE
from net.room import Broadcast, Disconnect, Output, Relay, Room, SayRun, Send, in_runs

log = logging.getLogger(__name__)

P = TypeVar("P", bound=HostPeer)

#: What a peer that spoke unencrypted to an encrypted-only host is told, in its dialect.
PLAINTEXT_REFUSAL = (
    "this chat is encrypted (LanChat protocol 2): please update LanChat; from a terminal, "
    "join with `ncat --ssl HOST PORT` or `openssl s_client -quiet -connect HOST:PORT`"
)

#: How much of a bye's reason goes on the wire.
MAX_BYE_REASON = 300

LOST, TIMED_OUT, REMOVED = ev.LeaveCause.LOST, ev.LeaveCause.TIMED_OUT, ev.LeaveCause.REMOVED


class HostIO(Protocol[P]):
    """What a transport does for the driver: its I/O, and nothing the room decides."""

    def peers(self) -> Iterable[P]:
        """Every connection the transport serves (members, strangers, closing ones)."""
        ...

    def queue(self, peer: P, data: bytes) -> None:
        """Bytes for `peer` alone, after the broadcasts it has not been given yet."""

    def queue_reply(self, peer: P, data: bytes) -> None:
        """An ack for an open connection (it leaves the state as it is): may be spliced
        into `peer`'s share of this round's broadcasts instead of forcing a copy of it."""

    def broadcast(self, event: ev.Event, exclude: object) -> None:
        """`event` to every member but `exclude`."""

    def relay(self, run: Relay, acks: bytes | None) -> bool:
        """A run of messages from `run.sender` to every other member. With `acks` (the
        encoded acks of an open sender) it may deliver those too: True when it did."""
        ...

    def welcomed(self, peer: P) -> None:
        """`peer` is a member now: it receives broadcasts from here on."""

    def detach(self, peer: P, *, deliver: bool) -> None:
        """`peer` receives no more broadcasts (what it was given so far still goes out when
        `deliver`); it is closing."""

    def finish(self, peer: P) -> None:
        """Close `peer` now and forget it."""

    def read_waiting(self, peer: P) -> None:
        """Read input that waits unread for `peer` (before judging it timed out)."""


class RoomDriver(Generic[P]):
    """Serves one room over one transport's I/O (see the module docstring)."""

    def __init__(
        self,
        room: Room,
        io: HostIO[P],
        *,
        heartbeat_timeout: float,
        handshake_timeout: float,
        close_grace: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.room = room
        self.io = io
        self.heartbeat_timeout = heartbeat_timeout
        self.handshake_timeout = handshake_timeout
        self.close_grace = close_grace
        self.clock = clock
        #: How often the timers run: often enough for the shorter deadline, never busily.
        self.tick = min(0.25, max(0.02, min(heartbeat_timeout, handshake_timeout) / 10))
        self.journal: RoomJournal | None = None  # `open_journal`
        #: Names successors and hands the room over (`net.host.succession`); None: no key.
        self.succession: HostSuccession | None = None
        self._handover: ev.Handover | None = None  # `prepare_handover`
        #: A room on a backbone takes its messages out of the outputs (`net.backbone.shared`).
        self.intercept: Callable[[list[Output]], list[Output]] | None = None

    # -- the journal (`net.host.journal`) ---------------------------------------------------

    def open_journal(self, factory: JournalFactory) -> None:
        """Open the room's journal and take back what it kept, before the first connection;
        a journal that cannot be opened leaves the host serving without one (logged)."""
        try:
            journal = factory()
        except JournalError as exc:
            log.warning("%s: this host keeps no history", exc)
            return
        try:
            state = journal.load(self.room.config.history_size)
        except Exception as exc:  # a file that opened but cannot be read: serve on without it
            log.warning("cannot read the room's journal (%s): this host keeps no history", exc)
            journal.close()
            return
        self.room.keep_journal(state.history)
        self.room.mailbox.restore(state.away, state.kept)
        self.journal = journal
        log.info("the room's journal holds %d recent messages", len(state.history))

    def seed_history(self, messages: tuple[ev.ChatMessage, ...]) -> None:
        """Start with `messages` (a successor's: what it received from the old host) in the
        history, kept in the journal too when there is one. Those the journal gave back
        already (this PC hosted the room before) are not kept twice."""
        known = {message.id for message in self.room.history()}
        messages = tuple(message for message in messages if message.id not in known)
        keeping = self.room.unsaved.messages is not None
        self.room.keep_journal(list(messages))
        if keeping and self.room.unsaved.messages is not None:
            self.room.unsaved.messages.extend(messages)
        else:
            self.room.unsaved.stop()

    def make_durable(self) -> None:
        """Write what the room noted since the last call to the journal, in one transaction.

        The transports call this before they write any byte of a round's output, so every
        ack and `held` leaves the host only once its message is on disk (a host killed at
        any moment keeps what it acknowledged).
        """
        if self.journal is None or not self.room.unsaved:
            return
        messages, changes = self.room.unsaved.take()
        try:
            self.journal.write(messages, changes)
        except JournalError as exc:
            log.error("%s: the host goes on without keeping history", exc)
            self.close_journal()

    def close_journal(self) -> None:
        """Stop keeping a journal (the host is stopping, or the journal failed)."""
        journal, self.journal = self.journal, None
        self.room.unsaved.stop()
        if journal is not None:
            try:
                journal.close()
            except Exception:
                log.exception("closing the room's journal failed")

    # -- input ----------------------------------------------------------------------------

    def receive(self, peer: P, entries: list[Entry]) -> None:
        """Serve what `peer` sent, in order; consecutive room messages go as one run."""
        room = self.room
        for entry in in_runs(entries):
            if peer.closing:
                return
            try:
                if type(entry) is SayRun:
                    self.apply(room.handle_says(peer, entry.says))
                elif isinstance(entry, RemoteProtocolError):
                    self._bad_input(peer, entry)
                elif isinstance(entry, ConnectionClosed):  # its end of stream, without a bye
                    self.begin_close(peer, "connection closed", cause=LOST, bye=False, flush=True)
                elif isinstance(entry, PlaintextRefused):
                    self.send(peer, ev.Refuse(code="version_mismatch", text=PLAINTEXT_REFUSAL))
                    self.begin_close(peer, "unencrypted connection refused", cause=REMOVED, flush=True)
                else:
                    self._event(peer, entry)
            except Exception:
                # A bug must cost this one connection, never the host.
                log.exception("internal error while serving %s", peer.where)
                self.begin_close(peer, "internal error", cause=REMOVED, bye=True, flush=True)

    def _event(self, peer: P, event: ev.Event) -> None:
        if isinstance(event, ev.Hello) and event.look:
            self._answer_look(peer)
        elif isinstance(event, ev.Hello):
            address = sockaddr_host(peer.address)
            if self.succession is not None:
                self.succession.hello(peer, event, address)
            self.apply(self.room.join(peer, event, address=address, plaintext=not peer.encrypted))
        elif peer in self.room:
            self.apply(self.room.handle(peer, event))
        elif isinstance(event, ev.Ping):
            self.send(peer, event.reply())
        elif isinstance(event, ev.Bye):
            self.begin_close(peer, event.reason or "left", cause=ev.LeaveCause.QUIT, flush=True)
        elif not isinstance(event, ev.Pong):
            self.apply(self.room.handle(peer, event))  # answers "say hello first"

    def _answer_look(self, peer: P) -> None:
        """A host that came back asks where the room is (`net.host.returning`): our signed
        list says which room, at which epoch, this host serves; then a bye."""
        if self.succession is not None:
            self.send(peer, self.succession.signed(self.room))
        self.begin_close(peer, "looked where the room is", cause=REMOVED, bye=True, flush=True)

    def _bad_input(self, peer: P, error: RemoteProtocolError) -> None:
        peer.errors += 1
        # A member's or a proven address's mistakes are worth a warning; a stranger's at an
        # address that may be forged (and whose datagrams are unlimited) only a debug line.
        level = logging.WARNING if peer.address_verified or peer in self.room else logging.DEBUG
        log.log(level, "bad input from %s: %s", peer.where, error)
        self.io.queue(peer, peer.encode_error(error))
        if error.fatal:
            self.begin_close(peer, f"protocol error: {error.text}", cause=REMOVED, flush=True)
        elif peer.errors > MAX_REMOTE_ERRORS:
            self.begin_close(peer, "too many protocol errors", cause=REMOVED, bye=True, flush=True)

    # -- output ---------------------------------------------------------------------------

    def apply(self, outputs: list[Output]) -> None:
        """Carry out what the room answered, in order."""
        if self.intercept is not None:
            outputs = self.intercept(outputs)
        if len(outputs) == 1 and type(outputs[0]) is Relay:
            self._relay(outputs[0])  # a run of messages, the bulk of the traffic
            return
        for output in outputs:
            if isinstance(output, Disconnect):
                # The room has already removed it: what it broadcasts now is not for this peer.
                self.io.detach(output.peer, deliver=True)
        for output in outputs:
            if isinstance(output, Relay):
                self._relay(output)
            elif isinstance(output, Send):
                self.send(output.to, output.event)
            elif isinstance(output, Broadcast):
                if isinstance(output.event, ev.Left):
                    log.info("%s left (%s)", output.event.nick, output.event.reason or "no reason given")
                self.io.broadcast(output.event, output.exclude)
            elif isinstance(output, Disconnect):
                self.begin_close(output.peer, output.reason, cause=output.cause, bye=True, flush=True)

    def _relay(self, run: Relay) -> None:
        sender = run.sender
        acks = encode_acks(run.acked, run.messages) if not sender.closing and sender.protocol_open() else None
        if not self.io.relay(run, acks):
            for ack in run.acks:
                self.send(sender, ack)

    def send(self, peer: P, event: ev.Event) -> None:
        """`event` to one peer in its dialect (nothing once it is closing)."""
        if peer.closing:
            return
        if type(event) is ev.Ack and peer.protocol_open():
            self.io.queue_reply(peer, encode_event(event))  # leaves an open connection's state as it is
            return
        try:
            data = peer.encode(event)
        except LocalProtocolError as exc:
            log.debug("not sending %s to %s: %s", event.TYPE, peer.where, exc)
            return
        self.io.queue(peer, data)
        if isinstance(event, ev.Welcome):
            log.info("%s joined from %s", event.nick, peer.where)
            peer.joined = True
            self.io.welcomed(peer)

    # -- closing and timers -----------------------------------------------------------------

    def link_lost(self, peer: P, reason: str) -> None:
        """The transport found `peer`'s link gone without a goodbye (its end of stream, a
        reset, a failed read or write, a failed channel): for the others it lost its
        connection. Nothing more can be sent to it."""
        self.begin_close(peer, reason, cause=LOST, flush=False)

    def begin_close(
        self, peer: P, reason: str, *, cause: ev.LeaveCause, bye: bool = False, flush: bool = True
    ) -> None:
        """Take `peer` out of the room and close it, after its last bytes when `flush`.

        `reason` is the words (logs, the bye, older clients), `cause` what happened for the
        others' `left` and the peer's own bye (`ev.LeaveCause`): each caller decides it here,
        once for both transports.
        """
        if peer.closing:
            return
        peer.closing = True
        self.io.detach(peer, deliver=flush)
        if peer in self.room:
            self.apply(self.room.leave(peer, reason, cause))  # logged with the Left broadcast
        elif not peer.joined and peer.address_verified:
            log.info("closing %s: %s", peer.where, reason)
        else:  # the room announced it already, or a stranger at an address that may be forged
            log.debug("closing %s: %s", peer.where, reason)
        if not flush or peer.link_failed:
            self.io.finish(peer)
            return
        if bye:
            self._queue_bye(peer, reason, cause)
        peer.close_deadline = self.clock() + self.close_grace

    def prepare_handover(self) -> None:
        """The host is stopping on request: the byes that follow hand the room over (to the
        first successor, if any and if members are present)."""
        if self.succession is not None and len(self.room):
            self._handover = self.succession.handover(self.room)

    def say_bye(self, peer: P, reason: str) -> None:
        """The host is stopping: a bye for `peer` (once), without telling the room; after
        `prepare_handover`, the `handover` before it (a line with the new address in it for
        a plain-text member)."""
        if peer.closing:
            return
        handover, succession = self._handover, self.succession
        if handover is not None and succession is not None and peer in self.room:
            if succession.follows(peer):
                self.send(peer, handover)
            elif peer.is_text:
                reason = moved_line(handover)
        peer.closing = True
        self.io.detach(peer, deliver=True)
        self._queue_bye(peer, reason, ev.LeaveCause.STOPPED)

    def _queue_bye(self, peer: P, reason: str, cause: ev.LeaveCause) -> None:
        try:
            self.io.queue(peer, peer.encode(ev.Bye(reason=reason[:MAX_BYE_REASON], cause=cause)))
        except LocalProtocolError:
            pass  # the connection is already closed on the protocol level (after a refusal)

    @staticmethod
    def _silent_since_opening(peer: P, now: float) -> bool:
        return now - peer.last_heard >= PROMPT_AFTER_SILENCE and peer.awaits_greeting()

    def _greet(self, peer: P) -> None:
        """A silent new connection is a person at `nc` (LanChat clients speak first): ask for
        a nickname, or say at once that this host serves encrypted connections only."""
        peer.greeted = True
        if peer.tls is None and not peer.security.serves_plaintext:
            peer.refuse_in_text()
            self.send(peer, ev.Refuse(code="version_mismatch", text=PLAINTEXT_REFUSAL))
            self.begin_close(peer, "unencrypted connection refused", cause=REMOVED, flush=True)
        else:
            self.io.queue(peer, NICKNAME_PROMPT)

    def check_timers(self, now: float) -> None:
        """Close what is overdue: a handshake, a silent member, a close past its grace."""
        room = self.room
        for peer in list(self.io.peers()):
            if peer.closing:
                if now >= peer.close_deadline:
                    self.io.finish(peer)
                continue
            joined = peer in room
            if joined and (peer.is_text or now - peer.last_heard <= self.heartbeat_timeout):
                continue
            if not joined and self._silent_since_opening(peer, now):
                self.io.read_waiting(peer)  # first bytes may wait unread while the host was busy
                if self._silent_since_opening(peer, now):
                    self._greet(peer)
                continue
            if not joined and now - peer.opened <= self.handshake_timeout:
                continue
            # Read what waits first: the host being behind (a long round) must never cost a
            # member its place, nor a hello that arrived in time its welcome.
            self.io.read_waiting(peer)
            if peer.closing:
                continue
            if peer not in room:
                self.begin_close(peer, "no hello in time (handshake timed out)", cause=TIMED_OUT, bye=True)
            elif now - peer.last_heard > self.heartbeat_timeout:
                self.begin_close(peer, "timed out", cause=TIMED_OUT, bye=True)
        if self.succession is not None:
            for member, successors in self.succession.due(room):
                self.send(member, successors)
            self._keep_successors(self.succession.take_unsaved())

    def _keep_successors(self, successors: ev.Successors | None) -> None:
        """Keep the list signed last in the journal: restarted, this host looks for the room
        there before serving it again (docs/PROTOCOL.md, "One room")."""
        if successors is None or self.journal is None:
            return
        try:
            self.journal.keep_successors(successors)
        except JournalError as exc:
            log.warning("%s: a restart of this host cannot look for its successors", exc)
