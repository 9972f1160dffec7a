"""One TCP connection of a load-generator member: plain or TLS, read with the arrival time.

The generator runs every member in one asyncio process, so a burst of deliveries to 50
members is read one member after another, and a member's bytes may wait in its socket
while the loop serves the others. A real client has its own process and reads at once.
Each read therefore carries two times: when the generator read it, and when the relay's
bytes arrived in the member's socket, which the kernel stamps (`SO_TIMESTAMPNS`, where the
platform has it) before the generator could be late. Latency to arrival is what the relay
(and the kernel's loopback) took; the time from arrival to read is the generator's own.
A read that takes several TCP segments carries the last one's time, so a message is never
stamped before its last byte arrived.

TLS runs on OpenSSL over memory BIOs (`net.secure.tls.TlsSession`, the sans-I/O layer
LanChat's clients use) on the plain socket, because asyncio's SSL transport gives no access
to the socket's arrival times. It costs the generator about what that transport did (20-30
us per read on the benchmark machine, most of it the event loop's). Every relay is read
the same way: Redis, plain and over TLS, and our host.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import sys
import time
from collections.abc import Callable

from net.secure.tls import TlsError, TlsSession

#: Bytes taken from the socket per read (asyncio's SSL transport read as much).
READ_BYTES = 256 * 1024
#: Bytes a member may queue unsent before it waits (as a transport's high-water mark).
WRITE_HIGH_WATER = 16 * 1024
#: Linux's SO_TIMESTAMPNS (= SCM_TIMESTAMPNS): a `struct timespec` of CLOCK_REALTIME per read.
_SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@qq")

#: (bytes read, when read as `time.perf_counter()`, when they arrived, on the same clock)
DataCallback = Callable[[bytes, float, float], None]
LostCallback = Callable[[Exception | None], None]


class StreamEndpoint:
    """A member's connection on the loop's reader and writer callbacks (not a transport)."""

    def __init__(
        self, sock: socket.socket, on_data: DataCallback, on_lost: LostCallback, tls: ssl.SSLContext | None
    ) -> None:
        self.sock = sock
        self._on_data = on_data
        self._on_lost = on_lost
        self._session = None if tls is None else TlsSession(tls, server=False)
        self._loop = asyncio.get_running_loop()
        self._unsent = bytearray()
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = False
        self.handshake: asyncio.Future[None] = self._loop.create_future()
        self._stamped = _ask_for_arrival_times(sock)
        self._loop.add_reader(sock.fileno(), self._readable)
        if self._session is None:
            self.handshake.set_result(None)
        else:
            self._send(self._session.take_output())  # the ClientHello

    @classmethod
    async def open(
        cls, port: int, on_data: DataCallback, on_lost: LostCallback, tls: ssl.SSLContext | None
    ) -> StreamEndpoint:
        """A connection to the relay on 127.0.0.1:`port`, its TLS handshake done (with `tls`)."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as asyncio's transports do
            await loop.sock_connect(sock, ("127.0.0.1", port))
            endpoint = cls(sock, on_data, on_lost, tls)
        except BaseException:
            sock.close()
            raise
        try:
            await endpoint.handshake
        except BaseException:
            endpoint.close()
            raise
        return endpoint

    # -- reading ----------------------------------------------------------------------------

    def _readable(self) -> None:
        try:
            if self._stamped:
                size, ancillary, _, _ = self.sock.recvmsg_into(_READ_VIEWS, _ANCILLARY_BYTES)
            else:
                size, ancillary = self.sock.recv_into(_READ_VIEW), []
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lose(exc)
            return
        now = time.perf_counter()
        if not size:
            self._lose(None)
            return
        # The kernel's clock is CLOCK_REALTIME: its offset from perf_counter is taken per read.
        arrived = _arrival(ancillary, time.time() - now)
        session = self._session
        if session is None:
            data = bytes(_READ_VIEW[:size])
        else:
            try:
                data = session.receive(_READ_VIEW[:size])  # type: ignore[arg-type]  (copied in)
            except TlsError as exc:
                self._lose(ConnectionError(exc.text))
                return
            if session.output_pending:
                self._send(session.take_output())
            if session.handshake_done and not self.handshake.done():
                self.handshake.set_result(None)
            if not data:
                return
        self._on_data(data, now, now if arrived is None else min(arrived, now))

    # -- writing ----------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue `data` (encrypted first over TLS) and send what the socket takes now."""
        if self._session is not None:
            try:
                data = self._session.seal((data,))
            except TlsError as exc:
                self._lose(ConnectionError(exc.text))
                return
        self._send(data)

    def _send(self, data: bytes) -> None:
        if self._closed or not data:
            return
        if not self._unsent:
            try:
                sent = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._lose(exc)
                return
            if sent == len(data):
                return
            data = data[sent:]
            self._loop.add_writer(self.sock.fileno(), self._flush)
        self._unsent += data
        if len(self._unsent) > WRITE_HIGH_WATER:
            self._writable.clear()

    def _flush(self) -> None:
        try:
            sent = self.sock.send(self._unsent)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lose(exc)
            return
        del self._unsent[:sent]
        if not self._unsent:
            self._loop.remove_writer(self.sock.fileno())
        if len(self._unsent) <= WRITE_HIGH_WATER:
            self._writable.set()

    @property
    def paused(self) -> bool:
        return not self._writable.is_set()

    async def writable(self) -> None:
        await self._writable.wait()

    # -- the end ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close at once: no TLS close_notify (the relays take the end of the TCP stream)."""
        if self._closed:
            return
        self._closed = True
        self._writable.set()
        self._loop.remove_reader(self.sock.fileno())
        self._loop.remove_writer(self.sock.fileno())
        self.sock.close()

    def _lose(self, exc: Exception | None) -> None:
        if self._closed:
            return
        self.close()
        if not self.handshake.done():
            self.handshake.set_exception(exc or ConnectionError("the relay closed the connection"))
            return
        self._on_lost(exc)


_ANCILLARY_BYTES = socket.CMSG_SPACE(_TIMESPEC.size)
#: One buffer every member reads into (one loop reads one member at a time, and what was
#: read is copied out at once): a fresh 256 KiB object per read costs the allocator more.
_READ_VIEW = memoryview(bytearray(READ_BYTES))
_READ_VIEWS = [_READ_VIEW]


def _ask_for_arrival_times(sock: socket.socket) -> bool:
    """Have the kernel stamp each read with its arrival time (Linux); False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


def _arrival(ancillary: list[tuple[int, int, bytes]], offset: float) -> float | None:
    """The kernel's arrival time of a read on the `perf_counter` clock, None without one."""
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(value) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(value)
            return seconds + nanoseconds / 1e9 - offset
    return None
