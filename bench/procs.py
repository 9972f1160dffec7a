"""Starting, watching and stopping the relays under test, each as its own process.

Every relay listens on 127.0.0.1 only, on a free port picked here. `ManagedProcess.stats`
reads CPU seconds, RSS, threads and descriptors with psutil, so the host's cost is
measured from outside, the same way for ours, Redis and the tutorial relay.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
LOG_DIR = Path(tempfile.gettempdir()) / "lanchat-bench-logs"
_READY_TIMEOUT = 15.0


class Unavailable(RuntimeError):
    """A relay or tool this workload needs is not there (yet); the reason says why."""


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Stats:
    cpu: float  # user + system seconds so far
    rss: int  # bytes
    threads: int
    fds: int


class ManagedProcess:
    """A relay process: started with a log file, probed with psutil, always stopped."""

    def __init__(self, name: str, argv: list[str], port: int, env: dict[str, str] | None = None) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.port = port
        self.log_path = LOG_DIR / f"{name}-{port}.log"
        full_env = {**os.environ, "LANCHAT_LOOPBACK_ONLY": "1", **(env or {})}
        with open(self.log_path, "wb") as log:
            self.popen = subprocess.Popen(
                argv, cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.process = psutil.Process(self.popen.pid)

    def wait_listening(self, timeout: float = _READY_TIMEOUT) -> None:
        """Wait until the TCP port accepts connections (or the process dies)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise Unavailable(f"{self.name} exited with {self.popen.returncode}: {self.log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            time.sleep(0.05)
        raise Unavailable(f"{self.name} did not listen on port {self.port} within {timeout} s")

    def wait_log(self, text: str, timeout: float = _READY_TIMEOUT) -> None:
        """Wait until the process has logged `text` (for a UDP host: nothing to connect to)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise Unavailable(f"{self.name} exited with {self.popen.returncode}: {self.log_tail()}")
            if text in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.05)
        raise Unavailable(f"{self.name} did not log {text!r} within {timeout} s: {self.log_tail()}")

    def stats(self) -> Stats:
        with self.process.oneshot():
            cpu = self.process.cpu_times()
            return Stats(
                cpu=cpu.user + cpu.system,
                rss=self.process.memory_info().rss,
                threads=self.process.num_threads(),
                fds=self.process.num_fds(),
            )

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


@contextlib.contextmanager
def running(proc: ManagedProcess) -> Iterator[ManagedProcess]:
    try:
        proc.wait_listening()
        yield proc
    finally:
        proc.stop()


# --- our host ---------------------------------------------------------------------------


@functools.cache
def our_host_problem(transport: str = "tcp") -> str | None:
    """None when `main.py host` exists (for `transport`), else why it cannot be benchmarked."""
    result = subprocess.run(
        [sys.executable, "main.py", "host", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        return "`main.py host` is not available yet: " + (result.stderr.strip().splitlines() or ["?"])[-1]
    if "--rate-limit" not in result.stdout:
        return "`main.py host` has no --rate-limit option yet"
    if transport == "udp" and "--transport" not in result.stdout:
        return "`main.py host` has no --transport option yet"
    return None


def our_host(transport: str = "tcp") -> ManagedProcess:
    """Our host with rate limiting off, on a free loopback port (every load client connects
    from 127.0.0.1: no cap on connections per address either)."""
    problem = our_host_problem(transport)
    if problem:
        raise Unavailable(problem)
    port = free_port(socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM)
    argv = [
        sys.executable,
        "main.py",
        "host",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--rate-limit",
        "0",
        "--allow-plaintext",  # the load generators speak the plain protocol
        "--max-per-address",
        "0",
    ]
    if transport != "tcp":
        argv += ["--transport", transport]
    return ManagedProcess(f"lanchat-{transport}", argv, port)


def tutorial_relay() -> ManagedProcess:
    port = free_port()
    return ManagedProcess(
        "tutorial", [sys.executable, "-m", "bench.tutorial_relay", "--port", str(port)], port
    )


# --- Redis ------------------------------------------------------------------------------


def redis_server_path() -> str:
    """The redis-server binary. `make bench` installs it beforehand with the other system
    packages (.ci/ensure_system_deps.sh, the one place that installs them)."""
    found = shutil.which("redis-server")
    if not found:
        raise Unavailable(
            "redis-server is missing: `make bench` installs it when run as root "
            "(.ci/ensure_system_deps.sh), else install the Debian package redis-server"
        )
    return found


def redis_version() -> str:
    result = subprocess.run([redis_server_path(), "--version"], capture_output=True, text=True)
    return result.stdout.split()[2].removeprefix("v=") if result.returncode == 0 else "?"


def redis() -> ManagedProcess:
    """Redis on 127.0.0.1 with persistence off and no pub/sub output-buffer cap (kinder to it)."""
    port = free_port()
    argv = [
        redis_server_path(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--client-output-buffer-limit", "pubsub 0 0 0",
        "--loglevel", "warning",
    ]  # fmt: skip
    return ManagedProcess("redis", argv, port)
