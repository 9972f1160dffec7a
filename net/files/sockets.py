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
import struct
import threading


def shut_down(sock: socket.socket) -> None:
    """Wake any thread blocked on `sock` (its reads end, its writes fail); never raises."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def reset_on_close(sock: socket.socket) -> None:
    """Make closing `sock` reset the connection (SO_LINGER 0): a fetch we stop (a pause,
    a cancel) may leave the sender blocked on a full window, which a plain close does not
    wake until its idle timeout; a reset fails its send at once. Never raises."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass


#: How much lower than the chat a transfer's threads run where SCHED_IDLE is not there
#: (Unix nice steps).
TRANSFER_NICENESS = 10


def lower_priority() -> None:
    """Run the calling thread below the chat's threads: a transfer saturating the CPU
    (TLS, SHA-256, disk) must not delay a chat line.

    On Linux the thread goes to SCHED_IDLE: it runs when no ordinary thread of its
    scheduling group wants the CPU, and a chat thread that wakes up preempts it at once
    (nice 10 still left it a tenth of the CPU and a time slice to finish). A SCHED_IDLE
    thread is never starved outright (the scheduler still gives it a small share), so a
    transfer beside a busy chat slows down instead of stopping; against other programs
    (other sessions: other autogroups) the process's share is what it was. Elsewhere,
    and when refused, nice 10; else nothing.
    """
    native = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, native, TRANSFER_NICENESS)  # also where SCHED_IDLE is refused
    except (AttributeError, OSError):
        pass
    try:
        os.sched_setscheduler(native, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass


def transfer_priority() -> str:
    """How the calling thread is scheduled: "idle", "nice N" or "normal" (for the tests)."""
    try:
        if os.sched_getscheduler(threading.get_native_id()) == os.SCHED_IDLE:
            return "idle"
    except (AttributeError, OSError):
        pass
    try:
        niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (AttributeError, OSError):
        return "normal"
    return f"nice {niceness}" if niceness else "normal"
