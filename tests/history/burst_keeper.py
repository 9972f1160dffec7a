"""A process that keeps a 10,000-message burst and says which messages it would show.

Run by test_crash.py, which kills it with SIGKILL in the middle: a message is "shown" once
the writer reports it durable (that is when the window shows it), and the line
``shown N`` is printed then. Messages arrive in chunks of 100, a millisecond apart (a
network's pace), so the kill lands mid-burst.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from history import store
from history.database import HistoryDatabase
from history.writer import HistoryWriter

TOTAL = 10_000


def main() -> None:
    database = HistoryDatabase.open(Path(sys.argv[1]))

    def shown(seq: int) -> None:
        print(f"shown {seq}", flush=True)

    writer = HistoryWriter(database, on_durable=shown, batch=100)
    writer.start()
    pace = threading.Event()
    for n in range(1, TOTAL + 1):
        body = f"burst message {n} 你好"
        seq = writer.append(store.NewMessage("room:AAAA", "Burst", f"m{n}", 1000.0 + n, "ann", body))
        assert seq == n
        if n % 100 == 0:
            pace.wait(0.001)
    print("all submitted", flush=True)
    sys.stdin.read()  # never ends by itself: the test kills it


if __name__ == "__main__":
    main()
