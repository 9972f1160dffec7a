"""One background thread with a bounded queue of jobs, owned and joined by whoever made it.

Offers hash every file they hold, and thumbnails decode pictures: both take too long for
Tk's thread, so they run here, one job at a time, in order.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Jobs waiting at once; `submit` refuses more (the user is told).
MAX_WAITING = 64


class Worker:
    """Runs submitted jobs on its own thread, started with the first job."""

    def __init__(self, name: str, limit: int = MAX_WAITING) -> None:
        self._name = name
        self._limit = limit
        self._jobs: deque[Callable[[], None]] = deque()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def submit(self, job: Callable[[], None]) -> bool:
        """Queue `job`; False when the queue is full or the worker stopped."""
        with self._cv:
            if self._stopping or len(self._jobs) >= self._limit:
                return False
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cv.notify()
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Drop waiting jobs, let the running one end (within `timeout`) and join the thread."""
        with self._cv:
            self._stopping = True
            self._jobs.clear()
            self._cv.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s: a job still runs after %.0f s; left to end on its own", self._name, timeout)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._jobs and not self._stopping:
                    self._cv.wait()
                if self._stopping:
                    return
                job = self._jobs.popleft()
            try:
                job()
            except Exception:
                log.exception("%s: a job failed", self._name)
