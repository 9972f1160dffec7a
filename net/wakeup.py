"""Waking a thread that waits in `select`: a byte on a socket pair it watches.

Other threads call `wake()`; the waiting thread watches `reader` and calls `drain()` when
it is readable. Both never block (a full buffer means a wake-up is already pending), and
both are harmless after `close()`.
"""

from __future__ import annotations

import socket


class Wakeup:
    """A selectable wake-up signal for one waiting thread."""

    def __init__(self) -> None:
        self.reader, self._writer = socket.socketpair()
        self.reader.setblocking(False)
        self._writer.setblocking(False)

    def wake(self) -> None:
        try:
            self._writer.send(b"\0")
        except OSError:
            pass  # a byte is already waiting (buffer full), or closed

    def drain(self) -> None:
        try:
            while self.reader.recv(4096):
                pass
        except OSError:
            pass  # drained (BlockingIOError), or closed

    def close(self) -> None:
        self.reader.close()
        self._writer.close()
