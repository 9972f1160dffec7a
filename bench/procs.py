"""Starting, watching and stopping the relays under test, each as its own process.

Every relay listens on 127.0.0.1 only, on a free port picked here. `ManagedProcess.stats`
reads CPU seconds, RSS, threads and descriptors with psutil, so the host's cost is
measured from outside, the same way for ours, Redis and the tutorial relay.

Our host and Redis over TLS use a throw-away key and certificate: each such process gets a
scratch directory of its own (for our host, its `LANCHAT_CONFIG_DIR`, where it makes its
identity on first start), removed when the process is stopped. The user's own LanChat
configuration is never read or written.
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

from net.paths import CONFIG_DIR_ENV, DATA_DIR_ENV, identity_dir
from net.secure.identity import load_or_create_identity

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

    def __init__(
        self,
        name: str,
        argv: list[str],
        port: int,
        env: dict[str, str] | None = None,
        scratch: Path | None = None,
    ) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.port = port
        self.scratch = scratch  # removed with the process (a throw-away config or key)
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
            return Stats(
                cpu=process_cpu_seconds(self.process),
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
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def process_cpu_seconds(process: psutil.Process) -> float:
    """User + system seconds of every thread of `process` so far.

    On Linux from the process's CPU-time clock (nanoseconds: a fan-out at C = 50 lasts a
    few tenths of a second, and psutil's figures come in 10 ms ticks); elsewhere psutil's.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            # CPUCLOCK_SCHED of the whole process: ((~pid) << 3) | 2 (what clock_getcpuclockid gives)
            return time.clock_gettime(((~process.pid) << 3) | 2)
    cpu = process.cpu_times()
    return cpu.user + cpu.system


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


def scratch_dir(purpose: str) -> Path:
    """A new private temporary directory (the caller removes it)."""
    return Path(tempfile.mkdtemp(prefix=f"lanchat-bench-{purpose}-"))


def our_host_argv(port: int, transport: str = "tcp", *, tls: bool = False, journal: bool = True) -> list[str]:
    """`main.py host` on 127.0.0.1:`port` with rate limiting off. With `tls` it is the host
    as everybody runs it (TLS only, its journal on); without, `--allow-plaintext` lets the
    plain load generators in (it serves TLS too, but they do not use it). Without `journal`
    it keeps the room in memory only (`--no-history`)."""
    argv = [sys.executable, "main.py", "host", "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--rate-limit", "0", "--max-per-address", "0"]  # every load client is on 127.0.0.1
    if not journal:
        argv.append("--no-history")
    if not tls:
        argv.append("--allow-plaintext")
    if transport != "tcp":
        argv += ["--transport", transport]
    return argv


def our_host(transport: str = "tcp", *, tls: bool = False, journal: bool = True) -> ManagedProcess:
    """Our host with rate limiting off, on a free loopback port, with a throw-away identity
    and journal (its own `LANCHAT_CONFIG_DIR` and `LANCHAT_DATA_DIR`)."""
    problem = our_host_problem(transport)
    if problem:
        raise Unavailable(problem)
    port = free_port(socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM)
    config = scratch_dir("config")
    # Made here, as an installation has it after its first start: the host measured then
    # only loads its key (making one is a one-off that imports `cryptography`).
    load_or_create_identity(identity_dir(config))
    name = f"lanchat-{transport}" + ("-tls" if tls else "") + ("" if journal else "-memory")
    env = {CONFIG_DIR_ENV: str(config), DATA_DIR_ENV: str(config / "data")}
    argv = our_host_argv(port, transport, tls=tls, journal=journal)
    return ManagedProcess(name, argv, port, env=env, scratch=config)


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


def redis_argv(server: str, port: int, *, key: Path | None = None, cert: Path | None = None) -> list[str]:
    """Redis on 127.0.0.1 with persistence off and no pub/sub output-buffer cap (kinder to it).

    With `key` and `cert` it serves TLS only on `port` (`--port 0` closes the plain port),
    with that certificate as its own CA too, and asks clients for no certificate (as our
    host does not)."""
    argv = [server]
    if key is not None and cert is not None:
        argv += [
            "--port", "0",
            "--tls-port", str(port),
            "--tls-cert-file", str(cert),
            "--tls-key-file", str(key),
            "--tls-ca-cert-file", str(cert),
            "--tls-auth-clients", "no",
        ]  # fmt: skip
    else:
        argv += ["--port", str(port)]
    argv += [
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--client-output-buffer-limit", "pubsub 0 0 0",
        "--loglevel", "warning",
    ]  # fmt: skip
    return argv


def redis() -> ManagedProcess:
    port = free_port()
    return ManagedProcess("redis", redis_argv(redis_server_path(), port), port)


def redis_tls() -> ManagedProcess:
    """Redis serving TLS only, with a throw-away EC P-256 key and self-signed certificate made
    the way our host makes its own (`load_or_create_identity`)."""
    server = redis_server_path()
    scratch = scratch_dir("redis-tls")
    try:
        identity = load_or_create_identity(scratch / "identity", name="bench-redis")
    except Exception:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    port = free_port()
    argv = redis_argv(server, port, key=identity.key_path, cert=identity.cert_path)
    return ManagedProcess("redis-tls", argv, port, scratch=scratch)
