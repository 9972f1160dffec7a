"""The sending PC of the "transfer" workload: a process of its own (bench/transfer.py).

    python -m bench.transfer_sender

Why a process: two PCs do not share a Python interpreter. With both ends in one process
the sender's and the receiver's Python code take turns on one GIL, which no real transfer
pays; the baseline and the engine are both measured with their sender here, so they pay
the same. Both senders also run at the transfer priority (`lower_priority`), as the
engine's threads do: on a machine shared with other work, a baseline at a higher priority
than the engine would win for that reason alone.

Prints one JSON line {port, fingerprint}, then answers one line per command on stdin:

    offer PATH...   -> "ok"       offers PATH... as offer "bench" (hashing them now)
    grant           -> a token    for member "bench" to fetch offer "bench"
    baseline BYTES  -> a port     a plain TLS `sendall` loop of BYTES from memory to the
                                  first connection there (the baseline), on its own thread
    cpu             -> [user, system] CPU seconds of this process so far
    rss             -> [start, peak] resident MiB since the last "rss" (sampled every 20 ms)
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import sys
import threading
from pathlib import Path

from bench.transfer_rss import PeakRss
from net.files.manifest import build_manifest
from net.files.server import TransferServer
from net.files.sockets import lower_priority
from net.paths import identity_dir
from net.secure.identity import load_or_create_identity
from net.secure.tls import server_context

MIB = 1024 * 1024


def _baseline(listener: socket.socket, context: ssl.SSLContext, size: int) -> None:
    lower_priority()
    block = os.urandom(MIB)
    sock, _ = listener.accept()
    listener.close()
    with context.wrap_socket(sock, server_side=True) as tls:
        left = size
        while left:
            tls.sendall(block[: min(MIB, left)])
            left -= min(MIB, left)


def main() -> None:
    identity = load_or_create_identity(identity_dir())
    server = TransferServer(identity, bind="127.0.0.1")
    server.start()
    context = server_context(identity)
    senders: list[threading.Thread] = []
    rss = PeakRss(os.getpid())
    rss.begin()
    print(json.dumps({"port": server.port, "fingerprint": identity.fingerprint.hex()}), flush=True)
    try:
        for line in sys.stdin:
            command, *args = line.split()
            if command == "offer":
                server.remove_offer("bench")
                server.add_offer("bench", build_manifest([Path(arg) for arg in args]).entries)
                answer: object = "ok"
            elif command == "grant":
                answer = server.grant("bench", "bench")
            elif command == "baseline":
                listener = socket.create_server(("127.0.0.1", 0))
                size = int(args[0])
                thread = threading.Thread(target=_baseline, args=(listener, context, size), daemon=True)
                thread.start()
                senders.append(thread)
                answer = listener.getsockname()[1]
            elif command == "cpu":
                times = os.times()
                answer = [times.user, times.system]
            elif command == "rss":
                answer = [rss.start, rss.peak]
                rss.reset()
            else:
                answer = f"unknown command {command!r}"
            print(json.dumps(answer), flush=True)
    finally:
        for thread in senders:
            thread.join(timeout=60)
        rss.stop()
        server.stop()


if __name__ == "__main__":
    main()
