"""A LanChat IP Messenger bridge driven over stdin/stdout, for the virtual-LAN tests.

Started inside a PC (`python -m tests.lan.ipmsg_agent NICK`): prints one JSON line per
bridge event (``{"event": "IpmsgUsers", ...}``), and reads commands, one per line:
``send ADDRESS TEXT`` (prints ``{"sent": ID}``) and ``quit``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading

from net.ipmsg.bridge import IpmsgBridge
from net.ipmsg.engine import Identity

_print_lock = threading.Lock()


def emit(record: dict[str, object]) -> None:
    with _print_lock:
        print(json.dumps(record, ensure_ascii=False), flush=True)


def post(event: object) -> None:
    fields = dataclasses.asdict(event) if dataclasses.is_dataclass(event) else {}  # type: ignore[arg-type]
    emit({"event": type(event).__name__, **fields})


def main() -> int:
    nick = sys.argv[1] if len(sys.argv) > 1 else "LanChat"
    bridge = IpmsgBridge(Identity(nick, "LanChat", "lanchat", nick), post)
    bridge.start()
    try:
        for line in sys.stdin:
            command, _, rest = line.rstrip("\n").partition(" ")
            if command == "quit":
                break
            if command == "send":
                address, _, text = rest.partition(" ")
                emit({"sent": bridge.send_message(address, text)})
    finally:
        bridge.stop()
        bridge.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
