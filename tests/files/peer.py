"""A sender or a receiver in its own process, for the tests that kill one mid-transfer.

python -m tests.files.peer serve FILE...      prints "ready PORT KEYHEX TOKEN" (offer
                                              "o1" for member "bob"), then "served N"
                                              per connection; runs until killed
python -m tests.files.peer fetch PORT KEYHEX TOKEN FOLDER STALL_AT
                                              fetches offer "o1" as "bob"; once STALL_AT
                                              bytes are in, prints "stalled N" and waits
                                              to be killed
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from net.files.fetch import Fetch, FetchError, Progress, Ticket
from net.files.manifest import build_manifest
from net.files.server import Served, TransferServer
from tests.identity import session_identity


def serve(files: list[str]) -> None:
    def served(report: Served) -> None:
        print(f"served {report.sent}", flush=True)

    server = TransferServer(session_identity(), bind="127.0.0.1", on_served=served)
    server.add_offer("o1", build_manifest([Path(f) for f in files]).entries)
    token = server.grant("o1", "bob")
    server.start()
    print(f"ready {server.port} {server.fingerprint.hex()} {token}", flush=True)
    threading.Event().wait()


def fetch(port: str, key: str, token: str, folder: str, stall_at: str) -> None:
    def progress(report: Progress) -> None:
        if report.done >= int(stall_at):
            print(f"stalled {report.done}", flush=True)
            threading.Event().wait()

    ticket = Ticket("127.0.0.1", int(port), bytes.fromhex(key), "o1", "bob", token)
    try:
        result = Fetch(ticket, Path(folder), on_progress=progress, progress_interval=0).run()
    except FetchError as exc:
        print(f"failed {exc.code}", flush=True)
    else:
        print(f"done {result.received}", flush=True)


def small_disk(port: str, key: str, token: str, folder: str, limit: str) -> None:
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
    ticket = Ticket("127.0.0.1", int(port), bytes.fromhex(key), "o1", "bob", token)
    try:
        result = Fetch(ticket, Path(folder)).run()
    except FetchError as exc:
        print(f"failed {exc.code} {exc.text}", flush=True)
    else:
        print(f"done {result.received}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "small-disk":
        small_disk(*sys.argv[2:])
    elif sys.argv[1] == "serve":
        serve(sys.argv[2:])
    else:
        fetch(*sys.argv[2:])
