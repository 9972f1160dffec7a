"""The router thread: the one owner of the room and of every client socket.

Each round starts with one `select` over all connections. The router reads once from
each readable one (non-blocking, at most `recv_size` bytes, so a flooding client gets its
turn like everybody else and cannot starve the others), decodes the frames, runs them
through the `Room`, encodes every output event once (once per dialect: JSON frames and
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

Timers live here too: the handshake deadline, the heartbeat timeout of protocol clients
(never applied to a client whose input is waiting unread) and the grace period a closing
connection gets to take its last bytes and bye.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable

from net.protocol import LocalProtocolError, RemoteProtocolError
from net.protocol import events as ev
from net.protocol.codec import encode_acks, encode_event, encode_messages
from net.protocol.connection import MAX_REMOTE_ERRORS, ConnectionClosed
from net.protocol.textmode import render_event
from net.room import Broadcast, Disconnect, Output, Relay, Room, Send, in_runs
from net.tcp.fanout import Fanout
from net.tcp.inbox import Inbox
from net.tcp.peer import Entry, Peer, PeerOpened
from net.tcp.tuning import HostTuning

log = logging.getLogger(__name__)

_READ = selectors.EVENT_READ
_WRITE = selectors.EVENT_WRITE


class StopRequest:
    """Work item: say bye to everyone, close every connection and end the router."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Router:
    """Runs in its own thread (`run`); other threads talk to it through the inbox."""

    def __init__(
        self,
        room: Room,
        inbox: Inbox,
        tuning: HostTuning,
        *,
        heartbeat_timeout: float,
        handshake_timeout: float,
        stopping: threading.Event | None = None,
        on_closed: Callable[[Peer], None] | None = None,
    ) -> None:
        self.room = room
        self.member_count = 0  # read by other threads; an int assignment is atomic
        self._inbox = inbox
        self._tuning = tuning
        self._heartbeat_timeout = heartbeat_timeout
        self._handshake_timeout = handshake_timeout
        self._tick = min(0.25, max(0.02, min(heartbeat_timeout, handshake_timeout) / 10))
        self._next_check = 0.0
        self._peers: set[Peer] = set()
        self._dirty: set[Peer] = set()
        self._fanout = Fanout()  # the room's members, as receivers of broadcasts
        self._round_bytes = 0
        # Made by `run`, so a router that never ran holds no descriptor.
        self._selector: selectors.BaseSelector | None = None
        self._stop_reason: str | None = None
        self._stopping = stopping or threading.Event()  # set by the host before its StopRequest
        self._on_closed = on_closed  # told once per connection whose socket is closed

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> str:
        """Serve until a StopRequest; returns the reason the router stopped."""
        reason = "host stopped"
        try:
            self._selector = selectors.DefaultSelector()
            self._selector.register(self._inbox.wake_reader, _READ, None)
            while self._stop_reason is None:
                timeout = max(0.0, self._next_check - time.monotonic())
                if self._dirty or self._fanout.round_bytes or not self._inbox.prepare_to_sleep():
                    timeout = 0.0  # output queued while flushing, or work waiting: no sleep
                self._serve_ready(timeout)
                self._dispatch_all(self._inbox.take_all())
                now = time.monotonic()
                if now >= self._next_check:
                    self._check_timers(now)
                    self._next_check = now + self._tick
                self._flush_dirty()
                self.member_count = len(self.room)
            reason = self._stop_reason
        except Exception as exc:
            log.exception("the host's router failed")
            reason = f"host failed: {exc}"
        finally:
            self._close_everything(reason)
        return reason

    def _serve_ready(self, timeout: float) -> None:
        """Wait up to `timeout` for sockets to be ready; write to and read from those that are."""
        for key, mask in self._selector.select(timeout):
            peer = key.data
            if peer is None:
                continue  # the inbox's wake-up: its items are taken next
            if mask & _WRITE:
                self._flush(peer)
            if mask & _READ and not peer.closed:
                self._read(peer)

    def _dispatch_all(self, items: list[object]) -> None:
        for item in items:
            if isinstance(item, PeerOpened):
                self._open(item.peer)
            elif isinstance(item, StopRequest):
                self._stop_reason = item.reason

    def _open(self, peer: Peer) -> None:
        self._peers.add(peer)
        try:
            self._set_interest(peer)
        except (OSError, ValueError) as exc:  # closed already, or out of memory in the kernel
            log.warning("cannot serve %s: %s", peer.address, exc)
            self._finish(peer)

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
                self._on_entries(peer, entries)
        if not data:
            self._on_read_end(peer, "connection closed")
        elif self._round_bytes + self._fanout.round_bytes > self._tuning.round_bytes:
            self._flush_dirty()

    def _on_entries(self, peer: Peer, entries: list[Entry]) -> None:
        """Serve what `peer` sent, in order (the caller writes out the round when it grew big).

        Consecutive room messages, the bulk of the traffic, go to the room as one run."""
        room = self.room
        for entry in in_runs(entries):
            if peer.closing:
                return
            try:
                if type(entry) is list:
                    self._apply(room.handle_says(peer, entry))
                elif isinstance(entry, RemoteProtocolError):
                    self._on_bad_input(peer, entry)
                elif isinstance(entry, ConnectionClosed):
                    self._begin_close(peer, "connection closed", bye=False, flush=True)
                else:
                    self._on_event(peer, entry)
            except Exception:
                # A bug must cost this one connection, never the host.
                log.exception("internal error while serving %s", peer.address)
                self._begin_close(peer, "internal error", bye=True, flush=True)

    def _on_event(self, peer: Peer, event: ev.Event) -> None:
        if isinstance(event, ev.Hello):
            self._apply(self.room.join(peer, event))
        elif peer in self.room:
            self._apply(self.room.handle(peer, event))
        elif isinstance(event, ev.Ping):
            self._send(peer, event.reply())
        elif isinstance(event, ev.Bye):
            self._begin_close(peer, event.reason or "left", bye=False, flush=True)
        elif not isinstance(event, ev.Pong):
            self._apply(self.room.handle(peer, event))  # answers "say hello first"

    def _on_bad_input(self, peer: Peer, error: RemoteProtocolError) -> None:
        peer.errors += 1
        log.warning("bad input from %s: %s", peer.address, error)
        self._queue(peer, peer.encode_error(error))
        if error.fatal:
            self._begin_close(peer, f"protocol error: {error.text}", bye=False, flush=True)
        elif peer.errors > MAX_REMOTE_ERRORS:
            self._begin_close(peer, "too many protocol errors", bye=True, flush=True)

    def _on_read_end(self, peer: Peer, reason: str) -> None:
        """Nothing more can be read from `peer` (its end of stream, or a read error)."""
        if peer.read_done:
            return
        peer.read_done = True
        if not peer.closing:
            self._begin_close(peer, reason, bye=False, flush=False)
        elif peer.write_shut:
            self._finish(peer)  # the peer closed its end after our bye: nothing left to wait for
        if not peer.closed:
            self._set_interest(peer)  # an ended stream stays readable: stop watching it

    # -- output ---------------------------------------------------------------------------

    def _apply(self, outputs: list[Output]) -> None:
        if len(outputs) == 1 and type(outputs[0]) is Relay:
            self._relay(outputs[0])  # a run of messages, the bulk of the traffic
            return
        for output in outputs:
            if isinstance(output, Disconnect):
                # The room has already removed it: what it broadcasts now is not for this peer.
                self._fanout.remove(output.peer)
                self._dirty.add(output.peer)
        for output in outputs:
            if isinstance(output, Relay):
                self._relay(output)
            elif isinstance(output, Send):
                self._send(output.to, output.event)
            elif isinstance(output, Broadcast):
                self._broadcast(output.event, output.exclude)
            elif isinstance(output, Disconnect):
                self._begin_close(output.peer, output.reason, bye=True, flush=True)

    def _relay(self, run: Relay) -> None:
        """Broadcast a run of messages from one sender, encoded in one piece, and ack them.

        For an open protocol connection receiving broadcasts (the usual case) the acks take
        the messages' place in its share of the round: one append for the whole run."""
        sender = run.sender
        lines = self._text_lines(run.messages)
        if not sender.closing and sender.protocol_open():
            acks = encode_acks(run.acked, run.messages)
            if self._fanout.relay(encode_messages(run.messages), lines, sender, acks):
                self._round_bytes += len(acks)
                return
        frames = encode_messages(run.messages) if self._fanout.wants_frames else None
        self._fanout.broadcast(frames, lines, sender)
        for ack in run.acks:
            self._send(sender, ack)

    def _send(self, peer: Peer, event: ev.Event) -> None:
        if peer.closing:
            return
        if type(event) is ev.Ack and peer.protocol_open():
            # The ack of a message just broadcast: spliced into the sender's share of the round
            # (no copy of its share now). An ack leaves an open connection's state as it is.
            data = encode_event(event)
            if self._fanout.reply(peer, data):
                self._round_bytes += len(data)
                return
        try:
            data = peer.encode(event)
        except LocalProtocolError as exc:
            log.debug("not sending %s to %s: %s", event.TYPE, peer.address, exc)
            return
        self._queue(peer, data)
        if isinstance(event, ev.Welcome):
            log.info("%s joined from %s", event.nick, peer.address)
            peer.joined = True
            self._fanout.add(peer)

    def _broadcast(self, event: ev.Event, exclude: object) -> None:
        if isinstance(event, ev.Left):
            log.info("%s left (%s)", event.nick, event.reason or "no reason given")
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
        return "".join([render_event(message) + "\n" for message in messages]).encode("utf-8")

    def _queue(self, peer: Peer, data: bytes) -> None:
        """Queue bytes for `peer` alone, after the broadcasts it has not been given yet."""
        if data and not peer.closed:
            self._fanout.catch_up(peer)
            peer.outbound += data
            self._dirty.add(peer)
            self._round_bytes += len(data)

    def _flush_dirty(self) -> None:
        """Write out the round: every receiver's share of the broadcasts, then private output."""
        dirty, self._dirty = self._dirty, set()
        self._round_bytes = 0
        for peer, segments in self._fanout.take_round():
            if peer.outbound:
                for segment in segments:  # behind a backlog: keep the order, write it later
                    peer.outbound += segment
                dirty.add(peer)
            else:
                dirty.discard(peer)
                self._write_share(peer, segments)
        for peer in dirty:
            self._flush(peer)

    def _write_share(self, peer: Peer, segments: list[bytes | memoryview]) -> None:
        """Write `segments` to `peer`, whose outbound buffer is empty; keep what is refused."""
        try:
            sent = _send_segments(peer.sock, segments)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            self._write_failed(peer, exc)
            return
        for segment in segments:
            if sent >= len(segment):
                sent -= len(segment)
                continue
            peer.outbound += segment[sent:] if sent else segment
            sent = 0
        self._after_write(peer)

    def _flush(self, peer: Peer) -> None:
        """Write what `peer` can take now; drop it if its own socket refuses too much."""
        if peer.closed:
            return
        if peer.outbound:
            try:
                sent = peer.sock.send(peer.outbound)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._write_failed(peer, exc)
                return
            del peer.outbound[:sent]
        self._after_write(peer)

    def _write_failed(self, peer: Peer, exc: OSError) -> None:
        if peer.closing:
            self._finish(peer)
        else:
            self._begin_close(peer, f"connection lost ({exc.strerror or type(exc).__name__})", flush=False)

    def _after_write(self, peer: Peer) -> None:
        """Watch for the socket taking more, drop a receiver too far behind, or end a close."""
        if peer.outbound:
            if len(peer.outbound) > self._tuning.outbound_limit and not peer.closing:
                log.warning("%s is not reading its messages; dropping it", peer.address)
                self._begin_close(peer, "too slow: stopped reading its messages", flush=False)
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
            _shutdown(peer.sock, socket.SHUT_WR)
            if peer.read_done:
                self._finish(peer)

    def _set_interest(self, peer: Peer) -> None:
        """Watch `peer`'s socket for what it needs: input until its end, output when backlogged."""
        interest = (0 if peer.read_done else _READ) | (_WRITE if peer.watching_writes else 0)
        if interest == peer.interest:
            return
        if not interest:
            self._selector.unregister(peer.sock)
        elif not peer.interest:
            self._selector.register(peer.sock, interest, peer)
        else:
            self._selector.modify(peer.sock, interest, peer)
        peer.interest = interest

    # -- closing --------------------------------------------------------------------------

    def _begin_close(self, peer: Peer, reason: str, *, bye: bool = False, flush: bool = True) -> None:
        """Take `peer` out of the room and close it, after its last bytes when `flush`."""
        if peer.closing:
            return
        peer.closing = True
        self._fanout.remove(peer, deliver=flush)
        self._dirty.add(peer)
        if peer in self.room:
            self._apply(self.room.leave(peer, reason))  # logged with the Left broadcast
        elif not peer.joined:
            log.info("closing %s: %s", peer.address, reason)
        else:
            log.debug("closing %s: %s", peer.address, reason)  # the room already announced it
        if not flush:
            self._finish(peer)
            return
        if bye:
            try:
                self._queue(peer, peer.encode(ev.Bye(reason=reason[:300])))
            except LocalProtocolError:
                pass  # the connection is already closed on the protocol level (after a refusal)
        peer.close_deadline = time.monotonic() + self._tuning.close_grace
        self._dirty.add(peer)

    def _finish(self, peer: Peer) -> None:
        """Close `peer`'s socket now and forget it."""
        if peer.closed:
            return
        self._fanout.remove(peer, deliver=False)
        if peer.interest:
            self._selector.unregister(peer.sock)
            peer.interest = 0
        _shutdown(peer.sock, socket.SHUT_RDWR)
        peer.sock.close()
        peer.closed = True
        peer.outbound = bytearray()
        self._dirty.discard(peer)
        self._peers.discard(peer)
        if self._on_closed is not None:
            self._on_closed(peer)

    def _check_timers(self, now: float) -> None:
        if len(self._fanout) != len(self.room):
            self._resync_receivers()
        for peer in list(self._peers):
            if peer.closing:
                if now >= peer.close_deadline:
                    self._finish(peer)
                continue
            joined = peer in self.room
            if joined and (peer.is_text or now - peer.last_heard <= self._heartbeat_timeout):
                continue
            if not joined and now - peer.opened <= self._handshake_timeout:
                continue
            # Read what waits first: the router being behind (a long round) must never cost a
            # member its place, nor a hello that arrived in time its welcome.
            self._read(peer)
            if peer.closing:
                continue
            if peer not in self.room:
                self._begin_close(peer, "no hello in time (handshake timed out)", bye=True)
            elif now - peer.last_heard > self._heartbeat_timeout:
                self._begin_close(peer, "timed out", bye=True)

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
        bye = reason[:300]
        try:
            if self._selector is None:
                return  # it failed to start: no connection was ever served (cleaned up below)
            deadline = time.monotonic() + self._tuning.stop_grace
            while True:
                self._dispatch_all(self._inbox.take_all())  # connections accepted meanwhile
                for peer in list(self._peers):
                    self._say_bye(peer, bye)
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
                self._finish(peer)
            self._peers.clear()
            if self._selector is not None:
                self._selector.close()

    def _say_bye(self, peer: Peer, reason: str) -> None:
        """Queue a bye for `peer` (once) and mark it closing, without telling the room."""
        if peer.closing:
            return
        peer.closing = True
        try:
            self._queue(peer, peer.encode(ev.Bye(reason=reason)))
        except LocalProtocolError:
            pass  # already closed on the protocol level (refused)
        self._dirty.add(peer)  # even with nothing to say: its FIN goes out on the next flush


#: Slices per `sendmsg` (POSIX guarantees at least 16 for IOV_MAX; Linux takes 1024).
_MAX_SEGMENTS = 512


def _send_segments(sock: socket.socket, segments: list[bytes | memoryview]) -> int:
    """One system call for a receiver's share: `sendmsg` gathers the slices where it exists."""
    if len(segments) == 1:
        return sock.send(segments[0])
    if hasattr(sock, "sendmsg") and len(segments) <= _MAX_SEGMENTS:
        return sock.sendmsg(segments)
    return sock.send(b"".join(segments))  # Windows has no sendmsg


def _shutdown(sock: socket.socket, how: int) -> None:
    try:
        sock.shutdown(how)
    except OSError:
        pass  # already disconnected
