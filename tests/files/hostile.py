"""A hostile sender: a TLS port that answers any request with the bytes a test scripts."""

from __future__ import annotations

import socket
import threading

from net.files.stream import DONE, ENTRY, FILE, MANIFEST_END, encode_record, file_header
from net.secure.tls import server_context
from tests.identity import session_identity


class HostileSender:
    """Serves one connection: reads the request, sends `manifest` (entry objects) and, once
    the wanted list is in, `body` (raw bytes: headers and content as the test wants), then
    closes."""

    def __init__(self, manifest: list[dict[str, object]], body: bytes, *, count: int | None = None) -> None:
        self.manifest = manifest
        self.body = body
        self.count = len(manifest) if count is None else count
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.fingerprint = session_identity().fingerprint
        self.wanted = b""
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            sock, _ = self._listener.accept()
        except OSError:
            return
        sock.settimeout(10)
        with server_context(session_identity()).wrap_socket(sock, server_side=True) as tls:
            try:
                tls.recv(4096)  # the request
                records = b"".join(encode_record(ENTRY, entry) for entry in self.manifest)
                tls.sendall(records + encode_record(MANIFEST_END, {"count": self.count, "total": 0}))
                self.wanted = tls.recv(65536)
                tls.sendall(self.body)  # and hang up: a stream cut short ends here
            except OSError:
                pass

    def close(self) -> None:
        self._listener.close()
        self._thread.join(timeout=10)


def one_file(index: int, offset: int, content: bytes) -> bytes:
    return file_header(index, offset, len(content)) + content


def done() -> bytes:
    return encode_record(DONE, {})


__all__ = ["FILE", "HostileSender", "done", "one_file"]
