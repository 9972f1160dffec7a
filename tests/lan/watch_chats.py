"""A live chat list on a virtual PC: the production `Browser`, as the GUI's Join view runs it.

`main.py discover` prints one snapshot and exits; to see a chat *disappear* from a list that
had it, something must keep browsing. This program runs `net.discovery.Browser` with its
default schedule and prints every change as one JSON line:

    {"event": "found", "room": "...", "endpoint": "10.77.5.1:47800", "transport": "tcp",
     "members": 2, "ttl": 16.0, "reason": ""}

It prints ``{"event": "ready"}`` once browsing, and stops cleanly at end of input or on SIGTERM.
Run it from the repository root: ``python -m tests.lan.watch_chats``.
"""

from __future__ import annotations

import json
import signal
import sys
import threading

from net.discovery import Browser, ChatEvent, ChatFound, ChatLost


def describe(event: ChatEvent) -> dict[str, object]:
    chat = event.chat
    kind = "found" if isinstance(event, ChatFound) else "lost" if isinstance(event, ChatLost) else "updated"
    return {
        "event": kind,
        "room": chat.info.room,
        "endpoint": chat.endpoint,
        "transport": chat.transport.value,
        "members": chat.info.members,
        "ttl": chat.info.ttl,
        "reason": getattr(event, "reason", ""),
    }


def main() -> int:
    printing = threading.Lock()

    def emit(record: dict[str, object]) -> None:
        with printing:
            print(json.dumps(record, ensure_ascii=False), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), name="stdin", daemon=True).start()
    browser = Browser(on_event=lambda event: emit(describe(event)))
    browser.start()
    try:
        emit({"event": "ready"})
        while not stop.wait(0.2):
            pass
    finally:
        browser.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
