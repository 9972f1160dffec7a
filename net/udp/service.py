"""The UDP host's one service thread: receive, run the room, retransmit, send.

One thread owns the socket, the `Room`, every channel and every timer, so nothing here
needs a lock. Each round it waits in `select` for datagrams, the stop signal or the next
timer; reads every queued datagram (a batch); feeds each to its connection's channel;
runs the messages that became complete through the connection's protocol state machine
and the room; collects the room's outputs per receiver in order (a broadcast is encoded
once, and the same bytes go on every member's list); and finally hands each member's list
to its channel in one call and lets every channel that has something to send write its
datagrams with non-blocking `sendto` (the channel bundles a member's small messages into
as few datagrams as fit). A datagram the kernel refuses is simply lost and
retransmitted later, so a slow member only ever fills its own window and backlog: it
never holds up the others, and is dropped when its backlog or retry budget runs out.

Strangers: a datagram that is not ours goes to the discovery handler (or is ignored); a
LanChat datagram for an unknown connection gets at most a RESET (rate-limited, smaller
than what triggered it), unless it opens a new connection. Nothing from a connection that
has not said hello reaches the room's members.
"""

from __future__ import annotations

import dataclasses
import logging
import selectors
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from net.protocol import LocalProtocolError, RemoteProtocolError
from net.protocol import events as ev
from net.protocol.codec import encode_acks, encode_event, encode_messages
from net.protocol.connection import MAX_REMOTE_ERRORS, ConnectionClosed, ConnectionState
from net.room import Broadcast, Disconnect, Output, Relay, Room, Send, in_runs
from net.room.ratelimit import TokenBucket
from net.tcp.listener import format_address
from net.udp.burst import BurstSender
from net.udp.channel import Channel
from net.udp.peer import UdpPeer
from net.udp.sender import batch_messages
from net.udp.sockets import DatagramReader
from net.udp.tuning import UdpTuning
from net.udp.wire import (
    MAX_DATAGRAM_BYTES,
    Datagram,
    Kind,
    ResetReason,
    WireError,
    encode,
    is_lanchat_datagram,
    parse,
)

log = logging.getLogger(__name__)

DiscoveryHandler = Callable[[bytes, tuple], "bytes | None"]


class _Run:
    """Consecutive broadcasts with the same receivers, queued on each of them as one item.

    The frames are joined once, at the end of the round, and the same `Batch` goes on every
    receiver's channel: no work per member and message, only per member and datagram.
    """

    __slots__ = ("_chunks", "exclude", "frames")

    def __init__(self, exclude: object, frames: list[bytes]) -> None:
        self.exclude = exclude
        self.frames = frames
        self._chunks: list | None = None

    def chunks(self) -> list:
        if self._chunks is None:
            self._chunks = batch_messages(self.frames, single=True)
        return self._chunks


class HostLoop:
    """Runs in its own thread (`run`); other threads only call `request_stop`."""

    def __init__(
        self,
        sock: socket.socket,
        room: Room,
        tuning: UdpTuning,
        *,
        heartbeat_timeout: float,
        handshake_timeout: float,
        discovery_handler: Callable[[], DiscoveryHandler | None],
    ) -> None:
        self.room = room
        self.member_count = 0  # read by other threads; an int assignment is atomic
        self._sock = sock
        self._reader = DatagramReader(sock)
        self._burst = BurstSender(sock)
        self._tuning = tuning
        self._heartbeat_timeout = heartbeat_timeout
        self._handshake_timeout = handshake_timeout
        self._discovery_handler = discovery_handler
        self._peers: dict[int, UdpPeer] = {}
        self._handshakes: OrderedDict[int, UdpPeer] = OrderedDict()  # not joined yet, oldest first
        self._closed_ids: OrderedDict[int, None] = OrderedDict()
        self._dirty: set[UdpPeer] = set()
        #: The run the next broadcast joins if its receivers are the same (None: start a new one).
        #: Ended by anything that changes who receives broadcasts, and by every flush.
        self._run: _Run | None = None
        self._replies = TokenBucket(tuning.reply_rate, tuning.reply_burst, time.monotonic())
        self._tick = min(0.25, max(0.02, min(heartbeat_timeout, handshake_timeout) / 10))
        self._next_check = 0.0
        self._next_deadline = float("inf")
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ, "socket")
        self._selector.register(self._wake_reader, selectors.EVENT_READ, "wake")
        self._stop_reason: str | None = None
        self._stop_lock = threading.Lock()
        self.counters = {"garbage": 0, "strangers": 0, "resets_sent": 0, "discovery": 0, "evicted": 0}

    # -- for other threads ----------------------------------------------------------------

    def request_stop(self, reason: str) -> None:
        with self._stop_lock:
            if self._stop_reason is None:
                self._stop_reason = reason
        try:
            self._wake_writer.send(b"\0")
        except OSError:
            pass

    def peer_stats(self) -> dict[str, dict]:
        """Channel figures per connection: members by nick, others by address and connection id
        (a snapshot for tests and diagnostics)."""
        return {
            self.room.nick_of(peer) or f"{peer.where}#{peer.conn_id:016x}": dataclasses.asdict(
                peer.channel.stats()
            )
            for peer in list(self._peers.values())
        }

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> str:
        """Serve until asked to stop; returns the reason."""
        reason = "host stopped"
        try:
            while self._stop_reason is None:
                now = time.monotonic()
                timeout = 0.0 if self._dirty else max(0.0, min(self._next_check, self._next_deadline) - now)
                for key, _ in self._selector.select(timeout):
                    if key.data == "wake":
                        self._drain_wake()
                    else:
                        self._receive_batch()
                now = time.monotonic()
                full = now >= self._next_deadline
                if now >= self._next_check:
                    self._check_timers(now)
                    self._next_check = now + self._tick
                    full = True  # also a safety net: every channel's timer is looked at
                self._flush(now, full=full)
                self.member_count = len(self.room)
            reason = self._stop_reason
        except Exception as exc:
            log.exception("the UDP host's service loop failed")
            reason = f"host failed: {exc}"
        finally:
            self._close_everything(reason)
        return reason

    def _drain_wake(self) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except OSError:
            pass

    # -- receiving --------------------------------------------------------------------------

    def _receive_batch(self) -> None:
        now = time.monotonic()
        try:
            for data, address in self._reader.read_batch():
                try:
                    self._on_datagram(data, address, now)
                except Exception:
                    # A bug must cost at most this datagram, never the host.
                    log.exception("internal error on a datagram from %s", format_address(address))
        except OSError as exc:
            log.warning("receiving on the UDP socket failed: %s", exc.strerror or exc)

    def _on_datagram(self, data: bytes, address: tuple, now: float) -> None:
        if not is_lanchat_datagram(data):
            self._on_foreign(data, address)
            return
        try:
            datagram = parse(data)
        except WireError as exc:
            self.counters["garbage"] += 1
            log.debug("ignoring a malformed datagram from %s: %s", format_address(address), exc)
            return
        peer = self._peers.get(datagram.conn_id)
        if peer is None:
            peer = self._open(datagram, address, now)
            if peer is None:
                return
        elif peer.address != address:
            self.counters["strangers"] += 1  # someone else using a member's connection id
            return
        channel = peer.channel
        channel.receive(datagram, now)
        self._dirty.add(peer)
        stream = channel.take_stream()  # the datagram's messages, each plus its newline
        # Acks still count while closing (they let the last messages finish); input does not.
        if stream and not peer.closing:
            self._on_stream(peer, stream)

    def _on_foreign(self, data: bytes, address: tuple) -> None:
        handler = self._discovery_handler()
        if handler is None:
            self.counters["garbage"] += 1
            return
        try:
            reply = handler(data, address)
        except Exception:
            log.exception("the discovery handler failed")
            return
        self.counters["discovery"] += 1
        if reply and len(reply) <= MAX_DATAGRAM_BYTES and not self._replies.take(time.monotonic()):
            self._send_to(reply, address)

    def _open(self, datagram: Datagram, address: tuple, now: float) -> UdpPeer | None:
        """A new connection for an OPEN datagram; a RESET (at most) for anything else."""
        conn_id = datagram.conn_id
        if datagram.kind is Kind.RESET or self._stop_reason is not None:
            return None
        if not datagram.opening or conn_id == 0 or conn_id in self._closed_ids:
            self.counters["strangers"] += 1
            if datagram.kind is Kind.DATA:  # only DATA: the RESET is then always the smaller datagram
                closed = conn_id in self._closed_ids
                reason = ResetReason.CLOSED if closed else ResetReason.UNKNOWN_CONNECTION
                self._reply_reset(conn_id, address, reason)
            return None
        if len(self._handshakes) >= self._tuning.max_handshakes:
            _, oldest = self._handshakes.popitem(last=False)
            self.counters["evicted"] += 1
            log.debug("too many connections saying hello at once; dropping %s", oldest.where)
            self._finish(oldest, ResetReason.BUSY, budgeted=True)
        config = self._tuning.channel_config(give_up_after=self._heartbeat_timeout, joined=False)
        channel = Channel(conn_id, now=now, opener=False, config=config)
        peer = UdpPeer(address, format_address(address), channel, now)
        self._peers[conn_id] = peer
        self._handshakes[conn_id] = peer
        log.debug("new UDP connection from %s", peer.where)
        return peer

    def _reply_reset(self, conn_id: int, address: tuple, reason: ResetReason) -> None:
        if self._replies.take(time.monotonic()):
            return  # over the reply budget: say nothing
        self.counters["resets_sent"] += 1
        self._send_to(encode(Datagram(Kind.RESET, conn_id, 0, 0, reason=reason)), address)

    def _on_stream(self, peer: UdpPeer, stream: bytes) -> None:
        """Complete messages, each plus a newline: frames for the protocol state machine, then the room."""
        conn = peer.conn
        try:
            conn.receive_data(stream)
        except RemoteProtocolError as exc:
            self._on_bad_input(peer, exc)
            return
        room = self.room
        while not peer.closing:
            try:
                events = conn.events()
            except RemoteProtocolError as exc:
                self._on_bad_input(peer, exc)
                continue
            if not events:
                return
            for event in in_runs(events):  # consecutive messages, the bulk of the traffic, as one run
                if peer.closing:
                    return
                try:
                    if type(event) is list:
                        self._apply(room.handle_says(peer, event))
                    elif isinstance(event, ConnectionClosed):
                        self._begin_close(peer, "connection closed", bye=False, flush=True)
                        return
                    else:
                        self._on_event(peer, event)
                except Exception:
                    # A bug must cost this one connection, never the host.
                    log.exception("internal error while serving %s", peer.where)
                    self._begin_close(peer, "internal error", bye=True, flush=True)

    def _on_event(self, peer: UdpPeer, event: ev.Event) -> None:
        if isinstance(event, ev.Hello):
            self._run = None  # the room may change
            self._apply(self.room.join(peer, event))
            if peer in self.room:
                self._joined(peer)
        elif peer in self.room:
            self._apply(self.room.handle(peer, event))
        elif isinstance(event, ev.Ping):
            self._send(peer, event.reply())
        elif isinstance(event, ev.Bye):
            self._begin_close(peer, event.reason or "left", bye=False, flush=True)
        elif not isinstance(event, ev.Pong):
            self._apply(self.room.handle(peer, event))  # answers "say hello first"

    def _joined(self, peer: UdpPeer) -> None:
        """The peer is a member now: it may send full-size messages."""
        self._handshakes.pop(peer.conn_id, None)
        joined = self._tuning.channel_config(give_up_after=self._heartbeat_timeout, joined=True)
        peer.channel.set_receive_limits(
            window=joined.receive_window, max_message_bytes=joined.max_message_bytes
        )

    def _on_bad_input(self, peer: UdpPeer, error: RemoteProtocolError) -> None:
        peer.errors += 1
        # Members' mistakes are worth a warning; a stranger's (spoofable, unlimited) only a debug line.
        level = logging.WARNING if peer in self.room else logging.DEBUG
        log.log(level, "bad input from %s: %s", peer.where, error)
        self._queue(peer, peer.conn.send_error(error))
        if error.fatal:
            self._begin_close(peer, f"protocol error: {error.text}", bye=False, flush=True)
        elif peer.errors > MAX_REMOTE_ERRORS:
            self._begin_close(peer, "too many protocol errors", bye=True, flush=True)

    # -- room output --------------------------------------------------------------------------

    def _apply(self, outputs: list[Output]) -> None:
        if len(outputs) == 1 and type(outputs[0]) is Relay:
            self._relay(outputs[0])  # a run of messages, the bulk of the traffic
            return
        for output in outputs:
            if isinstance(output, Relay):
                self._relay(output)
            elif isinstance(output, Send):
                self._send(output.to, output.event)
            elif isinstance(output, Broadcast):
                self._broadcast(output.event, output.exclude)
            elif isinstance(output, Disconnect):
                self._begin_close(output.peer, output.reason, bye=True, flush=True)

    def _send(self, peer: UdpPeer, event: ev.Event) -> None:
        if peer.closing:
            return
        if type(event) is ev.Ack and peer.conn.state is ConnectionState.OPEN:
            self._queue(peer, encode_event(event))  # an ack leaves an open connection's state as it is
            return
        try:
            frame = peer.conn.send(event)
        except LocalProtocolError as exc:
            log.debug("not sending %s to %s: %s", event.TYPE, peer.where, exc)
            return
        if isinstance(event, ev.Welcome):
            log.info("%s joined from %s", event.nick, peer.where)
        self._queue(peer, frame)

    def _relay(self, relay: Relay) -> None:
        """A run of messages from one sender: encoded in one piece, split into frames (a frame
        holds no raw LF), broadcast, and their acks queued for the sender."""
        sender = relay.sender
        self._broadcast_frames(encode_messages(relay.messages)[:-1].split(b"\n"), sender)
        if not sender.closing and sender.conn.state is ConnectionState.OPEN:
            # Acks leave an open connection's state as it is; each is a channel message.
            for ack in encode_acks(relay.acked, relay.messages)[:-1].split(b"\n"):
                self._queue(sender, ack)
        else:
            for ack in relay.acks:
                self._send(sender, ack)

    def _broadcast(self, event: ev.Event, exclude: object) -> None:
        if isinstance(event, ev.Left):
            log.info("%s left (%s)", event.nick, event.reason or "no reason given")
        self._broadcast_frames([encode_event(event)[:-1]], exclude)  # every member's connection is open

    def _broadcast_frames(self, frames: list[bytes], exclude: object) -> None:
        """Queue `frames` (without their newlines) for every member but `exclude`."""
        run = self._run
        if run is not None and run.exclude is exclude:
            run.frames += frames  # the same receivers as the run's first frame
            return
        run = self._run = _Run(exclude, frames)
        receivers = [peer for peer in self.room.peers() if peer is not exclude and not peer.closing]
        for peer in receivers:
            peer.pending.append(run)  # the same run object for every receiver
        self._dirty.update(receivers)

    def _queue(self, peer: UdpPeer, frame: bytes) -> None:
        """One frame as one channel message (the newline is implied by the message boundary)."""
        frame = frame.rstrip(b"\n")
        if frame:
            pending = peer.pending
            if pending and pending[-1] is self._run:
                self._run = None  # later broadcasts must come after this frame for this peer
            pending.append(frame)  # behind this round's broadcasts to it: order is kept
            self._dirty.add(peer)

    # -- sending and timers -------------------------------------------------------------------

    def _flush(self, now: float, *, full: bool = False) -> None:
        """Let channels send: the ones touched this round, or all of them when `full`.

        `_next_deadline` is the earliest timer of any channel; a full pass recomputes it,
        a partial one can only bring it forward.
        """
        dirty, self._dirty = self._dirty, set()
        if full:
            dirty.update(self._peers.values())
            self._next_deadline = float("inf")
        self._run = None
        for peer in dirty:
            if peer.conn_id not in self._peers:
                continue
            channel = peer.channel
            if peer.pending:
                chunks: list = []
                for item in peer.pending:
                    if type(item) is _Run:
                        chunks.extend(item.chunks())  # cut once for all its receivers
                    else:
                        chunks.append(item)
                channel.send_many(chunks)
                peer.pending = []
            calls = channel.poll_burst(now)
            if calls:
                self._burst.send_calls(calls, peer.address)  # the hot path: few system calls
            if channel.failed:
                self._on_channel_failed(peer)
                continue
            if peer.closing and channel.idle:
                self._finish(peer, ResetReason.CLOSED)
                continue
            deadline = channel.next_deadline()
            if deadline is not None and deadline < self._next_deadline:
                self._next_deadline = deadline

    def _send_to(self, datagram: bytes, address: tuple) -> None:
        try:
            self._sock.sendto(datagram, address)
        except (BlockingIOError, InterruptedError):
            pass  # the kernel's buffer is full: the datagram counts as lost and is resent
        except OSError as exc:
            log.debug("cannot send to %s: %s", format_address(address), exc.strerror or exc)

    def _on_channel_failed(self, peer: UdpPeer) -> None:
        failure = peer.channel.failure
        assert failure is not None
        if failure.reset is ResetReason.CLOSED:
            reason = "connection closed"
        elif failure.reset is not None:
            reason = "connection lost"
        else:
            reason = f"connection lost: {failure.reason}"
            if failure.undelivered:
                log.info("%s: %d messages not delivered", peer.where, len(failure.undelivered))
        self._begin_close(peer, reason, bye=False, flush=False)  # finishes it (the channel failed)

    def _check_timers(self, now: float) -> None:
        for peer in list(self._peers.values()):
            if peer.closing:
                if now >= peer.close_deadline:
                    self._finish(peer, ResetReason.CLOSED)
            elif peer not in self.room:
                if now - peer.opened > self._handshake_timeout:
                    self._begin_close(peer, "no hello in time (handshake timed out)", bye=True)
            elif now - peer.channel.last_heard > self._heartbeat_timeout:
                self._begin_close(peer, "timed out", bye=True)

    # -- closing ------------------------------------------------------------------------------

    def _begin_close(self, peer: UdpPeer, reason: str, *, bye: bool = False, flush: bool = True) -> None:
        """Take `peer` out of the room and close it, after its last messages when `flush`."""
        if peer.closing:
            return
        peer.closing = True
        self._run = None  # it receives no later broadcasts
        self._handshakes.pop(peer.conn_id, None)
        if self.room.nick_of(peer) is not None:
            self._apply(self.room.leave(peer, reason))
        else:  # not a member (any more): its closing says nothing new, and strangers are many
            log.debug("closing %s: %s", peer.where, reason)
        if not flush or peer.channel.failed:
            self._finish(peer, ResetReason.CLOSED)
            return
        if bye:
            try:
                self._queue(peer, peer.conn.send(ev.Bye(reason=reason[:300])))
            except LocalProtocolError:
                pass  # closed on the protocol level already (after a refusal or its bye)
        peer.close_deadline = time.monotonic() + self._tuning.close_grace
        self._dirty.add(peer)

    def _finish(self, peer: UdpPeer, reason: ResetReason, *, budgeted: bool = False) -> None:
        """Forget `peer` now; a RESET tells it (unless it reset the connection itself).

        `budgeted`: the RESET counts against the replies to strangers (an evicted
        connection that never said hello may have a forged address).
        """
        if self._peers.pop(peer.conn_id, None) is None:
            return
        self._handshakes.pop(peer.conn_id, None)
        peer.closing = True
        self._run = None
        if self.room.nick_of(peer) is not None:
            self._apply(self.room.leave(peer, "connection closed"))
        self._dirty.discard(peer)
        peer.pending = []
        failure = peer.channel.failure
        if failure is None or failure.reset is None:
            if failure is not None and failure.broken:
                reason = ResetReason.PROTOCOL
            if not budgeted or not self._replies.take(time.monotonic()):
                self._send_to(peer.channel.reset_datagram(reason), peer.address)
        self._closed_ids[peer.conn_id] = None
        while len(self._closed_ids) > self._tuning.closed_ids_remembered:
            self._closed_ids.popitem(last=False)

    def _close_everything(self, reason: str) -> None:
        """Bye to every member, a short grace for the acks, then RESET and close."""
        try:
            self._selector.unregister(self._wake_reader)
            for peer in list(self._peers.values()):
                if not peer.closing:
                    peer.closing = True
                    self._run = None
                    try:
                        self._queue(peer, peer.conn.send(ev.Bye(reason=reason[:300])))
                    except LocalProtocolError:
                        pass
                self._dirty.add(peer)
            deadline = time.monotonic() + self._tuning.stop_grace
            while True:
                now = time.monotonic()
                self._flush(now, full=True)
                waiting = [p for p in self._peers.values() if not p.channel.idle and not p.channel.failed]
                if not waiting or now >= deadline:
                    break
                self._dirty.update(waiting)
                if self._selector.select(min(0.02, max(0.0, deadline - now))):
                    self._receive_batch()
        except Exception:
            log.exception("error while saying bye to the members")
        finally:
            for peer in list(self._peers.values()):
                self._finish(peer, ResetReason.CLOSED)
            self._selector.close()
            self._sock.close()
            self._wake_reader.close()
            self._wake_writer.close()
