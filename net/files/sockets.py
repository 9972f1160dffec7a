"""A transfer's threads: shutting a socket down from another thread safely for TLS,
and running below the chat.

Shutting down:

`ssl.SSLSocket.shutdown` drops the socket's TLS state before shutting the descriptor
down, so a thread still reading it then gets the raw TLS records as if they were data
(a cancelled fetch wrote them into its `.part`), and one still writing would send in the
clear. Shutting the descriptor down through `socket.socket.shutdown` keeps the TLS state:
the other thread's read or write fails, as it should.
"""

from __future__ import annotations

import os
import socket
import threading


def shut_down(sock: socket.socket) -> None:
    """Wake any thread blocked on `sock` (its reads end, its writes fail); never raises."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


#: How much lower than the chat a transfer's threads run (Unix nice steps).
TRANSFER_NICENESS = 10


def lower_priority() -> None:
    """Run the calling thread below the chat's threads: a transfer saturating the CPU
    (TLS, SHA-256, disk) must not delay a chat line. Linux and other Unixes that take a
    thread id in `setpriority` only; elsewhere (and when refused) it does nothing."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRANSFER_NICENESS)
    except (AttributeError, OSError):
        pass
