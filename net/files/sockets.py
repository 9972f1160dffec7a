"""Shutting a transfer's socket down from another thread, safely for TLS.

`ssl.SSLSocket.shutdown` drops the socket's TLS state before shutting the descriptor
down, so a thread still reading it then gets the raw TLS records as if they were data
(a cancelled fetch wrote them into its `.part`), and one still writing would send in the
clear. Shutting the descriptor down through `socket.socket.shutdown` keeps the TLS state:
the other thread's read or write fails, as it should.
"""

from __future__ import annotations

import socket


def shut_down(sock: socket.socket) -> None:
    """Wake any thread blocked on `sock` (its reads end, its writes fail); never raises."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass
