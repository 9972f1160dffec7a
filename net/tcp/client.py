"""The TCP client: one I/O thread around a `ClientSession`.

The thread owns the socket. It connects (non-blocking, so `close()` can interrupt it),
then waits in `select` on the socket and the wake-up socketpair, feeding what arrives to
the session and writing what the session wants written. Everything the TCP and UDP
clients share (the owner's calls, reconnecting, event delivery) is in
`net.client.threaded`.
"""

from __future__ import annotations

import errno
import logging
import select
import socket
import time

from net.addresses import AddrInfo
from net.api import FailureKind, Transport
from net.client.session import LinkVerdict
from net.client.threaded import ThreadedClient

log = logging.getLogger(__name__)

_RECV_BYTES = 256 * 1024
#: After close(), how long the bye may take to leave before the socket is closed anyway.
_BYE_GRACE = 0.5


class TcpClient(ThreadedClient):
    """A member's TCP connection to a host (implements `net.api.ChatClient`)."""

    thread_label = "tcp-client"
    transport = Transport.TCP

    def _connect(self) -> socket.socket:
        return self._try_addresses(socket.SOCK_STREAM, self._open_stream)

    def _open_stream(self, info: AddrInfo, deadline: float) -> socket.socket:
        """Connect without blocking close(): non-blocking connect, waiting on the wake socket too."""
        family, kind, proto, _name, address = info
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
        except BaseException:
            sock.close()
            raise

    def _serve(self, sock: socket.socket) -> tuple[FailureKind, str]:
        """Run one link until it ends; returns why it ended."""
        outgoing = bytearray()
        with self._lock:
            self._session.link_up(time.monotonic())
        try:
            while True:
                stopping = self._stopping.is_set()  # before the take: `close` queues the bye, then sets it
                with self._lock:
                    outgoing += self._session.take_output()
                    wait = self._session.next_wakeup(time.monotonic())
                self._dispatch()
                if stopping:
                    self._flush_before_close(sock, outgoing)
                    return FailureKind.CLOSED, "left the chat"
                readable, writable, _ = select.select(
                    [sock, self._wakeup.reader], [sock] if outgoing else [], [], wait
                )
                if self._wakeup.reader in readable:
                    self._wakeup.drain()
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
