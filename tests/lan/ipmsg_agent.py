"""A LanChat IP Messenger bridge driven over stdin/stdout, for the virtual-LAN tests.

Started inside a PC (`python -m tests.lan.ipmsg_agent NICK`): prints one JSON line per
bridge event (``{"event": "IpmsgUsers", ...}``), and reads commands, one per line:
``send ADDRESS TEXT`` (prints ``{"sent": ID}``), ``offer ADDRESS PATH`` (offers that file
or folder; prints ``{"offered": ID}``), ``fetch ADDRESS PACKETNO FILEID FOLDER`` (receives
one file of an offer, as the IpmsgMessage event listed it) and ``quit``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from pathlib import Path

from net.ipmsg.attachments import Attachment
from net.ipmsg.bridge import IpmsgBridge
from net.ipmsg.engine import Identity
from net.ipmsg.events import IpmsgMessage

_print_lock = threading.Lock()


def emit(record: dict[str, object], default: object = None) -> None:
    with _print_lock:
        print(json.dumps(record, ensure_ascii=False, default=default), flush=True)  # type: ignore[arg-type]


offered: dict[tuple[str, int, int], Attachment] = {}  # what IP Messenger users offered us


def post(event: object) -> None:
    if isinstance(event, IpmsgMessage):
        for attachment in event.attachments:
            offered[(event.address, event.packet_no, attachment.file_id)] = attachment
    fields = dataclasses.asdict(event) if dataclasses.is_dataclass(event) else {}  # type: ignore[arg-type]
    emit({"event": type(event).__name__, **fields}, default=str)


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
            elif command == "offer":
                address, _, path = rest.partition(" ")
                emit({"offered": bridge.offer_files(address, [Path(path)])})
            elif command == "fetch":
                address, number, file_id, folder = rest.split(" ", 3)
                attachment = offered[(address, int(number), int(file_id))]
                emit({"fetching": bridge.fetch(address, int(number), [attachment], Path(folder))})
    finally:
        bridge.stop()
        bridge.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
