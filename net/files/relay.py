"""The host's relay: a TLS port where a receiver and a sender who cannot connect to each
other both connect out, and the host splices their two streams.

A member's firewall often refuses connections to its transfer port while letting it
connect out; both members already reach the host. Each leg does TLS with the host's own
certificate (members check it against the key the host gave over the chat), presents
its one-time relay ticket (`R` record, `net.files.relay_desk`), and waits for the other
leg; the second one in starts the splice. The host only copies bytes between the two
legs, through one bounded buffer per direction: it never writes them to disk, never
parses them, and the sender still checks the receiver's own one-time token inside.

Threads: one accept thread, one thread per leg until it is paired (handshake and ticket
with a timeout), and the splice runs in the second leg's thread with non-blocking
sockets in one `select` loop (one thread reads and writes both TLS sockets: never two
threads on one). At most `max_relays` pairs run and 2 x `max_relays` legs wait; more are
closed at once. `stop()` shuts everything down and joins every thread.
"""

from __future__ import annotations

import logging
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable

from net.files.cache_legs import serve_cached, take_upload
from net.files.host_cache import HostCache
from net.files.limits import MAX_RELAYS, RELAY_BUFFER_BYTES, TRANSFER_IDLE_TIMEOUT, TRANSFER_VERSION
from net.files.relay_desk import Leg, RelayDesk
from net.files.sockets import lower_priority, shut_down
from net.files.stream import RELAY, REQUEST, Record, StreamDecoder, StreamError
from net.files.tokens import TokenRefused
from net.secure.identity import Identity
from net.secure.tls import server_context
from net.tcp.listener import open_listener

log = logging.getLogger(__name__)

_TICKET_RECORD_BYTES = 4096
_WANT = (ssl.SSLWantReadError, ssl.SSLWantWriteError)


class HostRelay:
    """The host's relay port (see the module docstring)."""

    def __init__(
        self,
        identity: Identity,
        *,
        bind: str = "",
        port: int = 0,
        max_relays: int = MAX_RELAYS,
        idle_timeout: float = TRANSFER_IDLE_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        cache: HostCache | None = None,
    ) -> None:
        self._context = server_context(identity)
        self._listener = open_listener(bind, port)
        self.port: int = self._listener.getsockname()[1]
        self.desk = RelayDesk(clock=clock)
        self.desk.port = self.port
        self.desk.key = identity.fingerprint.hex()
        self.cache = cache if cache is not None else HostCache(clock=clock)
        self.desk.cache = self.cache  # the room opens uploads and grants fetches through the desk
        self.max_relays = max_relays
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._legs: dict[threading.Thread, socket.socket] = {}
        self._waiting: dict[str, _Waiting] = {}  # pair -> its first leg
        self._splicing = 0
        self._stopping = threading.Event()
        self._accepter = threading.Thread(target=self._accept_loop, name=f"relay :{self.port}", daemon=True)
        self.bytes_relayed = 0
        self.relays_done = 0

    def start(self) -> None:
        self._accepter.start()

    def stop(self) -> None:
        self._stopping.set()
        shut_down(self._listener)
        with self._lock:
            legs = list(self._legs.items())
        for _thread, sock in legs:
            shut_down(sock)
        if self._accepter.is_alive():
            self._accepter.join(timeout=5.0)
        for thread, _sock in legs:
            thread.join(timeout=5.0)
        self._listener.close()
        self.cache.close()  # its folder goes with it

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, address = self._listener.accept()
            except OSError:
                if self._stopping.is_set():
                    return
                time.sleep(0.05)
                continue
            with self._lock:
                if len(self._legs) >= 2 * self.max_relays or self._stopping.is_set():
                    sock.close()
                    log.info("relay connection from %s refused: %d legs open", address[0], len(self._legs))
                    continue
                thread = threading.Thread(target=self._leg, args=(sock, address[0]), daemon=True)
                thread.name = f"relay leg {address[0]}"
                self._legs[thread] = sock
            thread.start()

    def _leg(self, sock: socket.socket, address: str) -> None:
        lower_priority()
        tls: ssl.SSLSocket | None = None
        try:
            sock.settimeout(self.idle_timeout)
            tls = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            with self._lock:
                self._legs[threading.current_thread()] = tls
            if self._stopping.is_set():
                return
            tls.do_handshake()
            first = self._first_record(tls)
            if first.kind == REQUEST:  # a member fetching from the host's cache
                serve_cached(tls, first.body, self.cache)
                return
            leg = self._redeem(tls, first)
            if leg is not None:
                self._meet(tls, leg)
        except (OSError, ssl.SSLError, StreamError, TokenRefused) as exc:
            log.info("relay leg from %s ended: %s", address, exc)
        finally:
            with self._lock:
                self._legs.pop(threading.current_thread(), None)
            (tls or sock).close()

    def _first_record(self, tls: ssl.SSLSocket) -> Record:
        decoder = StreamDecoder(max_record=_TICKET_RECORD_BYTES)
        while True:
            data = tls.recv(_TICKET_RECORD_BYTES)
            if not data:
                raise StreamError("closed", "the leg closed before its ticket")
            events = decoder.feed(data)
            if events:
                break
        first = events[0]
        if len(events) > 1 or not isinstance(first, Record) or first.kind not in (RELAY, REQUEST):
            raise StreamError("bad_stream", "a relay leg must open with its ticket or request alone")
        return first

    def _redeem(self, tls: ssl.SSLSocket, first: Record) -> Leg | None:
        """The pair a relay ticket opens; None when it was an upload to the cache (taken
        here and now). TokenRefused when it opens neither."""
        if first.body.get("v") != TRANSFER_VERSION:
            raise StreamError("version_mismatch", "another transfer version")
        ticket = first.body.get("ticket")
        try:
            return self.desk.redeem(ticket)
        except TokenRefused:
            take_upload(tls, ticket, first.body.get("token"), self.cache)  # or TokenRefused
            return None

    def _meet(self, tls: ssl.SSLSocket, leg: Leg) -> None:
        """The first leg of a pair waits (its thread keeps its socket until the splice
        ends); the second leg's thread splices both."""
        with self._lock:
            first = self._waiting.pop(leg.pair, None)
            if first is None:
                mine = _Waiting(tls)
                self._waiting[leg.pair] = mine
            elif self._splicing >= self.max_relays:
                first.refused = True
                first.met.set()
                raise StreamError("busy", f"{self.max_relays} relays already run")
            else:
                self._splicing += 1
                first.met.set()
        if first is None:
            self._wait_for_other(leg, mine)
            return
        started = time.monotonic()
        moved = 0
        try:
            moved = splice(tls, first.tls, self.idle_timeout, self._stopping)
        finally:
            first.done.set()
            with self._lock:
                self._splicing -= 1
                self.bytes_relayed += moved
                self.relays_done += 1
        log.info(
            "relayed %s from %s to %s: %d bytes in %.1f s",
            leg.offer,
            leg.sender,
            leg.fetcher,
            moved,
            time.monotonic() - started,
        )

    def _wait_for_other(self, leg: Leg, mine: _Waiting) -> None:
        if not mine.met.wait(self.idle_timeout):
            with self._lock:
                taken = self._waiting.get(leg.pair) is not mine
                if not taken:
                    del self._waiting[leg.pair]
            if not taken:
                log.info("relay leg of %s for %s: the other leg never came", leg.offer, leg.fetcher)
                return
            mine.met.wait()  # taken at the last moment: set at once
        if not mine.refused:
            mine.done.wait()  # the splice ends by itself: an end, an idle leg or stop()


class _Waiting:
    """The first leg of a pair, until the second one comes."""

    def __init__(self, tls: ssl.SSLSocket) -> None:
        self.tls = tls
        self.met = threading.Event()
        self.done = threading.Event()
        self.refused = False


def splice(
    a: ssl.SSLSocket,
    b: ssl.SSLSocket,
    idle_timeout: float,
    stopping: threading.Event,
    *,
    buffer_bytes: int = RELAY_BUFFER_BYTES,
) -> int:
    """Copy bytes both ways between `a` and `b` until one ends (what it sent before is
    passed on), a leg stays silent for `idle_timeout`, or `stopping`; returns the bytes
    copied. One bounded buffer per direction: a leg is not read while the bytes it sent
    last still wait to be written to the other."""
    other = {a: b, b: a}
    waiting: dict[ssl.SSLSocket, bytes] = {a: b"", b: b""}  # bytes to write to the key
    moved = 0
    for sock in (a, b):
        sock.setblocking(False)
    last = time.monotonic()
    while not stopping.is_set():
        readers = [s for s in (a, b) if not waiting[other[s]]]
        writers = [s for s in (a, b) if waiting[s]]
        ready = [s for s in readers if s.pending()]
        if not ready:
            ready, writable, _ = select.select(readers, writers, [], 0.5)
        else:
            writable = []
        if not ready and not writable:
            if time.monotonic() - last > idle_timeout:
                log.info("relay idle for %.0f s: closed", idle_timeout)
                return moved
            continue
        last = time.monotonic()
        for sock in writable:
            try:
                sent = sock.send(waiting[sock])
            except _WANT:
                continue
            moved += sent
            waiting[sock] = waiting[sock][sent:]
        for sock in ready:
            try:
                data = sock.recv(buffer_bytes)
            except _WANT:
                continue
            if not data:
                _flush(other[sock], waiting[other[sock]], idle_timeout)
                return moved + len(waiting[other[sock]])
            waiting[other[sock]] = data
    return moved


def _flush(sock: ssl.SSLSocket, data: bytes, timeout: float) -> None:
    """Write what is left for `sock` before the pair ends (blocking, with a timeout)."""
    if data:
        sock.settimeout(timeout)
        sock.sendall(data)
