"""A transfer's threads run below the chat: on Linux as SCHED_IDLE (they get the CPU only
when no ordinary thread wants it, and a woken chat thread preempts them at once)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from net.files.fetch import Fetch, Progress, Ticket
from net.files.manifest import build_manifest
from net.files.server import Served, TransferServer
from net.files.sockets import lower_priority, transfer_priority
from tests.helpers import wait_until
from tests.identity import session_identity

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE is Linux's")


def test_lowering_affects_only_the_calling_thread() -> None:
    seen: list[str] = []

    def work() -> None:
        lower_priority()
        seen.append(transfer_priority())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == ["idle"]
    assert transfer_priority() == "normal"  # this thread (the chat's, say) is untouched


def test_both_ends_of_a_transfer_run_as_idle_threads(tmp_path: Path) -> None:
    served: list[tuple[Served, str]] = []
    server = TransferServer(
        session_identity(), bind="127.0.0.1", on_served=lambda s: served.append((s, transfer_priority()))
    )
    source = tmp_path / "a.bin"
    source.write_bytes(os.urandom(3_000_000))
    server.add_offer("o1", build_manifest([source]).entries)
    server.start()
    writer: list[str] = []
    try:
        ticket = Ticket("127.0.0.1", server.port, server.fingerprint, "o1", "bob", server.grant("o1", "bob"))

        def progress(_: Progress) -> None:
            writer.append(transfer_priority())  # reported from the fetch's writing thread

        Fetch(ticket, tmp_path / "in", on_progress=progress, progress_interval=0).run()
        wait_until(lambda: served, message="the sender's report")
    finally:
        server.stop()
    assert writer and set(writer[:-1]) == {"idle"}  # the last report comes from the caller's thread
    assert [priority for _, priority in served] == ["idle"]
