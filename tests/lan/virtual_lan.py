"""A virtual LAN of network namespaces: separate "PCs" behind one switch, for end-to-end tests.

Loopback tests share one address, one interface list and one port space, and discovery never
really broadcasts there. Here every PC is a network namespace with its own ``eth0`` (one end
of a veth pair), plugged into a bridge that lives in a "switch" namespace. Broadcast and
multicast are real inside this segment and reach nothing outside the machine.

Only processes started in these namespaces (`Pc.run`, `Pc.lanchat`) run without
``LANCHAT_LOOPBACK_ONLY``; the test process itself keeps it and never sends anything to the
LAN. No interface is ever created in the root namespace: both ends of every veth are created
inside namespaces, so deleting the namespaces removes everything.

Names are unique per run (``lct<pid>-<n>-...``) so concurrent test runs never collide, and
every namespace is torn down in every case: `VirtualLan.close` (fixture finalizers), an
`atexit` handler and a SIGTERM/SIGHUP handler for this run's namespaces, and
`remove_stale_namespaces` for those of earlier runs whose process was killed outright.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Every namespace this run creates starts with this; the pid makes it unique per run.
RUN_PREFIX = f"lct{os.getpid()}-"
_NAME_PATTERN = re.compile(r"^lct(\d+)-")
#: Bound on every `ip` command.
IP_COMMAND_TIMEOUT = 10.0
#: Bound on waiting for an interface to be up with a usable IPv6 link-local address.
LINK_READY_TIMEOUT = 10.0
#: Lines of output kept per stream of a process (older lines are dropped, counts stay right).
MAX_KEPT_LINES = 20_000

_lan_numbers = itertools.count(1)
_live_namespaces: set[str] = set()
_live_lock = threading.Lock()


class LanSetupError(RuntimeError):
    """An `ip`/`sysctl` command failed while building or changing the LAN."""


def run_ip(*args: str, check: bool = True) -> str:
    """Run one `ip` command (bounded); its stdout, or LanSetupError with its stderr."""
    command = ["ip", *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=IP_COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise LanSetupError(f"{' '.join(command)} did not finish in {IP_COMMAND_TIMEOUT} s") from None
    if check and result.returncode != 0:
        raise LanSetupError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result.stdout


def list_namespaces() -> list[str]:
    """Names of all named network namespaces on the machine (`ip netns list`)."""
    text = run_ip("-json", "netns", "list").strip()
    return [entry["name"] for entry in json.loads(text)] if text else []


def root_links() -> set[str]:
    """Names of the interfaces in the root namespace (`ip link`), to prove we add none."""
    return {entry["ifname"] for entry in json.loads(run_ip("-json", "link", "show"))}


def _pids_in(netns: str) -> list[int]:
    return [int(word) for word in run_ip("netns", "pids", netns, check=False).split()]


def destroy_namespace(netns: str) -> None:
    """Kill every process inside `netns`, then delete it (idempotent)."""
    deadline = time.monotonic() + 5.0
    while (pids := _pids_in(netns)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    run_ip("netns", "delete", netns, check=False)
    with _live_lock:
        _live_namespaces.discard(netns)


def cleanup_all() -> None:
    """Delete every namespace this run still has (atexit and signal handlers call this)."""
    with _live_lock:
        names = sorted(_live_namespaces)
    for name in names:
        with contextlib.suppress(Exception):
            destroy_namespace(name)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_namespaces() -> list[str]:
    """Namespaces left by runs of this suite whose process is gone (killed with SIGKILL, ...)."""
    stale = []
    for name in list_namespaces():
        match = _NAME_PATTERN.match(name)
        if match and not name.startswith(RUN_PREFIX) and not _pid_alive(int(match.group(1))):
            stale.append(name)
    return stale


def remove_stale_namespaces() -> list[str]:
    names = stale_namespaces()
    for name in names:
        destroy_namespace(name)
    return names


def own_namespaces() -> list[str]:
    return [name for name in list_namespaces() if name.startswith(RUN_PREFIX)]


_handlers_installed = False


def install_emergency_cleanup() -> None:
    """Delete this run's namespaces at exit and on SIGTERM/SIGHUP (where nobody else handles them)."""
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(cleanup_all)

    def on_signal(signum: int, _frame: object) -> None:
        cleanup_all()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, on_signal)


def namespace_support_problem() -> str | None:
    """Why this machine cannot run the virtual LAN, or None when it can (tries a real namespace)."""
    if os.geteuid() != 0:
        return "the virtual LAN needs root (network namespaces): run the tests as root, e.g. `sudo make test`"
    probe = f"{RUN_PREFIX}probe"
    try:
        run_ip("netns", "add", probe)
    except FileNotFoundError:
        return "the virtual LAN needs iproute2 (`ip`), which is not installed"
    except LanSetupError as exc:
        return f"network namespaces are not permitted here: {exc}"
    try:
        run_ip("-n", probe, "link", "add", "vprobe0", "type", "veth", "peer", "name", "vprobe1")
    except LanSetupError as exc:
        return f"veth interfaces cannot be created in a namespace here: {exc}"
    finally:
        run_ip("netns", "delete", probe, check=False)
    return None


# --- processes --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutputLine:
    index: int  # position in the stream, counting from 0
    time: float  # time.monotonic() when it was read
    text: str
    match: re.Match[str] | None = None


Pattern = str | re.Pattern[str]


def _matches(pattern: Pattern, text: str) -> re.Match[str] | bool | None:
    if isinstance(pattern, re.Pattern):
        return pattern.search(text)
    return pattern in text


class _Stream:
    """Lines read from one pipe by a reader thread, with waiting on a condition."""

    def __init__(self, name: str, changed: threading.Condition) -> None:
        self.name = name
        self.lines: list[OutputLine] = []
        self.dropped = 0  # lines dropped from the front to keep memory bounded
        self.closed = False
        self._changed = changed

    @property
    def count(self) -> int:
        return self.dropped + len(self.lines)

    def add(self, text: str) -> None:
        with self._changed:
            self.lines.append(OutputLine(self.count, time.monotonic(), text))
            if len(self.lines) > MAX_KEPT_LINES:
                del self.lines[: len(self.lines) - MAX_KEPT_LINES]
                self.dropped = self.lines[0].index
            self._changed.notify_all()

    def since(self, index: int) -> list[OutputLine]:
        with self._changed:
            return [line for line in self.lines if line.index >= index]


def in_namespace(netns: str, argv: Sequence[str], hostname: str | None = None) -> list[str]:
    """The command running `argv` inside `netns`, with its own computer name when given.

    `ip netns exec` shares the machine's host name; a UTS namespace per process gives each
    PC its own (a window-less host announces the PC's name as its nickname). Every step
    execs the next, so the process id is that of `argv` itself.
    """
    command = ["ip", "netns", "exec", netns]
    if hostname:
        command += ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', hostname]
    return [*command, *argv]


class LanProcess:
    """One process running inside a PC: stdin to feed, stdout/stderr captured line by line.

    It runs in its own session (process group) so that stopping it stops any children too.
    """

    def __init__(
        self, name: str, netns: str, argv: Sequence[str], env: dict[str, str], hostname: str | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        #: How many of the last lines of each stream a transcript shows.
        self.shown_lines = 200
        self._changed = threading.Condition()
        self.stdout = _Stream("stdout", self._changed)
        self.stderr = _Stream("stderr", self._changed)
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            in_namespace(netns, argv, hostname),
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
        self._readers = [
            threading.Thread(
                target=self._read, args=(pipe, stream), name=f"{name}-{stream.name}", daemon=True
            )
            for pipe, stream in ((self.popen.stdout, self.stdout), (self.popen.stderr, self.stderr))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, pipe, stream: _Stream) -> None:
        try:
            for raw in pipe:
                stream.add(raw.rstrip("\r\n"))
        except (OSError, ValueError):
            pass  # the pipe was closed under us at teardown
        finally:
            with self._changed:
                stream.closed = True
                self._changed.notify_all()

    # --- input --------------------------------------------------------------------------

    def send(self, line: str) -> None:
        """Type one line into the process's standard input."""
        assert self.popen.stdin is not None
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def close_stdin(self) -> None:
        if self.popen.stdin is not None and not self.popen.stdin.closed:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()

    # --- output -------------------------------------------------------------------------

    def mark(self, stream: str = "stdout") -> int:
        """The index the next line of `stream` will have: pass it as `after` to `expect`."""
        return self._stream(stream).count

    def lines(self, stream: str = "stdout", after: int = 0) -> list[str]:
        return [line.text for line in self._stream(stream).since(after)]

    def _stream(self, name: str) -> _Stream:
        return self.stdout if name == "stdout" else self.stderr

    def expect(
        self, pattern: Pattern, timeout: float = 10.0, *, after: int = 0, stream: str = "stdout"
    ) -> OutputLine:
        """Wait for the first line (from index `after` on) that contains/matches `pattern`."""
        source = self._stream(stream)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in source.lines:
                    if line.index >= after and (found := _matches(pattern, line.text)):
                        return OutputLine(
                            line.index, line.time, line.text, found if isinstance(found, re.Match) else None
                        )
                remaining = deadline - time.monotonic()
                if source.closed or remaining <= 0:
                    break
                self._changed.wait(min(remaining, 0.5))
        why = "the stream ended" if source.closed else f"timed out after {timeout} s"
        raise AssertionError(
            f"{self.name}: {why} waiting for {pattern!r} on {stream} (from line {after})\n{self.transcript()}"
        )

    def expect_none(self, pattern: Pattern, *, after: int = 0, stream: str = "stdout") -> None:
        found = [line.text for line in self._stream(stream).since(after) if _matches(pattern, line.text)]
        assert not found, f"{self.name}: unexpected {pattern!r}: {found}\n{self.transcript()}"

    def transcript(self) -> str:
        code = self.popen.poll()
        state = "running" if code is None else f"exited with {code}"
        parts = [f"--- {self.name} ({state}): {' '.join(self.argv)}"]
        for stream in (self.stdout, self.stderr):
            lines = stream.since(0)
            parts.append(f"  [{stream.name}, {stream.count} lines]")
            parts.extend(
                f"  {line.time - self.started:7.3f} {line.text}" for line in lines[-self.shown_lines :]
            )
        return "\n".join(parts)

    # --- life ---------------------------------------------------------------------------

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float = 10.0) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit in {timeout} s\n{self.transcript()}") from None

    def signal(self, signum: int) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)

    def stop(self, grace: float = 3.0) -> int:
        """Ask the process to stop (SIGTERM), kill its group after `grace`, join the readers."""
        self.close_stdin()
        if self.popen.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        return self.popen.returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5.0)
        self.close_stdin()
        for reader in self._readers:
            reader.join(5.0)
        for pipe in (self.popen.stdout, self.popen.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


# --- the LAN ----------------------------------------------------------------------------


def lan_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process in a PC: ours without LANCHAT_LOOPBACK_ONLY."""
    env = {key: value for key, value in os.environ.items() if key != "LANCHAT_LOOPBACK_ONLY"}
    env.update(PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra or {})
    return env


@dataclass
class Pc:
    """One computer on the LAN: a namespace with `eth0` plugged into switch port `switch_port`."""

    lan: VirtualLan
    number: int
    netns: str
    ipv4: str
    switch_port: str
    interface: str = "eth0"
    ipv6_link_local: str = ""
    processes: list[LanProcess] = field(default_factory=list)
    #: Adapters plugged into other LANs (`VirtualLan.connect`): interface -> IPv4 address.
    extra_interfaces: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"pc{self.number}"

    @property
    def hostname(self) -> str | None:
        """The computer name its processes see (own UTS namespace), when `unshare` is available."""
        return self.name if shutil.which("unshare") else None

    @property
    def home(self) -> Path:
        """This PC's own folder for LanChat's settings and log files (inside the LAN's temp dir)."""
        return self.lan.workdir / self.name

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a process on this PC: settings and logs of its own, not loopback-only."""
        own = {"LANCHAT_CONFIG_DIR": str(self.home / "config"), "LANCHAT_LOG_DIR": str(self.home / "log")}
        return lan_environment({**own, **(extra or {})})

    def run(
        self, argv: Sequence[str], *, name: str | None = None, env: dict[str, str] | None = None
    ) -> LanProcess:
        """Start `argv` inside this PC (without LANCHAT_LOOPBACK_ONLY); stopped at teardown."""
        label = f"{self.name}:{name or Path(argv[0]).name}"
        process = LanProcess(label, self.netns, argv, self.environment(env), self.hostname)
        self.processes.append(process)
        self.lan.processes.append(process)
        return process

    def lanchat(self, *args: str, name: str | None = None, env: dict[str, str] | None = None) -> LanProcess:
        """Run the real command line, `python main.py ARGS`, from the repository root."""
        return self.run(
            [sys.executable, "main.py", *args], name=name or (args[0] if args else "gui"), env=env
        )

    def check_output(
        self, argv: Sequence[str], timeout: float = 20.0, env: dict[str, str] | None = None
    ) -> str:
        """Run `argv` in this PC to completion; its stdout (AssertionError on failure)."""
        try:
            result = subprocess.run(
                in_namespace(self.netns, argv, self.hostname),
                cwd=REPO_ROOT,
                env=self.environment(env),
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(
                f"{self.name}: {' '.join(argv)} did not finish in {timeout} s: {exc}"
            ) from None
        assert result.returncode == 0, (
            f"{self.name}: {' '.join(argv)} exited with {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
        return result.stdout

    def ip(self, *args: str) -> str:
        return run_ip("-n", self.netns, *args)

    def unplug(self) -> None:
        """Pull the cable: the switch's port goes down, so this PC's eth0 loses its carrier."""
        run_ip("-n", self.lan.switch_netns, "link", "set", self.switch_port, "down")

    def plug(self) -> None:
        """Plug the cable back in and wait until the link (and its IPv6 link-local) works again."""
        run_ip("-n", self.lan.switch_netns, "link", "set", self.switch_port, "up")
        self.wait_link_ready()

    def link_state(self, interface: str | None = None) -> str:
        entry = json.loads(self.ip("-json", "link", "show", "dev", interface or self.interface))[0]
        return entry.get("operstate", "")

    def _usable_link_local(self, interface: str) -> str | None:
        entries = json.loads(self.ip("-json", "-6", "addr", "show", "dev", interface, "scope", "link"))
        for entry in entries:
            for info in entry.get("addr_info", []):
                if info.get("family") == "inet6" and not info.get("tentative") and not info.get("dadfailed"):
                    return info["local"]
        return None

    def wait_link_ready(self, interface: str | None = None, timeout: float = LINK_READY_TIMEOUT) -> None:
        """Wait until `interface` (default eth0) is up with a usable IPv6 link-local address."""
        interface = interface or self.interface
        deadline = time.monotonic() + timeout
        while True:
            address = self._usable_link_local(interface) if self.link_state(interface) == "UP" else None
            if address:
                if interface == self.interface:
                    self.ipv6_link_local = address
                return
            if time.monotonic() > deadline:
                raise LanSetupError(
                    f"{self.name}: {interface} not up with a usable IPv6 link-local address "
                    f"after {timeout} s:\n{self.ip('addr', 'show')}"
                )
            time.sleep(0.02)


class VirtualLan:
    """N PCs on one /24 behind a bridge. Build with `build()`, always `close()` (or use `with`).

    `default_route` gives every PC a default route via a gateway address that nobody answers,
    as on a typical office LAN (a PC without one cannot send to 255.255.255.255).
    """

    def __init__(self, pcs: int = 3, *, default_route: bool = True) -> None:
        if not 1 <= pcs <= 200:
            raise ValueError("a virtual LAN has 1 to 200 PCs")
        number = next(_lan_numbers)
        self.tag = f"{RUN_PREFIX}{number}"
        self.switch_netns = f"{self.tag}-sw"
        # A different private /24 per LAN and run, so that no test can pass by talking to a
        # leftover of another (they are isolated anyway; this makes transcripts unambiguous).
        self.subnet_octet = (os.getpid() + number) % 250 + 1
        self.network = f"10.77.{self.subnet_octet}.0/24"
        self.broadcast = f"10.77.{self.subnet_octet}.255"
        self.gateway = f"10.77.{self.subnet_octet}.254"
        self.default_route = default_route
        self.pc_count = pcs
        self.pcs: list[Pc] = []
        self.processes: list[LanProcess] = []
        self._namespaces: list[str] = []
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.tag}-"))
        self.closed = False

    def __enter__(self) -> VirtualLan:
        return self.build()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __getitem__(self, number: int) -> Pc:
        """PCs are numbered from 1, like their addresses: lan[1] is 10.77.x.1."""
        return self.pcs[number - 1]

    def _add_namespace(self, name: str) -> None:
        with _live_lock:
            _live_namespaces.add(name)
        self._namespaces.append(name)
        run_ip("netns", "add", name)
        run_ip("-n", name, "link", "set", "lo", "up")

    def _sysctl(self, netns: str, *settings: str) -> None:
        command = ["ip", "netns", "exec", netns, "sysctl", "-q", "-w", *settings]
        result = subprocess.run(command, capture_output=True, text=True, timeout=IP_COMMAND_TIMEOUT)
        if result.returncode != 0:
            raise LanSetupError(f"{' '.join(command)} failed: {result.stderr.strip()}")

    def build(self) -> VirtualLan:
        self._add_namespace(self.switch_netns)
        # The switch is not a host: no IPv6 on it (no router solicitations or MLD of its own).
        self._sysctl(
            self.switch_netns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"
        )
        # A plain unmanaged switch: it floods multicast rather than snooping group membership.
        run_ip("-n", self.switch_netns, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        run_ip("-n", self.switch_netns, "link", "set", "br0", "up")
        for number in range(1, self.pc_count + 1):
            self.pcs.append(self._add_pc(number))
        for pc in self.pcs:
            pc.wait_link_ready()
        return self

    def _add_pc(self, number: int) -> Pc:
        netns = f"{self.tag}-pc{number}"
        pc = Pc(self, number, netns, ipv4=f"10.77.{self.subnet_octet}.{number}", switch_port=f"port{number}")
        self._add_namespace(netns)
        # No duplicate address detection: link-local addresses are usable as soon as the link is up.
        self._sysctl(netns, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
        run_ip("-n", netns, "link", "add", pc.interface, "type", "veth", "peer", "name", pc.switch_port,
               "netns", self.switch_netns)  # fmt: skip
        self._sysctl(netns, f"net.ipv6.conf.{pc.interface}.accept_dad=0")
        run_ip("-n", self.switch_netns, "link", "set", pc.switch_port, "master", "br0", "up")
        run_ip("-n", netns, "addr", "add", f"{pc.ipv4}/24", "brd", "+", "dev", pc.interface)
        run_ip("-n", netns, "link", "set", pc.interface, "up")
        if self.default_route:
            run_ip("-n", netns, "route", "add", "default", "via", self.gateway)
        return pc

    def connect(self, pc: Pc, number: int) -> str:
        """Plug a second adapter of `pc` (a PC of another LAN) into this LAN's switch.

        The PC gets interface ``ethN`` with address 10.77.<this LAN>.`number`/24 and no extra
        default route (it keeps its first LAN's): a laptop with both Wi-Fi and Ethernet, or
        a PC in two networks. Returns the new address.
        """
        interface = f"eth{1 + len(pc.extra_interfaces)}"
        port = f"ext{number}"
        address = f"10.77.{self.subnet_octet}.{number}"
        run_ip("-n", pc.netns, "link", "add", interface, "type", "veth", "peer", "name", port,
               "netns", self.switch_netns)  # fmt: skip
        self._sysctl(pc.netns, f"net.ipv6.conf.{interface}.accept_dad=0")
        run_ip("-n", self.switch_netns, "link", "set", port, "master", "br0", "up")
        run_ip("-n", pc.netns, "addr", "add", f"{address}/24", "brd", "+", "dev", interface)
        run_ip("-n", pc.netns, "link", "set", interface, "up")
        pc.extra_interfaces[interface] = address
        pc.wait_link_ready(interface)
        return address

    def transcripts(self) -> str:
        return "\n".join(process.transcript() for process in self.processes)

    def stop_processes(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(Exception):
                process.stop(grace=1.0)

    def close(self) -> None:
        """Stop every process, delete every namespace (safe to call twice and after a failed build)."""
        if self.closed:
            return
        self.closed = True
        self.stop_processes()
        for name in reversed(self._namespaces):
            destroy_namespace(name)
        shutil.rmtree(self.workdir, ignore_errors=True)
