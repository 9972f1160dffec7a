"""A host and a flooding member in a process of their own, for the burst test.

Run as ``python -m tests.gui.burst_peer``: prints the host's port, then on a line with a
number N from stdin sends N room messages as fast as the host takes them (through the
plain-text dialect, which needs no acks), and stops at the next line or end of input.
Keeping them out of the window's process means the test measures the window, not the
host's work competing for the GIL.
"""

from __future__ import annotations

import socket
import sys

from net.api import HostConfig, Transport
from net.room import RoomConfig
from net.transports import make_host
from tests.identity import secure

TEXT = "x" * 60


def main() -> int:
    room = RoomConfig(name="Burst", rate_per_second=0)
    # TLS for the window, plain text for the flooding member (the text dialect needs no acks).
    host = make_host(Transport.TCP, HostConfig(port=0, bind="127.0.0.1", room=room, **secure({})))
    host.start()
    try:
        print(host.port, flush=True)
        count = int(sys.stdin.readline() or 0)
        with socket.create_connection(("127.0.0.1", host.port)) as member:
            member.sendall(b"flood\n")
            member.sendall(b"".join(f"message {number:05d} {TEXT}\n".encode() for number in range(count)))
            sys.stdin.readline()
    finally:
        host.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
