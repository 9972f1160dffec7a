"""The router thread: the TCP host's I/O, owner of every client socket.

Each round starts with one `select` over all connections. The router reads once from
each readable one (non-blocking, at most `recv_size` bytes, so a flooding client gets its
turn like everybody else and cannot starve the others), decodes the frames, hands them to
the room driver (`net.host.driver`, which runs the `Room` and decides everything else),
encodes every output event once (once per dialect: JSON frames and
plain-text lines) and appends broadcasts to a log shared by all receivers
(`net.tcp.fanout`). Then it gives each receiver its share of the round with one
non-blocking `send`. Whatever a socket refuses stays queued and is retried when `select`
says the socket can take more; a receiver whose own socket leaves more than
`outbound_limit` bytes queued is dropped as too slow, so a client that stops reading never
delays the others. The router never blocks on a client.

Reading here instead of in a thread per connection is what makes the host fast in
Python: the earlier design (a reader thread per client handing batches over) paid a
thread wake-up and a GIL hand-off for every batch, which kept the 2-core benchmark
machine half idle while messages queued (`bench/`, issue 7). Overload needs no extra
machinery either: what the router has not read yet waits in the kernel, so a host that is
behind pushes back on the senders through TCP.

The timers (handshake deadline, heartbeat, close grace) are the driver's; the router
only reads a connection's waiting input before the driver judges it timed out, and
closes a connection gracefully (bye, FIN, then wait for the peer's end).
"""

from __future__ import annotations

import logging
import selectors
import socket
import time
from collections.abc import Callable, Iterable

from net.host.loop import ServiceLoop
from net.host.peer import PLAINTEXT_ONLY, Security
from net.protocol import events as ev
from net.protocol.fastcodec import encode_event, encode_messages
from net.protocol.textmode import render_event
from net.room import Relay, Room
from net.secure.tls import TlsError
from net.tcp.fanout import Fanout
from net.tcp.inbox import Inbox
from net.tcp.peer import Peer, PeerOpened, send_segments, shutdown_quietly
from net.tcp.tuning import HostTuning

log = logging.getLogger(__name__)

_READ = selectors.EVENT_READ
_WRITE = selectors.EVENT_WRITE


class StopRequest:
    """Work item: say bye to everyone, close every connection and end the router."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Router(ServiceLoop[Peer]):
    """Runs in its own thread (`run`); other threads talk to it through the inbox.

    It is the TCP shell's `HostIO`: the room driver (`net.host.driver`) decides, the
    router reads, queues and writes.
    """

    def __init__(
        self,
        room: Room,
        inbox: Inbox,
        tuning: HostTuning,
        *,
        heartbeat_timeout: float,
        handshake_timeout: float,
        on_closed: Callable[[Peer], None] | None = None,
        security: Security = PLAINTEXT_ONLY,
    ) -> None:
        super().__init__(room, heartbeat_timeout, handshake_timeout, tuning.close_grace, security)
        self._inbox = inbox
        self._tuning = tuning
        self._peers: set[Peer] = set()
        self._dirty: set[Peer] = set()
        self._fanout = Fanout()  # the room's members, as receivers of broadcasts
        self._round_bytes = 0
        # Made by `_start`, so a router that never ran holds no descriptor.
        self._selector: selectors.BaseSelector | None = None
        self._on_closed = on_closed  # told once per connection whose socket is closed

    def request_stop(self, reason: str) -> None:
        self._inbox.put(StopRequest(reason))
        self._inbox.wake()

    def wake(self) -> None:
        self._inbox.wake()

    # -- the loop -------------------------------------------------------------------------

    def _start(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._inbox.wake_reader, _READ, None)

    def _serve(self, until: float) -> None:
        timeout = max(0.0, until - time.monotonic())
        if self._dirty or self._fanout.round_bytes or not self._inbox.prepare_to_sleep():
            timeout = 0.0  # output queued while flushing, or work waiting: no sleep
        self._serve_ready(timeout)
        self._dispatch_all(self._inbox.take_all())

    def _write(self, now: float, timers_ran: bool) -> None:
        # Input that arrived meanwhile joins the round (nothing is waited for): fewer, larger
        # shares to write, and a share's fixed cost (a system call, a seal) dwarfs a message's.
        passes = self._tuning.extra_read_passes
        while passes and self._fanout.round_bytes and self._serve_ready(0.0):
            passes -= 1
        self._flush_dirty()

    def _serve_ready(self, timeout: float) -> bool:
        """Wait up to `timeout` for ready sockets; write to and read from them. True if one was read."""
        assert self._selector is not None  # made by `_start`
        read = False
        for key, mask in self._selector.select(timeout):
            peer = key.data
            if peer is None:
                continue  # the inbox's wake-up: its items are taken next
            if mask & _WRITE:  # while messages wait for the journal, with the round's commit
                self._dirty.add(peer) if self.room.unsaved else self._flush(peer)
            if mask & _READ and not peer.closed:
                self._read(peer)
                read = True
        return read

    def _dispatch_all(self, items: list[object]) -> None:
        for item in items:
            if isinstance(item, PeerOpened):
                self._open(item.peer)
            elif isinstance(item, StopRequest):
                self._stop_reason = item.reason

    def _open(self, peer: Peer) -> None:
        peer.security = self.security
        self._peers.add(peer)
        try:
            self._set_interest(peer)
        except (OSError, ValueError) as exc:  # closed already, or out of memory in the kernel
            log.warning("cannot serve %s: %s", peer.where, exc)
            self.finish(peer)

    # -- input from peers -----------------------------------------------------------------

    def _read(self, peer: Peer) -> None:
        """Read once from `peer` and serve what it sent.

        Also while it is closing: what arrives then is read and dropped, because closing a
        socket with unread input makes the kernel reset the connection, which can destroy
        the bye before the peer reads it.
        """
        try:
            data = peer.sock.recv(self._tuning.recv_size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._on_read_end(peer, f"connection lost ({exc.strerror or type(exc).__name__})")
            return
        peer.last_heard = time.monotonic()
        if not peer.closing:
            entries = peer.decode(data)
            if entries:
                self.driver.receive(peer, entries)
            if peer.tls is not None and peer.tls.output_pending:
                self._dirty.add(peer)  # handshake messages to send
        if not data:
            self._on_read_end(peer, "connection closed")
        elif self._round_bytes + self._fanout.round_bytes > self._tuning.round_bytes:
            self._flush_dirty()

    def _on_read_end(self, peer: Peer, reason: str) -> None:
        """Nothing more can be read from `peer` (its end of stream, or a read error)."""
        if peer.read_done:
            return
        peer.read_done = True
        if not peer.closing:
            self.driver.link_lost(peer, reason)
        elif peer.write_shut:
            self.finish(peer)  # the peer closed its end after our bye: nothing left to wait for
        if not peer.closed:
            self._set_interest(peer)  # an ended stream stays readable: stop watching it

    # -- HostIO: what the room driver has the router do -------------------------------------

    def peers(self) -> list[Peer]:
        return list(self._peers)

    def read_waiting(self, peer: Peer) -> None:
        self._read(peer)

    def relay(self, run: Relay, acks: bytes | None) -> bool:
        """Broadcast a run of messages from one sender, encoded in one piece.

        For an open protocol connection receiving broadcasts (the usual case) the acks take
        the messages' place in its share of the round: one append for the whole run."""
        sender = run.sender
        lines = self._text_lines(run.messages)
        if acks is not None and self._fanout.relay(encode_messages(run.messages), lines, sender, acks):
            self._round_bytes += len(acks)
            return True
        frames = encode_messages(run.messages) if self._fanout.wants_frames else None
        self._fanout.broadcast(frames, lines, sender)
        return False

    def queue_reply(self, peer: Peer, data: bytes) -> None:
        # Spliced into the sender's share of the round when it is a receiver (no copy now).
        if self._fanout.reply(peer, data):
            self._round_bytes += len(data)
        else:
            self.queue(peer, data)

    def welcomed(self, peer: Peer) -> None:
        self._fanout.add(peer)

    def broadcast(self, event: ev.Event, exclude: object) -> None:
        frame = encode_event(event) if self._fanout.wants_frames else None
        self._fanout.broadcast(frame, self._text_line(event), exclude)

    def _text_line(self, event: ev.Event) -> bytes | None:
        """`event` as a line for the plain-text members, when there are any and they see it."""
        if not self._fanout.wants_text:
            return None
        rendered = render_event(event)
        return None if rendered is None else (rendered + "\n").encode("utf-8")

    def _text_lines(self, messages: list[ev.ChatMessage]) -> bytes | None:
        """`messages` as lines for the plain-text members, when there are any."""
        if not self._fanout.wants_text:
            return None
        return "".join([f"{render_event(message)}\n" for message in messages]).encode("utf-8")

    def queue(self, peer: Peer, data: bytes) -> None:
        """Queue bytes for `peer` alone, after the broadcasts it has not been given yet."""
        if data and not peer.closed:
            self._fanout.catch_up(peer)
            peer.outbound += data
            self._dirty.add(peer)
            self._round_bytes += len(data)

    def detach(self, peer: Peer, *, deliver: bool) -> None:
        self._fanout.remove(peer, deliver=deliver)
        self._dirty.add(peer)  # even with nothing to say: a closing peer's FIN goes out on a flush

    def finish(self, peer: Peer) -> None:
        """Close `peer`'s socket now and forget it."""
        if peer.closed:
            return
        self._fanout.remove(peer, deliver=False)
        if peer.interest:
            assert self._selector is not None  # registered in it
            self._selector.unregister(peer.sock)
            peer.interest = 0
        shutdown_quietly(peer.sock, socket.SHUT_RDWR)
        peer.sock.close()
        peer.closed = True
        peer.outbound = bytearray()
        peer.sealed = bytearray()
        self._dirty.discard(peer)
        self._peers.discard(peer)
        if self._on_closed is not None:
            self._on_closed(peer)

    # -- output ---------------------------------------------------------------------------

    def _flush_dirty(self) -> None:
        """Write out the round: every receiver's share of the broadcasts, then private output."""
        self.driver.make_durable()  # nothing of the round leaves before it is in the journal
        dirty, self._dirty = self._dirty, set()
        self._round_bytes = 0
        for peer, segments in self._fanout.take_round():
            if peer.outbound:  # behind queued plaintext: keep the order, write it later
                peer.outbound += b"".join(segments)
                dirty.add(peer)
                continue
            dirty.discard(peer)
            if peer.tls is not None:
                segments = [self._seal(peer, segments)]  # this receiver's records, from the slices
            self._write_share(peer, segments)
        for peer in dirty:
            self._flush(peer)

    def _write_share(self, peer: Peer, segments: list[bytes | memoryview]) -> None:
        """Write `segments` (plaintext, or an encrypted peer's records) to `peer`, whose
        plaintext buffer is empty; keep what the socket refuses."""
        backlog = peer.outbound if peer.tls is None else peer.sealed
        if backlog:  # earlier records the socket has not taken yet: these go after them
            backlog += b"".join(segments)
            self._flush(peer)
            return
        try:
            sent = send_segments(peer.sock, segments)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            self._write_failed(peer, exc)
            return
        for segment in segments:
            if sent >= len(segment):
                sent -= len(segment)
                continue
            backlog += segment[sent:] if sent else segment
            sent = 0
        self._after_write(peer)

    def _flush(self, peer: Peer) -> None:
        """Write what `peer` can take now; drop it if its own socket refuses too much."""
        if peer.closed:
            return
        self.driver.make_durable()
        wire = peer.outbound
        if peer.tls is not None:
            if peer.outbound or peer.tls.output_pending:
                peer.sealed += self._seal(peer, (peer.outbound,))
                peer.outbound.clear()
            wire = peer.sealed
        if wire:
            try:
                sent = peer.sock.send(wire)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._write_failed(peer, exc)
                return
            del wire[:sent]
        self._after_write(peer)

    def _seal(self, peer: Peer, plaintext: Iterable[bytes | bytearray | memoryview]) -> bytes:
        """An encrypted peer's `plaintext` as TLS records, after any handshake messages waiting."""
        tls = peer.tls
        assert tls is not None
        try:
            return tls.seal(plaintext)
        except TlsError as exc:
            log.warning("cannot encrypt for %s: %s", peer.where, exc.text)
            return tls.take_output()

    def _write_failed(self, peer: Peer, exc: OSError) -> None:
        if peer.closing:
            self.finish(peer)
        else:
            self.driver.link_lost(peer, f"connection lost ({exc.strerror or type(exc).__name__})")

    def _after_write(self, peer: Peer) -> None:
        """Watch for the socket taking more, drop a receiver too far behind, or end a close."""
        if peer.outbound or peer.sealed:
            if peer.backlog > self._tuning.outbound_limit and not peer.closing:
                log.warning("%s is not reading its messages; dropping it", peer.where)
                reason, removed = "too slow: stopped reading its messages", ev.LeaveCause.REMOVED
                self.driver.begin_close(peer, reason, cause=removed, flush=False)
            elif not peer.watching_writes:
                peer.watching_writes = True
                self._set_interest(peer)
            return
        if peer.watching_writes:
            peer.watching_writes = False
            self._set_interest(peer)
        if peer.closing and not peer.write_shut:
            # Everything including the bye is out: send FIN and let the peer close its end.
            peer.write_shut = True
            shutdown_quietly(peer.sock, socket.SHUT_WR)
            if peer.read_done:
                self.finish(peer)

    def _set_interest(self, peer: Peer) -> None:
        """Watch `peer`'s socket for what it needs: input until its end, output when backlogged."""
        interest = (0 if peer.read_done else _READ) | (_WRITE if peer.watching_writes else 0)
        if interest == peer.interest:
            return
        assert self._selector is not None  # made by `_start`
        if not interest:
            self._selector.unregister(peer.sock)
        elif not peer.interest:
            self._selector.register(peer.sock, interest, peer)
        else:
            self._selector.modify(peer.sock, interest, peer)
        peer.interest = interest

    # -- timers and closing ---------------------------------------------------------------

    def _check_timers(self, now: float) -> None:
        if len(self._fanout) != len(self.room):
            self._resync_receivers()
        self.driver.check_timers(now)

    def _resync_receivers(self) -> None:
        """Make the receivers of broadcasts the room's members again (a bug if ever needed)."""
        members = set(self.room.peers())
        log.error("broadcast receivers out of step with the room (%d vs %d)", len(self._fanout), len(members))
        for peer in self._fanout:
            if peer not in members:
                self._fanout.remove(peer)
                self._dirty.add(peer)
        for peer in members:
            if not peer.closing:
                self._fanout.add(peer)

    def _close_everything(self, reason: str) -> None:
        """Bye to every connection, then close each one gracefully within `stop_grace`.

        Gracefully: the bye is flushed, `shutdown(SHUT_WR)` sends FIN right after it, and the
        connection stays open, still read and its input dropped, until the peer closes its
        end (our clients do on FIN) or the grace runs out. Closing right after the flush
        would close a socket that may still hold unread input (a ping in flight): the kernel
        answers that with a reset, and a reset can make the peer drop the bye it has not
        read yet (Windows does).
        """
        try:
            if self._selector is None:
                return  # it failed to start: no connection was ever served (cleaned up below)
            deadline = time.monotonic() + self._tuning.stop_grace
            while True:
                self._dispatch_all(self._inbox.take_all())  # connections accepted meanwhile
                for peer in list(self._peers):
                    self.driver.say_bye(peer, reason)
                self._flush_dirty()  # sends FIN after the bye, finishes peers whose end closed
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._peers:
                    break
                self._serve_ready(min(0.05, remaining) if self._inbox.prepare_to_sleep() else 0.0)
        except Exception:
            log.exception("error while saying bye to the members")
        finally:
            for item in self._inbox.seal():
                if isinstance(item, PeerOpened):
                    self._peers.add(item.peer)  # its socket is ours to close
            for peer in list(self._peers):
                self.finish(peer)
            self._peers.clear()
            if self._selector is not None:
                self._selector.close()
