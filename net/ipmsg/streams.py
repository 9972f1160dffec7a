"""What the IP Messenger file server and fetcher share: bounded worker threads, paced
progress, reading a request or an exact number of bytes from a TCP socket with timeouts.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

from net.files.limits import PROGRESS_INTERVAL

log = logging.getLogger(__name__)

#: Bytes moved per read or write: one bounded buffer per transfer.
CHUNK_BYTES = 256 * 1024
#: Seconds a transfer connection may stay silent (connecting, the request, a stalled read).
IDLE_TIMEOUT = 30.0
#: Transfer connections served at once, and fetches running at once (each).
MAX_CONNECTIONS = 8
#: A GETFILEDATA / GETDIRFILES request is a short packet; more is refused.
MAX_REQUEST_BYTES = 1024
#: After the last byte of a request without its NUL, how long to wait for more.
REQUEST_GRACE = 0.5
#: A client sends its request as soon as it is connected: a silent one is closed after this.
REQUEST_TIMEOUT = 5.0


class Stopped(Exception):
    """The owner stopped the transfer (cancel, or the bridge closing)."""


class Workers:
    """A bounded set of threads with one owner: `start` refuses beyond `limit`, `stop` asks
    them to end (they poll `stopping`), `join` waits for them."""

    def __init__(self, name: str, limit: int = MAX_CONNECTIONS) -> None:
        self.name = name
        self.limit = limit
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._sockets: set[socket.socket] = set()

    def start(self, target: Callable[[], None]) -> bool:
        with self._lock:
            if self.stopping.is_set() or len(self._threads) >= self.limit:
                return False

            def run() -> None:
                try:
                    target()
                except Exception:  # a bug: logged, never takes the program down
                    log.exception("an IP Messenger transfer failed")
                finally:
                    with self._lock:
                        self._threads.discard(threading.current_thread())

            thread = threading.Thread(target=run, name=self.name, daemon=True)
            self._threads.add(thread)
            thread.start()
            return True

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._threads)

    def watch(self, sock: socket.socket) -> None:
        """`stop` shuts `sock` down, so a thread blocked reading it ends at once."""
        with self._lock:
            self._sockets.add(sock)
        if self.stopping.is_set():
            shut(sock)

    def unwatch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def stop(self) -> None:
        self.stopping.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            shut(sock)

    def join(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def shut(sock: socket.socket) -> None:
    """Shut a socket down from another thread (its reader sees the end); never raises."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class Pacer:
    """Says when a progress event is due: at most every PROGRESS_INTERVAL seconds."""

    def __init__(self, interval: float = PROGRESS_INTERVAL) -> None:
        self.interval = interval
        self._last = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False


def read_request(conn: socket.socket) -> bytes:
    """A request packet: up to its NUL, or what came before the peer paused; b"" for none."""
    data = bytearray()
    while len(data) < MAX_REQUEST_BYTES:
        try:
            chunk = conn.recv(MAX_REQUEST_BYTES - len(data))
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
        if b"\0" in chunk:
            return bytes(data[: data.index(b"\0")])
        conn.settimeout(REQUEST_GRACE)
    return bytes(data) if len(data) < MAX_REQUEST_BYTES else b""


def send_all(conn: socket.socket, data: bytes, stopping: Callable[[], bool]) -> None:
    if stopping():
        raise Stopped
    conn.sendall(data)


def receive_some(conn: socket.socket, limit: int, stopping: Callable[[], bool]) -> bytes:
    """Up to `limit` bytes; ConnectionError when the peer closed first."""
    if stopping():
        raise Stopped
    data = conn.recv(min(limit, CHUNK_BYTES))
    if not data:
        raise ConnectionError("the sender closed the connection early")
    return data
