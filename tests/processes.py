"""Running `main.py` subcommands as real processes, with their output lines collected."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class MainProcess:
    """`python main.py ARGS...` with piped stdin/stdout/stderr, read line by line in threads."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        environment = {**os.environ, "LANCHAT_LOOPBACK_ONLY": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "main.py", *args],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._collect, args=(self.proc.stdout, self._lines), daemon=True),
            threading.Thread(target=self._collect_into, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _collect(stream, lines: queue.Queue) -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))

    @staticmethod
    def _collect_into(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def send_line(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def wait_for_line(self, pattern: str, timeout: float = 20.0) -> re.Match:
        """The first output line (seen so far or arriving) matching `pattern`."""
        deadline = time.monotonic() + timeout
        checked = 0
        while True:
            for line in self.stdout[checked:]:
                if found := re.search(pattern, line):
                    return found
            checked = len(self.stdout)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern!r} in {self.stdout} (stderr {self.stderr})")
            try:
                self.stdout.append(self._lines.get(timeout=min(remaining, 0.2)))
            except queue.Empty:
                if self.proc.poll() is not None and self._lines.empty():
                    raise AssertionError(
                        f"process ended ({self.proc.returncode}) without {pattern!r}: "
                        f"{self.stdout} {self.stderr}"
                    ) from None

    def wait(self, timeout: float = 20.0) -> int:
        status = self.proc.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=2)
        while not self._lines.empty():
            self.stdout.append(self._lines.get())
        return status

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
