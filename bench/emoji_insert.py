"""How much emoji pictures cost a batch insert into the transcript (not part of `make bench`).

1,000 message lines in one `ConversationPane.add_lines` call, then one `update` (Tk lays
out and draws), with 0, 1 or 3 emoji a line, into an empty transcript and into a full one
(5,000 lines of the same kind already there); median of five fresh panes each. Needs a
display: ``LANCHAT_LOOPBACK_ONLY=1 DISPLAY=:99 .venv/bin/python -m bench.emoji_insert``.
"""

from __future__ import annotations

import statistics
import time
import tkinter as tk

from gui.conversation import ConversationPane
from gui.emoji_picker import EMOJI
from gui.model.values import Line
from gui.palette import Palette
from gui.theme import apply_theme

BATCH = 1000
REPEATS = 5
WHEN = time.time()


def lines(count: int, per_line: int, first: int = 0) -> list[Line]:
    return [
        Line(
            "message",
            f"message {first + n:05d} about the build "
            + " ".join(EMOJI[(n * 7 + k) % 40] for k in range(per_line))
            + " ok",
            WHEN,
            f"user{n % 7}",
        )
        for n in range(count)
    ]


def measure(root: tk.Tk, palette: Palette, per_line: int, full: bool) -> tuple[float, float]:
    """Median (wall, CPU) milliseconds of one batch of `BATCH` lines."""
    walls, cpus = [], []
    for _ in range(REPEATS):
        pane = ConversationPane(root, palette, 5000)
        pane.pack(fill="both", expand=True)
        root.update()
        if full:
            for block in range(5):
                pane.add_lines(lines(BATCH, per_line, block * BATCH))
                root.update()
        batch = lines(BATCH, per_line, 90_000)
        wall, cpu = time.perf_counter(), time.process_time()
        pane.add_lines(batch)
        root.update()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        pane.destroy()
        root.update()
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def main() -> None:
    root = tk.Tk()
    root.geometry("900x600+0+0")
    palette = apply_theme(root, "light", "en", 11)
    for full in (False, True):
        for per_line in (0, 1, 3):
            wall, cpu = measure(root, palette, per_line, full)
            into = "a full 5,000-line transcript" if full else "an empty transcript"
            print(f"{BATCH} lines, {per_line} emoji each, into {into}: {wall:.0f} ms ({cpu:.0f} ms CPU)")
    root.destroy()


if __name__ == "__main__":
    main()
