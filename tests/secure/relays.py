"""Men in the middle on loopback: a TCP tap that records every byte, and a TCP relay that
terminates TLS with its own certificate and forwards the plaintext to the real host."""

from __future__ import annotations

import selectors
import socket
import ssl
import threading

from net.secure.identity import Identity
from net.secure.tls import client_context, server_context


class TcpTap:
    """Forwards connections to `target` unchanged and records everything that passes."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self.recorded = bytearray()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name="tcp-tap", daemon=True)

    def start(self) -> TcpTap:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._wake_writer.send(b"\0")
        self._thread.join(5.0)
        assert not self._thread.is_alive()
        for sock in (self._listener, self._wake_reader, self._wake_writer):
            sock.close()

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ, "accept")
        selector.register(self._wake_reader, selectors.EVENT_READ, "wake")
        pairs: list[socket.socket] = []
        try:
            while not self._stopping.is_set():
                for key, _ in selector.select(0.5):
                    if key.data == "wake":
                        continue
                    if key.data == "accept":
                        client, _ = self._listener.accept()
                        upstream = socket.create_connection(self._target)
                        for a, b in ((client, upstream), (upstream, client)):
                            a.setblocking(True)
                            selector.register(a, selectors.EVENT_READ, b)
                            pairs.append(a)
                        continue
                    source, destination = key.fileobj, key.data
                    assert isinstance(source, socket.socket)
                    try:
                        data = source.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        selector.unregister(source)
                        try:
                            destination.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        continue
                    with self._lock:
                        self.recorded += data
                    try:
                        destination.sendall(data)
                    except OSError:
                        pass
        finally:
            selector.close()
            for sock in pairs:
                sock.close()


class TlsInterceptor:
    """Accepts TLS with `identity` (not the host's) and relays the plaintext to the real host
    over its own TLS connection: what an attacker on the LAN in the middle would run."""

    def __init__(self, target: tuple[str, int], identity: Identity) -> None:
        self._target = target
        self._server = server_context(identity)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.plaintext_seen = bytearray()  # what the interceptor could read
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept, name="tls-interceptor", daemon=True)

    def start(self) -> TlsInterceptor:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._acceptor.join(5.0)
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for thread in self._threads:
            thread.join(5.0)
            assert not thread.is_alive()
        with self._lock:
            for sock in self._sockets:
                sock.close()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(
                target=self._serve, args=(raw,), name="tls-interceptor-conn", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _serve(self, raw: socket.socket) -> None:
        with self._lock:
            self._sockets.append(raw)
        try:
            raw.settimeout(5.0)
            victim = self._server.wrap_socket(raw, server_side=True)
            upstream = client_context().wrap_socket(socket.create_connection(self._target, timeout=5.0))
        except (OSError, ssl.SSLError):
            return
        with self._lock:
            self._sockets += [victim, upstream]
        forward = threading.Thread(target=self._pump, args=(upstream, victim, False), daemon=True)
        forward.start()
        self._pump(victim, upstream, True)
        forward.join(5.0)

    def _pump(self, source: ssl.SSLSocket, destination: ssl.SSLSocket, record: bool) -> None:
        while not self._stopping.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except (OSError, ssl.SSLError):
                return
            if not data:
                return
            if record:
                with self._lock:
                    self.plaintext_seen += data
            try:
                destination.sendall(data)
            except (OSError, ssl.SSLError):
                return
