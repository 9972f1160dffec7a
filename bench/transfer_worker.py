"""A process that moves a big file again and again until told to stop (bench "transfer").

    python -m bench.transfer_worker BYTES [--relay]

Writes a file of BYTES, prints "ready", and on a line from stdin starts fetching it from
its own `TransferServer` (both ends in this process, the real engine), one transfer after
another, until stdin closes; then prints one JSON line: transfers, bytes, seconds, and
this process's resident memory at the start and at its peak (sampled every 20 ms). With
`--relay` every transfer goes through a `HostRelay` in this process too (a receiver and
a sender that cannot reach each other): the peak then covers the host's relay as well.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.transfer import _write_file
from bench.transfer_rss import PeakRss
from net.files.fetch import Fetch, Ticket
from net.files.manifest import build_manifest
from net.files.relay import HostRelay
from net.files.relay_leg import RelayRoute
from net.files.server import TransferServer
from net.files.sockets import lower_priority
from net.paths import identity_dir
from net.secure.identity import load_or_create_identity


def main(size: int, relayed: bool) -> None:
    lower_priority()  # as FileTransfers runs a fetch's thread
    identity = load_or_create_identity(identity_dir())
    server = TransferServer(identity, bind="127.0.0.1")
    relay = HostRelay(identity, bind="127.0.0.1") if relayed else None
    server.start()
    if relay is not None:
        relay.start()
    stop = threading.Event()
    try:
        with tempfile.TemporaryDirectory(prefix="lanchat-bench-worker-") as folder:
            big = Path(folder) / "big.bin"
            _write_file(big, size)
            server.add_offer("o", build_manifest([big]).entries)
            print("ready", flush=True)
            sys.stdin.readline()
            threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
            done = 0
            started = time.perf_counter()
            with PeakRss() as rss:
                while True:  # at least one transfer, then until stdin closes
                    token = server.grant("o", "b")
                    ticket = Ticket("127.0.0.1", server.port, server.fingerprint, "o", "b", token)
                    if relay is not None:
                        fetch_ticket, send_ticket = relay.desk.open("o", "b", "a")
                        key = identity.fingerprint
                        server.serve_relayed(RelayRoute("127.0.0.1", relay.port, key, send_ticket), "b", "o")
                        route = RelayRoute("127.0.0.1", relay.port, key, fetch_ticket)
                        ticket = Ticket("127.0.0.1", 0, b"", "o", "b", token, relay=route)
                    Fetch(ticket, Path(folder) / "in").run()
                    (Path(folder) / "in" / "big.bin").unlink()
                    done += 1
                    if stop.is_set():
                        break
            seconds = time.perf_counter() - started
    finally:
        if relay is not None:
            relay.stop()
        server.stop()
    print(json.dumps({"transfers": done, "bytes": done * size, "seconds": seconds,
                      "rss_start_mib": rss.start, "rss_peak_mib": rss.peak}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]), "--relay" in sys.argv[2:])
