"""Issue 15, 3: every command README.md gives a newcomer runs as written after `make run`.

Which commands (README, "The two commands"): each line of an ```sh block (without its
``# comment``), and each inline code span of two words or more whose first word is one of
COMMAND_WORDS (a one-word span such as `nc` names a program). HOW says how this test runs
each of them; a README command HOW does not know fails `test_every_readme_command_is_known`,
and so does one HOW knows that the README lost: none is skipped unnoticed. The few HOW does
not run are `NotRun` entries, reported as skipped with their reason.

"As written" means the README's words, run by ``sh -c`` in this checkout with `python3` on
the PATH being the Python that made `.venv` (a newcomer's, without the packages: `make run`
put those in `.venv`), and placeholders (HOST, NAME, [options], ...) filled in from
PLACEHOLDERS; one it does not know fails. The network rule adds what keeps everything on
loopback: hosts listen on 127.0.0.1, port 0, and are stopped; discovery probes loopback
only. `make` lines are dry runs (`make -n`: `make test` alone runs for minutes), and tools
that would change files or need a build first run with `--help` or `--collect-only`.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMAND_WORDS = ("python", "python3", "make", ".venv/bin/python", "nc", "openssl", "sudo")
_FENCE = re.compile(r"^[ \t]*```([^\n]*)\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
#: What the README's placeholders stand for here ({port}: a host this test started).
PLACEHOLDERS = {
    "HOST[:PORT]": "127.0.0.1:{port}",
    "HOST:47800": "127.0.0.1:{port}",
    "HOST 47800": "127.0.0.1 {port}",
    "NAME": "newcomer",
    "[options]": "--port 0 --bind 127.0.0.1",
    "[--transport tcp|udp]": "--transport tcp",
    "[--timeout S]": "--timeout 1",
    "[--probe ADDR ...]": "--probe 127.0.0.1",
    "[--port P]": "--port 47800",  # doctor only tries to open it
    "WORDS": "你好",
    "CONVERSATION": "Lunch",
}
LOOPBACK_HOST = "--port 0 --bind 127.0.0.1"
TIMEOUT = 60.0


def readme_commands(text: str = README) -> list[str]:
    """The commands README.md gives (see the module docstring), in order, once each."""
    found = []
    for info, body in _FENCE.findall(text):
        if info.strip() == "sh":
            for line in body.splitlines():
                command = line.split(" #", 1)[0].strip()
                if command and not command.startswith("#"):
                    found.append(command)
    for span in re.findall(r"`([^`]+)`", _FENCE.sub("", text)):
        words = span.replace("\\|", "|").split()  # `\|` is a `|` inside a table
        if len(words) > 1 and words[0] in COMMAND_WORDS:
            found.append(" ".join(words))
    return list(dict.fromkeys(found))


def fill(command: str, **values: object) -> str:
    """`command` with its placeholders filled in; fails on one PLACEHOLDERS does not know."""
    for placeholder, value in PLACEHOLDERS.items():
        command = command.replace(placeholder, value)
    command = command.format(**values)
    unknown = [w for w in command.split() if re.fullmatch(r"[A-Z][A-Z_:\[\]]+|\[.*", w)]
    assert not unknown, f"placeholders this test does not know in {command!r}: {unknown}"
    return command


# -- running commands as a newcomer would ---------------------------------------------------------


@pytest.fixture(scope="module")
def newcomer_env(tmp_path_factory) -> dict[str, str]:
    """The environment of someone who ran `make run`: their `python3` (the one that made
    `.venv`) on the PATH, nothing of this test's virtual environment."""
    base = Path(getattr(sys, "_base_executable", sys.executable))
    bin_dir = tmp_path_factory.mktemp("newcomer-bin")
    (bin_dir / "python3").symlink_to(base)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.pop("LANCHAT_VENV_SWITCHED", None)
    venv_bin = str(Path(sys.prefix) / "bin")
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != Path(venv_bin)]
    env.update(PATH=os.pathsep.join([str(bin_dir), *path]), LANCHAT_LOOPBACK_ONLY="1", PYTHONUNBUFFERED="1")
    return env


class Shell:
    """`sh -c COMMAND` in the checkout, its output lines collected; stopped at the end."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.command = command
        self.proc = subprocess.Popen(
            ["sh", "-c", command],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # signals reach the whole command, whatever sh started
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))

    def _take(self, timeout: float) -> None:
        try:
            self.lines.append(self._queue.get(timeout=timeout))
        except queue.Empty:
            pass

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        checked = 0
        while True:
            for line in self.lines[checked:]:
                if found := re.search(pattern, line):
                    return found
            checked = len(self.lines)
            if time.monotonic() > deadline or (self.proc.poll() is not None and self._queue.empty()):
                raise AssertionError(f"{self.command!r}: no line matching {pattern!r} in {self.lines}")
            self._take(0.1)

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def end_input(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def signal(self, signum: int) -> None:
        os.killpg(self.proc.pid, signum)

    def finish(self, timeout: float = TIMEOUT) -> int:
        """The exit status, once it ended by itself; every line of output collected."""
        status = self.proc.wait(timeout)
        self._reader.join(timeout)
        while not self._queue.empty():
            self.lines.append(self._queue.get())
        output = "\n".join(self.lines)
        assert "Traceback" not in output and "ModuleNotFoundError" not in output, output
        return status

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._reader.join(10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def shell(newcomer_env):
    started: list[Shell] = []

    def run(command: str) -> Shell:
        process = Shell(command, newcomer_env)
        started.append(process)
        return process

    try:
        yield run
    finally:
        for process in reversed(started):
            process.stop()


def start_host(shell, *options: str) -> int:
    """A host on loopback (as the README's own `python3 main.py host`, port 0): its port."""
    host = shell(" ".join(["exec python3 main.py host", LOOPBACK_HOST, *options]))
    return int(host.wait_for(r"listening on 127\.0\.0\.1:(\d+)")[1])


# -- how each kind of command is run ----------------------------------------------------------------


@dataclass(frozen=True)
class Prints:
    """Run it; it ends with `status` and prints a line matching `pattern`."""

    pattern: str
    add: str = ""  # options added (`--help` of a tool that would change files)
    status: tuple[int, ...] = (0,)

    def run(self, command: str, shell) -> None:
        process = shell(fill(command) + (f" {self.add}" if self.add else ""))
        assert process.finish() in self.status, process.lines
        process.wait_for(self.pattern, timeout=0)


@dataclass(frozen=True)
class Hosts:
    """A host: on loopback (port 0, added unless [options] says so); it prints its invites and
    stops with status 0 on Ctrl+C."""

    def run(self, command: str, shell) -> None:
        filled = fill(command)
        # `exec`: Ctrl+C reaches the host itself, not a shell waiting for it.
        host = shell("exec " + (filled if "[options]" in command else f"{filled} {LOOPBACK_HOST}"))
        port = host.wait_for(r"listening on 127\.0\.0\.1:(\d+)")[1]
        host.wait_for(rf"lanchat://127\.0\.0\.1:{port}#[0-9A-F-]{{24}}")
        host.wait_for(r"Press Ctrl\+C")
        host.signal(signal.SIGINT)
        assert host.finish() == 0, host.lines


@dataclass(frozen=True)
class Joins:
    """`main.py join` to a host this test started: it chats, and leaves at end of input."""

    def run(self, command: str, shell) -> None:
        port = start_host(shell)
        member = shell(fill(command, port=port))
        member.wait_for(r"Welcome to .+, newcomer!")
        member.type("hello from the README\n")
        member.end_input()
        assert member.finish() == 0, member.lines


@dataclass(frozen=True)
class TypesInto:
    """`nc` or `openssl s_client` to a host this test started (serving plain text when
    `plaintext`): asked for a nickname (`nc` only), welcomed, and let go on `/quit`."""

    plaintext: bool

    def run(self, command: str, shell) -> None:
        program = command.split()[0]
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed here (.ci/ensure_system_deps.sh installs it)")
        port = start_host(shell, *(["--allow-plaintext"] if self.plaintext else []))
        person = shell(fill(command, port=port))
        if self.plaintext:
            person.wait_for(r"^LanChat: type your nickname and press Enter to join\.$")
        person.type("newcomer\n")
        person.wait_for(r"^Welcome to .+, newcomer!")
        person.type("/quit\n")
        person.wait_for(r"^Goodbye")
        person.end_input()
        person.finish()  # nc and s_client end when the host closes


@dataclass(frozen=True)
class Discovers:
    """`discover`: its probes go to loopback here (extra targets on the LAN are replaced)."""

    def run(self, command: str, shell) -> None:
        loopback = re.sub(r"--probe \S+", "--probe 127.0.0.1", fill(command))
        process = shell(loopback)
        assert process.finish() in (0, 1), process.lines  # 1: nothing found
        # Any room on this machine's loopback may answer (another test's host): a listed
        # room ("NAME  ADDRESS  tcp  N members ...") is as good an answer as none found.
        process.wait_for(r"LanChat|no chat|nothing|found|\d+ members?", timeout=0)


@dataclass(frozen=True)
class ReadsHistory:
    """`history ...` on a history database this test made (LANCHAT_DATA_DIR): one message in
    the room "Lunch"; it prints a line matching `pattern` (FILE: a file in a temporary folder)."""

    pattern: str

    def run(self, command: str, shell) -> None:
        import tempfile

        from history import store
        from history.database import HistoryDatabase
        from history.writer import HistoryWriter

        with tempfile.TemporaryDirectory() as folder:
            database = HistoryDatabase.open(Path(folder) / "history.sqlite3")
            writer = HistoryWriter(database)
            writer.start()
            said = store.NewMessage("room:AAAA", "Lunch", "m1", 1000.0, "ann", "大家你好，午饭吗")
            seq = writer.append(said)
            assert seq is not None and writer.wait_durable(seq, 10)
            writer.stop()
            database.close()
            filled = fill(command.replace("FILE", str(Path(folder) / "lunch.html")))
            process = shell(f"LANCHAT_DATA_DIR={folder} {filled}")
            assert process.finish() == 0, process.lines
            process.wait_for(self.pattern, timeout=0)


@dataclass(frozen=True)
class DryRun:
    """A `make` line: `make -n` (what it would run), which needs every target to exist."""

    def run(self, command: str, shell) -> None:
        process = shell(re.sub(r"(^|&& )make ", r"\1make -n ", fill(command)))
        assert process.finish() == 0, process.lines


@dataclass(frozen=True)
class NotRun:
    """Not run by this test, for `reason`."""

    reason: str

    def run(self, command: str, shell) -> None:
        pytest.skip(self.reason)


HOW = {
    # The two commands, and the other make targets.
    "make run": DryRun(),
    "make test": DryRun(),
    "make build": DryRun(),
    "make build LANCHAT_BUILD=onefile": DryRun(),
    "make bench": DryRun(),
    'make bench ARGS="--quick"': DryRun(),
    'make bench ARGS="--workloads fanout --sizes 50 --relays native-tls,redis-tls"': DryRun(),
    'make bench ARGS="--workloads join,steady --relays native,native-tls,redis-tls"': DryRun(),
    'make bench ARGS="--workloads history"': DryRun(),
    'make bench ARGS="--workloads handover"': DryRun(),
    'make bench ARGS="--no-fail"': DryRun(),
    'make bench ARGS="--help"': DryRun(),
    "make build && make bench": DryRun(),
    'make bench ARGS="--workloads steady --relays native-tls,redis-tls,native,redis --steady-repeat 1"': (
        DryRun()
    ),
    "make lint": DryRun(),
    # main.py
    "python3 main.py": Prints(r"^usage: LanChat", add="--help"),  # the window: tests/gui, tests/build
    "python3 main.py --version": Prints(r"^LanChat \d+\.\d+"),
    "python3 main.py host": Hosts(),
    "python3 main.py host [options]": Hosts(),
    "python3 main.py host --allow-plaintext": Hosts(),
    "python3 main.py join HOST[:PORT] --nick NAME [--transport tcp|udp]": Joins(),
    "python3 main.py discover": Discovers(),
    "python3 main.py discover [--timeout S] [--probe ADDR ...]": Discovers(),
    "python3 main.py discover --timeout 5 --probe 192.168.5.20 --probe 10.0.7.0/24": Discovers(),
    "python3 main.py doctor": Prints(r"Addresses to share", status=(0, 1)),
    "python3 main.py doctor [--port P]": Prints(r"Addresses to share", status=(0, 1)),
    "python3 main.py history search WORDS": ReadsHistory(r"\[Lunch\]  ann: 大家你好，午饭吗$"),
    "python3 main.py history list": ReadsHistory(r"Lunch  \(1\)  room:AAAA$"),
    "python3 main.py history export CONVERSATION --html -o FILE": ReadsHistory(r"^1 messages written to "),
    # Joining without LanChat.
    "nc HOST 47800": TypesInto(plaintext=True),
    "openssl s_client -quiet -connect HOST:47800": TypesInto(plaintext=False),
    # Developers' tools in .venv (they would change files, or need a build first).
    ".venv/bin/python assets/locale/update_catalogs.py": Prints(r"usage:", add="--help"),
    ".venv/bin/python -m ruff format .": Prints(
        r"files? already formatted", add="--check"
    ),  # changes no file
    ".venv/bin/python -m bench.startup dist/LanChat dist/LanChat-onedir/LanChat": Prints(
        r"usage:", add="--help"
    ),
    ".venv/bin/python -m bench.interleaved --relays native-tls,redis-tls": Prints(r"usage:", add="--help"),
    ".venv/bin/python -m bench.interleaved": Prints(r"usage:", add="--help"),
    ".venv/bin/python -m bench.emoji_insert": Prints(r"^1000 lines, 0 emoji each"),  # about 15 s, on Xvfb
    ".venv/bin/python -m pytest tests/protocol -q": Prints(r"^tests/protocol/\S+: \d+", add="--collect-only"),
    ".venv/bin/python -m pytest -m build": Prints(r"^tests/build/\S+: \d+", add="--collect-only -q"),
    # Not for this machine.
    "sudo apt-get install fonts-wqy-microhei": NotRun("installs a system package (a CJK font)"),
    "sudo apt-get install nats-server": NotRun("installs a system package (tests/backbone start its nodes)"),
    "python3.11 -m venv .venv && .venv/bin/python -m pip install -r requirements-dev.txt": NotRun(
        "macOS set-up of the build (on Linux `make build` makes the same venv, dry-run above)"
    ),
    ".venv/bin/python -m PyInstaller --noconfirm --clean build.spec": NotRun(
        "the build itself (tests/build builds both executables)"
    ),
}


def test_every_readme_command_is_known() -> None:
    commands = readme_commands()
    assert len(commands) >= 25, commands
    unknown = [command for command in commands if command not in HOW]
    assert not unknown, f"README commands this test does not know how to run (add them to HOW): {unknown}"
    gone = [command for command in HOW if command not in commands]
    assert not gone, f"commands HOW knows that the README no longer gives: {gone}"


def test_the_scan_finds_commands_in_blocks_tables_and_prose() -> None:
    text = (
        "Run `python3 main.py host --port 1` or `nc`.\n\n| `make lint` | x |\n\n"
        "```sh\nmake run   # start\n```\n\n  ```powershell\n  py main.py\n  ```\n"
        "A span over lines: `.venv/bin/python -m\n  pytest -q`, and `python3 main.py join H --x a\\|b`.\n"
    )
    assert readme_commands(text) == [
        "make run",
        "python3 main.py host --port 1",
        "make lint",
        ".venv/bin/python -m pytest -q",
        "python3 main.py join H --x a|b",
    ]
    with pytest.raises(AssertionError, match="placeholders"):
        fill("python3 main.py join SOMEWHERE")


@pytest.mark.parametrize("command", list(HOW))
def test_the_readme_command_runs_as_written(command: str, shell) -> None:
    HOW[command].run(command, shell)
