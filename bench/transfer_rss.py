"""Resident memory of a process, sampled every 20 ms while a transfer runs (bench "transfer")."""

from __future__ import annotations

import os
import threading

MIB = 1024 * 1024


def rss_mib(pid: int | None = None) -> float:
    """The resident memory of `pid` (default: this process) in MiB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid or os.getpid()}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakRss:
    """The start and the peak of a process's resident memory (a `with` block, or
    `begin`/`reset`/`stop`)."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid
        self.start = self.peak = rss_mib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss sampler", daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib(self.pid))

    def begin(self) -> None:
        self._thread.start()

    def reset(self) -> None:
        self.start = self.peak = rss_mib(self.pid)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()

    def __enter__(self) -> PeakRss:
        self.begin()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
