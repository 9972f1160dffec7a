"""The UDP host's one service thread: receive, retransmit, send; the room driver decides.

One thread owns the socket, the room driver (`net.host.driver`, with the `Room` and the
connection timers), every channel and its timers, so nothing here needs a lock. Each
round it waits in `select` for datagrams, the stop signal or the next timer; reads every
queued datagram (a batch); feeds each to its connection's channel; hands the messages
that became complete to the driver; collects the room's outputs per receiver in order (a broadcast is encoded
once, and the same bytes go on every member's list); and finally hands each member's list
to its channel in one call and lets every channel that has something to send write its
datagrams with non-blocking `sendto` (the channel bundles a member's small messages into
as few datagrams as fit). A datagram the kernel refuses is simply lost and
retransmitted later, so a slow member only ever fills its own window and backlog: it
never holds up the others, and is dropped when its backlog or retry budget runs out.

Strangers: anyone can forge a source address, so the host sends an address that has not
shown it receives there (a validated address) at most 3x what came from it (QUIC's
anti-amplification rule). An OPEN without a valid token gets a RETRY carrying one, exactly
as large as the smallest OPEN, and no state at all (`net.udp.retry`);
only an OPEN that echoes its token creates a connection, so everything a connection sends
goes to a validated address. Any other LanChat datagram for an unknown connection gets at
most a RESET (rate-limited, smaller than the DATA that triggered it); a datagram that is
not ours goes to the discovery handler, whose answer is sent only when it is at most 3x
the datagram (and within the same rate limit), or is ignored. Nothing from a connection
that has not said hello reaches the room's members.
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
from typing import Any

from net.addresses import SockAddr, format_sockaddr
from net.host.loop import ServiceLoop
from net.host.peer import PLAINTEXT_ONLY, Security
from net.host.sources import AddressCounter
from net.protocol import events as ev
from net.protocol.fastcodec import encode_event, encode_messages
from net.room import Relay, Room
from net.room.ratelimit import TokenBucket
from net.secure.tls import TlsError
from net.udp.burst import BurstSender
from net.udp.channel import Channel
from net.udp.peer import UdpPeer
from net.udp.retry import RetryTokens
from net.udp.rounds import Run, hand_over
from net.udp.sockets import DatagramReader
from net.udp.tuning import UdpTuning
from net.udp.wire import (
    MAX_DATAGRAM_BYTES,
    Datagram,
    Kind,
    ResetReason,
    WireError,
    encode,
    encode_retry,
    is_lanchat_datagram,
    parse,
)
from net.wakeup import Wakeup

log = logging.getLogger(__name__)

#: The most an address that has not been validated may be sent, as a multiple of what it
#: sent (QUIC's limit, RFC 9000 section 8). Only discovery answers come near it; a RETRY or
#: a RESET is never larger than the datagram it answers.
AMPLIFICATION_LIMIT = 3

DiscoveryHandler = Callable[[bytes, SockAddr], "bytes | None"]


class HostLoop(ServiceLoop[UdpPeer]):
    """Runs in its own thread (`run`); other threads only call `request_stop`.

    It is the UDP shell's `HostIO`: the room driver (`net.host.driver`) decides, the loop
    queues frames on channels and sends datagrams.
    """

    def __init__(
        self,
        sock: socket.socket,
        room: Room,
        tuning: UdpTuning,
        *,
        heartbeat_timeout: float,
        handshake_timeout: float,
        discovery_handler: Callable[[], DiscoveryHandler | None],
        security: Security = PLAINTEXT_ONLY,
        max_per_address: int = 0,
    ) -> None:
        super().__init__(room, heartbeat_timeout, handshake_timeout, tuning.close_grace, security)
        self._sock = sock
        self._reader = DatagramReader(sock)
        self._burst = BurstSender(sock)
        self._tuning = tuning
        self._discovery_handler = discovery_handler
        self._peers: dict[int, UdpPeer] = {}
        self._handshakes: OrderedDict[int, UdpPeer] = OrderedDict()  # not joined yet, oldest first
        self._per_address = AddressCounter(max_per_address)  # the connections in `_peers`
        self._closed_ids: OrderedDict[int, None] = OrderedDict()
        self._dirty: set[UdpPeer] = set()
        #: The run the next broadcast joins if its receivers are the same (None: start a new one).
        #: Ended by anything that changes who receives broadcasts, and by every flush.
        self._run: Run | None = None
        self._replies = TokenBucket(tuning.reply_rate, tuning.reply_burst, time.monotonic())
        self._tokens = RetryTokens(time.monotonic(), lifetime=tuning.retry_token_lifetime)
        self._next_deadline = float("inf")
        self._wakeup = Wakeup()
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ, "socket")
        self._selector.register(self._wakeup.reader, selectors.EVENT_READ, "wake")
        self._stop_lock = threading.Lock()
        self.counters = {
            "garbage": 0,
            "strangers": 0,
            "resets_sent": 0,
            "retries_sent": 0,
            "discovery": 0,
            "discovery_too_large": 0,
            "evicted": 0,
            "crowded": 0,
        }

    # -- for other threads ----------------------------------------------------------------

    def wake(self) -> None:
        self._wakeup.wake()

    def request_stop(self, reason: str) -> None:
        with self._stop_lock:
            if self._stop_reason is None:
                self._stop_reason = reason
        self._wakeup.wake()

    def peer_stats(self) -> dict[str, dict[str, Any]]:
        """Channel figures per connection: members by nick, others by address and connection id
        (a snapshot for tests and diagnostics)."""
        return {
            self.room.nick_of(peer) or f"{peer.where}#{peer.conn_id:016x}": dataclasses.asdict(
                peer.channel.stats()
            )
            for peer in list(self._peers.values())
        }

    # -- the loop ---------------------------------------------------------------------------

    def _serve(self, until: float) -> None:
        timeout = 0.0 if self._dirty else max(0.0, min(until, self._next_deadline) - time.monotonic())
        for key, _ in self._selector.select(timeout):
            if key.data == "wake":
                self._wakeup.drain()
            else:
                self._receive_batch()

    def _write(self, now: float, timers_ran: bool) -> None:
        # A full pass is also a safety net: every channel's timer is looked at.
        self._flush(now, full=timers_ran or now >= self._next_deadline)

    # -- receiving --------------------------------------------------------------------------

    def _receive_batch(self) -> None:
        now = time.monotonic()
        try:
            for data, address in self._reader.read_batch():
                try:
                    self._on_datagram(data, address, now)
                except Exception:
                    # A bug must cost at most this datagram, never the host.
                    log.exception("internal error on a datagram from %s", format_sockaddr(address))
        except OSError as exc:
            log.warning("receiving on the UDP socket failed: %s", exc.strerror or exc)

    def _on_datagram(self, data: bytes, address: SockAddr, now: float) -> None:
        if not is_lanchat_datagram(data):
            self._on_foreign(data, address)
            return
        try:
            datagram = parse(data)
        except WireError as exc:
            self.counters["garbage"] += 1
            log.debug("ignoring a malformed datagram from %s: %s", format_sockaddr(address), exc)
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
        peer.last_heard = channel.last_heard
        self._dirty.add(peer)
        stream = peer.take_input()  # the datagram's frames (or TLS bytes)
        # Acks still count while closing (they let the last messages finish); input does not.
        if stream and not peer.closing:
            self.driver.receive(peer, peer.decode(stream))

    def _on_foreign(self, data: bytes, address: SockAddr) -> None:
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
        if not reply:
            return
        if len(reply) > min(MAX_DATAGRAM_BYTES, AMPLIFICATION_LIMIT * len(data)):
            # The prober's address is not validated: a small probe (a forged one, or an old
            # browser's, which did not pad its probes) gets no answer rather than a large one.
            self.counters["discovery_too_large"] += 1
            log.debug("not answering a %d-byte datagram with %d bytes", len(data), len(reply))
            return
        if not self._replies.take(time.monotonic()):
            self._send_to(reply, address)

    def _open(self, datagram: Datagram, address: SockAddr, now: float) -> UdpPeer | None:
        """A new connection for an OPEN that echoes a valid token; for any other OPEN a RETRY
        with a token, for DATA a RESET (at most), and nothing for the rest. Before the token
        no state is kept and nothing larger than the datagram is sent."""
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
        if not self._tokens.check(datagram.token, address, conn_id, now):
            # Not rate-limited: it is never larger than the OPEN, and a flood of forged OPENs
            # must not keep genuine clients from getting their token.
            self.counters["retries_sent"] += 1
            self._send_to(encode_retry(conn_id, self._tokens.issue(address, conn_id, now)), address)
            return None
        if not self._per_address.add(address):  # validated; before evicting anyone else's handshake
            self.counters["crowded"] += 1
            level, line = self._per_address.turned_away(address)
            log.log(level, "%s", line)
            self._reply_reset(conn_id, address, ResetReason.BUSY)
            return None
        if len(self._handshakes) >= self._tuning.max_handshakes:
            _, oldest = self._handshakes.popitem(last=False)
            self.counters["evicted"] += 1
            log.debug("too many connections saying hello at once; dropping %s", oldest.where)
            self._close_now(oldest, ResetReason.BUSY, budgeted=True)
        config = self._tuning.channel_config(give_up_after=self.driver.heartbeat_timeout, joined=False)
        channel = Channel(conn_id, now=now, opener=False, config=config)
        peer = UdpPeer(address, channel, now, self.security)
        self._peers[conn_id] = peer
        self._handshakes[conn_id] = peer
        log.debug("new UDP connection from %s", peer.where)
        return peer

    def _reply_reset(self, conn_id: int, address: SockAddr, reason: ResetReason) -> None:
        if self._replies.take(time.monotonic()):
            return  # over the reply budget: say nothing
        self.counters["resets_sent"] += 1
        self._send_to(encode(Datagram(Kind.RESET, conn_id, 0, 0, reason=reason)), address)

    def welcomed(self, peer: UdpPeer) -> None:
        """The peer is a member now: it receives broadcasts and may send full-size messages."""
        self._run = None  # the receivers of broadcasts changed
        self._handshakes.pop(peer.conn_id, None)
        joined = self._tuning.channel_config(give_up_after=self.driver.heartbeat_timeout, joined=True)
        peer.channel.set_receive_limits(
            window=joined.receive_window, max_message_bytes=joined.max_message_bytes
        )

    # -- HostIO: what the room driver has the loop do -------------------------------------------

    def peers(self) -> list[UdpPeer]:
        return list(self._peers.values())

    def read_waiting(self, peer: UdpPeer) -> None:
        """Nothing to do: every datagram that arrived was read before the timers ran."""

    def relay(self, run: Relay, acks: bytes | None) -> bool:
        """A run of messages from one sender: encoded in one piece, split into frames (a frame
        holds no raw LF), broadcast; the acks of an open sender are each a channel message."""
        self._broadcast_frames(encode_messages(run.messages)[:-1].split(b"\n"), run.sender)
        if acks is None:
            return False
        for ack in acks[:-1].split(b"\n"):
            self.queue(run.sender, ack)
        return True

    def broadcast(self, event: ev.Event, exclude: object) -> None:
        self._broadcast_frames([encode_event(event)[:-1]], exclude)  # every member's connection is open

    def _broadcast_frames(self, frames: list[bytes], exclude: object) -> None:
        """Queue `frames` (without their newlines) for every member but `exclude`."""
        run = self._run
        if run is not None and run.exclude is exclude:
            run.frames += frames  # the same receivers as the run's first frame
            return
        run = self._run = Run(exclude, frames)
        receivers = [peer for peer in self.room.peers() if peer is not exclude and not peer.closing]
        for peer in receivers:
            peer.pending.append(run)  # the same run object for every receiver
        self._dirty.update(receivers)

    def queue(self, peer: UdpPeer, frame: bytes) -> None:
        """One frame as one channel message (the newline is implied by the message boundary)."""
        frame = frame.rstrip(b"\n")
        if frame:
            pending = peer.pending
            if pending and pending[-1] is self._run:
                self._run = None  # later broadcasts must come after this frame for this peer
            pending.append(frame)  # behind this round's broadcasts to it: order is kept
            self._dirty.add(peer)

    queue_reply = queue  # an ack is one more channel message

    def detach(self, peer: UdpPeer, *, deliver: bool) -> None:
        self._run = None  # it receives no later broadcasts
        self._handshakes.pop(peer.conn_id, None)
        self._dirty.add(peer)

    def finish(self, peer: UdpPeer) -> None:
        self._close_now(peer, ResetReason.CLOSED)

    # -- sending and timers -------------------------------------------------------------------

    def _flush(self, now: float, *, full: bool = False) -> None:
        """Let channels send: the ones touched this round, or all of them when `full`.

        `_next_deadline` is the earliest timer of any channel; a full pass recomputes it,
        a partial one can only bring it forward.
        """
        self.driver.make_durable()  # nothing of the round leaves before it is in the journal
        dirty, self._dirty = self._dirty, set()
        if full:
            dirty.update(self._peers.values())
            self._next_deadline = float("inf")
        self._run = None
        for peer in dirty:
            if peer.conn_id not in self._peers:
                continue
            channel = peer.channel
            try:
                hand_over(peer)
            except TlsError as exc:
                self.driver.link_lost(peer, exc.text)
                continue
            calls = channel.poll_burst(now)
            if calls:
                self._burst.send_calls(calls, peer.address)  # the hot path: few system calls
            if channel.failed:
                self._on_channel_failed(peer)
                continue
            if peer.closing and channel.idle:
                self._close_now(peer, ResetReason.CLOSED)
                continue
            deadline = channel.next_deadline()
            if deadline is not None and deadline < self._next_deadline:
                self._next_deadline = deadline

    def _send_to(self, datagram: bytes, address: SockAddr) -> None:
        try:
            self._sock.sendto(datagram, address)
        except (BlockingIOError, InterruptedError):
            pass  # the kernel's buffer is full: the datagram counts as lost and is resent
        except OSError as exc:
            log.debug("cannot send to %s: %s", format_sockaddr(address), exc.strerror or exc)

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
        self.driver.link_lost(peer, reason)  # finishes it (the channel failed)

    # -- closing ------------------------------------------------------------------------------

    def _close_now(self, peer: UdpPeer, reason: ResetReason, *, budgeted: bool = False) -> None:
        """Forget `peer` now; a RESET tells it (unless it reset the connection itself).

        `budgeted`: the RESET counts against the replies to strangers (an evicted
        connection that never said hello may have a forged address).
        """
        if self._peers.pop(peer.conn_id, None) is None:
            return
        self._per_address.remove(peer.address)
        self._handshakes.pop(peer.conn_id, None)
        peer.closing = True
        self._run = None
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
            self._selector.unregister(self._wakeup.reader)
            for peer in list(self._peers.values()):
                self.driver.say_bye(peer, reason)
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
                self._close_now(peer, ResetReason.CLOSED)
            self._selector.close()
            self._sock.close()
            self._wakeup.close()
