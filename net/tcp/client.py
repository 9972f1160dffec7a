"""The TCP client: one I/O thread around a `ClientSession`.

The thread owns the socket. It connects (non-blocking, so `close()` can interrupt it),
then waits in `select` on the socket and a wake-up socketpair, feeding what arrives to the
session and writing what the session wants written. The owner's calls (`send_message`,
`rename`, ...) only change the session under a lock and poke the wake-up socket, so they
never block on the network: a host that stops reading cannot freeze the window.
"""

from __future__ import annotations

import errno
import logging
import select
import socket
import threading
import time

from net.addresses import format_address
from net.api import ClientConfig, ClientState, EventSink, FailureKind
from net.client.session import ClientSession, LinkVerdict

log = logging.getLogger(__name__)

_RECV_BYTES = 256 * 1024
#: After close(), how long the bye may take to leave before the socket is closed anyway.
_BYE_GRACE = 0.5


class ConnectFailed(Exception):
    def __init__(self, failure: FailureKind, text: str) -> None:
        super().__init__(text)
        self.failure = failure
        self.text = text


def describe_connect_error(exc: OSError, where: str) -> ConnectFailed:
    """A sentence for the user, and its kind, for a failed connect to `where`."""
    if isinstance(exc, socket.gaierror):
        return ConnectFailed(FailureKind.RESOLVE, f"The host name in {where} could not be found.")
    if isinstance(exc, ConnectionRefusedError):
        return ConnectFailed(
            FailureKind.REFUSED, f"Nobody accepted the connection at {where}: is a chat hosted there?"
        )
    if isinstance(exc, TimeoutError):
        return ConnectFailed(
            FailureKind.TIMEOUT, f"No answer from {where}: the host may be off, or a firewall blocks it."
        )
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN):
        return ConnectFailed(FailureKind.UNREACHABLE, f"{where} cannot be reached from this network.")
    return ConnectFailed(FailureKind.LOST, f"Could not connect to {where}: {exc.strerror or exc}.")


class TcpClient:
    """A member's TCP connection to a host (implements `net.api.ChatClient`)."""

    def __init__(self, config: ClientConfig, on_event: EventSink) -> None:
        self.config = config
        self._on_event = on_event
        self._session = ClientSession(config)
        self._lock = threading.Lock()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._where = format_address(config.host, config.port)

    # -- the owner's side (any thread) ----------------------------------------------------

    @property
    def state(self) -> ClientState:
        return self._session.state

    @property
    def nick(self) -> str:
        return self._session.nick

    @property
    def client_id(self) -> str:
        return self._session.client_id

    @property
    def address(self) -> str:
        return self._where

    @property
    def pending(self) -> list[str]:
        """Local ids of messages not yet acknowledged by the host."""
        with self._lock:
            return self._session.pending

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("a client starts once")
        self._thread = threading.Thread(target=self._run, name=f"tcp-client {self._where}", daemon=True)
        self._thread.start()

    def send_message(self, text: str, *, to: str | None = None, action: bool = False) -> str:
        with self._lock:
            local_id = self._session.send_message(text, to=to, action=action, now=time.monotonic())
        self._wake()
        return local_id

    def rename(self, nick: str) -> None:
        with self._lock:
            self._session.rename(nick)
        self._wake()

    def set_typing(self, active: bool, to: str | None = None) -> None:
        with self._lock:
            self._session.set_typing(active, to)
        self._wake()

    def request_members(self) -> None:
        with self._lock:
            self._session.request_members()
        self._wake()

    def close(self, reason: str = "") -> None:
        """Say bye, stop, and join the I/O thread (within 2 s)."""
        with self._lock:
            self._session.close(reason)
        self._stopping.set()
        self._wake()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)
            if thread.is_alive():
                log.warning("client thread for %s did not stop in time", self._where)
        if thread is None or not thread.is_alive():
            self._wake_reader.close()
            self._wake_writer.close()

    def _wake(self) -> None:
        try:
            self._wake_writer.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # already awake (buffer full) or closed

    # -- the I/O thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    sock = self._connect()
                except ConnectFailed as failed:
                    delay = self._link_down(failed.failure, failed.text)
                else:
                    failure, reason = self._serve(sock)
                    delay = self._link_down(failure, reason)
                if delay is None:
                    return
                self._sleep(delay)
            self._link_down(FailureKind.CLOSED, "left the chat")
        except Exception:
            log.exception("client thread for %s failed", self._where)
            self._link_down(FailureKind.LOST, "internal error")

    def _link_down(self, failure: FailureKind, reason: str) -> float | None:
        with self._lock:
            if self._session.finished:
                return None
            delay = self._session.link_down(failure, reason)
        self._dispatch()
        return delay

    def _sleep(self, seconds: float) -> None:
        """Wait before reconnecting; close() cuts the wait short."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            select.select([self._wake_reader], [], [], remaining)
            self._drain_wake()

    def _drain_wake(self) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _connect(self) -> socket.socket:
        """Connect without blocking close(): non-blocking connect, waiting on the wake socket too."""
        try:
            infos = socket.getaddrinfo(self.config.host, self.config.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise describe_connect_error(exc, self._where) from None
        deadline = time.monotonic() + self.config.connect_timeout
        last_error: OSError = TimeoutError()
        for family, kind, proto, _name, address in infos:
            sock = socket.socket(family, kind, proto)
            try:
                sock.setblocking(False)
                code = sock.connect_ex(address)
                if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
                    raise OSError(code, errno.errorcode.get(code, "error"))
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._stopping.is_set():
                        raise TimeoutError()
                    _, writable, _ = select.select([], [sock], [], min(remaining, 0.1))
                    if writable:
                        break
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    raise (ConnectionRefusedError if code == errno.ECONNREFUSED else OSError)(
                        code, errno.errorcode.get(code, "error")
                    )
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                return sock
            except OSError as exc:
                sock.close()
                last_error = exc
                if self._stopping.is_set() or time.monotonic() >= deadline:
                    break
        raise describe_connect_error(last_error, self._where)

    def _serve(self, sock: socket.socket) -> tuple[FailureKind, str]:
        """Run one link until it ends; returns why it ended."""
        outgoing = bytearray()
        with self._lock:
            self._session.link_up(time.monotonic())
        try:
            while True:
                with self._lock:
                    outgoing += self._session.take_output()
                    wait = self._session.next_wakeup(time.monotonic())
                self._dispatch()
                if self._stopping.is_set():
                    self._flush_before_close(sock, outgoing)
                    return FailureKind.CLOSED, "left the chat"
                readable, writable, _ = select.select(
                    [sock, self._wake_reader], [sock] if outgoing else [], [], wait
                )
                if self._wake_reader in readable:
                    self._drain_wake()
                if sock in readable:
                    data = sock.recv(_RECV_BYTES)
                    with self._lock:
                        verdict = self._session.receive_data(data, time.monotonic())
                    if verdict is LinkVerdict.CLOSE or not data:
                        with self._lock:
                            outgoing += self._session.take_output()
                        self._flush_before_close(sock, outgoing)
                        return FailureKind.LOST, "the connection was closed"
                if writable and outgoing:
                    sent = sock.send(outgoing)
                    del outgoing[:sent]
                with self._lock:
                    verdict = self._session.tick(time.monotonic())
                if verdict is LinkVerdict.CLOSE:
                    return FailureKind.LOST, "the host stopped answering"
        except (BlockingIOError, InterruptedError):
            return FailureKind.LOST, "the connection failed"
        except OSError as exc:
            return FailureKind.LOST, f"the connection was lost ({exc.strerror or exc})"
        finally:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _flush_before_close(self, sock: socket.socket, outgoing: bytearray) -> None:
        """Best effort: let queued bytes (a bye) leave before the socket closes."""
        deadline = time.monotonic() + _BYE_GRACE
        while outgoing and time.monotonic() < deadline:
            _, writable, _ = select.select([], [sock], [], max(0.0, deadline - time.monotonic()))
            if not writable:
                return
            try:
                del outgoing[: sock.send(outgoing)]
            except OSError:
                return

    def _dispatch(self) -> None:
        with self._lock:
            events = self._session.take_events()
        for event in events:
            try:
                self._on_event(event)
            except Exception:
                log.exception("event handler failed for %r", event)
