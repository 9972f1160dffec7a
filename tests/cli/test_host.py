"""`main.py host` as a real process: serves clients, stops on signals, explains bind failures."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import main
from cli import host as cli_host
from net.protocol import events as ev
from tests.tcp.rawclient import RawClient

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class HostProcess:
    """`main.py host ...` with its output lines collected by a helper thread."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "LANCHAT_LOOPBACK_ONLY": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "main.py", "host", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for_line(self, pattern: str, timeout: float = 20.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.stdout:
                if found := re.search(pattern, line):
                    return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern!r} in {self.stdout}")
            try:
                self.stdout.append(self.lines.get(timeout=min(remaining, 0.5)))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    raise AssertionError(
                        f"host exited ({self.proc.returncode}) before {pattern!r}: {self.proc.stderr.read()}"
                    ) from None

    def finish(self, timeout: float = 20.0) -> tuple[int, str]:
        """Exit status and standard error once the process has ended."""
        status = self.proc.wait(timeout)
        self._reader.join(timeout)
        while not self.lines.empty():
            self.stdout.append(self.lines.get())
        return status, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._reader.join(10)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def run_host():
    processes: list[HostProcess] = []

    def start(*args: str) -> HostProcess:
        process = HostProcess(*args)
        processes.append(process)
        return process

    try:
        yield start
    finally:
        for process in processes:
            process.kill()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_host_serves_clients_and_stops_cleanly_on_a_signal(run_host, stop_signal) -> None:
    host = run_host("--port", "0", "--bind", "127.0.0.1", "--name", "测试室", "--rate-limit", "0",
                    "--heartbeat-timeout", "9", "--history", "5", "--allow-plaintext")  # fmt: skip
    port = int(host.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    alice, bob = RawClient(port), RawClient(port)
    try:
        welcome = alice.join("alice")
        assert (welcome.room, welcome.rate, welcome.heartbeat) == ("测试室", None, 3.0)
        bob.join("bob")
        alice.say("你好 bob")
        assert bob.wait_for(lambda e: isinstance(e, ev.ChatMessage)).text == "你好 bob"
        host.wait_for_line(r"bob joined from 127\.0\.0\.1:\d+")

        host.proc.send_signal(stop_signal)
        status, stderr = host.finish()
        alice.wait_closed()
        assert ev.Bye(reason="the host was shut down", cause="stopped") in alice.events
    finally:
        alice.close()
        bob.close()
    assert status == 0, stderr
    assert "Traceback" not in stderr
    host.wait_for_line(r"host stopped")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_as_soon_as_the_host_listens_still_stops_it_cleanly(run_host, stop_signal) -> None:
    """Clients may join once it listens: the signal handlers must be in place by then."""
    host = run_host("--port", "0", "--bind", "127.0.0.1")
    host.wait_for_line(r"listening on 127\.0\.0\.1:\d+")
    host.proc.send_signal(stop_signal)
    status, stderr = host.finish()
    assert status == 0, f"exit status {status}: {stderr}"
    assert "Traceback" not in stderr
    host.wait_for_line(r"host stopped: the host was shut down")


def test_port_in_use_is_one_clear_line_and_a_failure_status(run_host) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        host = run_host("--port", str(port), "--bind", "127.0.0.1")
        status, stderr = host.finish()
    assert status == 2
    assert stderr.strip().count("\n") == 0, stderr
    assert f"Port {port} is already in use" in stderr


def test_invalid_port_is_refused_by_the_argument_parser(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main.main(["host", "--port", "70000"])
    assert exit_info.value.code == 2
    assert "65535" in capsys.readouterr().err


def test_missing_transport_is_one_clear_line(monkeypatch, capsys) -> None:
    def no_udp(transport, config, on_event=None):
        raise ModuleNotFoundError("No module named 'net.udp.host'", name="net.udp.host")

    monkeypatch.setattr(cli_host, "make_host", no_udp)
    args = main.build_parser().parse_args(
        ["host", "--transport", "udp", "--port", "0", "--bind", "127.0.0.1"]
    )
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.strip() == "lanchat host: the UDP transport is not available yet (net.udp.host is missing)."


def test_options_become_the_host_configuration() -> None:
    args = main.build_parser().parse_args(
        [
            "host",
            "--port",
            "5000",
            "--bind",
            "::1",
            "--name",
            "x" * 60,
            "--rate-limit",
            "0",
            "--heartbeat-timeout",
            "12.5",
            "--history",
            "7",
            "--max-per-address",
            "5",
            "--per-address-rate",
            "2.5",
        ]
    )
    config = cli_host.build_config(args)
    assert (config.port, config.bind, config.heartbeat_timeout) == (5000, "::1", 12.5)
    assert (config.room.name, config.room.rate_per_second, config.room.history_size) == ("x" * 48, 0, 7)
    assert (config.max_connections_per_address, config.room.address_rate_multiple) == (5, 2.5)
    defaults = cli_host.build_config(main.build_parser().parse_args(["host"]))
    assert defaults.port == 47800 and defaults.bind == "" and defaults.room.rate_per_second == 20
    assert (defaults.max_connections_per_address, defaults.room.address_rate_multiple) == (32, 4.0)


def test_a_password_protected_encrypted_room_from_the_command_line(run_host) -> None:
    """Finding 8: `main.py host --password`; the password travels only inside TLS and the
    host's output never shows it; the room code is printed for members to check."""
    from net.api import ClientConfig, ClientState, FailureKind
    from net.paths import identity_dir
    from net.secure.identity import load_or_create_identity
    from net.transports import make_client
    from tests.helpers import wait_until

    secret = "芝麻开门-42"
    host = run_host("--port", "0", "--bind", "127.0.0.1", "--password", secret)
    port = int(host.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    code = host.wait_for_line(r"Room code ([0-9A-F-]{24})").group(1)
    assert code == load_or_create_identity(identity_dir()).code  # the one this computer shows elsewhere
    outcomes = {}
    for label, password in (("none", None), ("wrong", "sesame"), ("right", secret)):
        events: list[object] = []
        client = make_client(
            "tcp",
            ClientConfig(host="127.0.0.1", port=port, nick=label, password=password, expected_code=code),
            events.append,
        )
        client.start()
        try:
            wait_until(
                lambda c=client, seen=events: (
                    c.state is ClientState.CONNECTED
                    or any(getattr(e, "state", None) is ClientState.DISCONNECTED for e in seen)
                ),
                message=f"{label}: joined or refused",
            )
            outcomes[label] = client.state is ClientState.CONNECTED or next(
                e.failure for e in events if getattr(e, "state", None) is ClientState.DISCONNECTED
            )
        finally:
            client.close()
    assert outcomes == {"none": FailureKind.PASSWORD, "wrong": FailureKind.PASSWORD, "right": True}
    host.proc.send_signal(signal.SIGTERM)
    _status, stderr = host.finish()
    assert secret not in "\n".join(host.stdout) + stderr


def test_the_limits_per_address_can_be_switched_off_but_not_made_negative(capsys) -> None:
    off = main.build_parser().parse_args(["host", "--max-per-address", "0", "--per-address-rate", "0"])
    config = cli_host.build_config(off)
    assert (config.max_connections_per_address, config.room.address_rate_multiple) == (0, 0.0)
    for option, value in (
        ("--max-per-address", "-1"),
        ("--max-per-address", "2.5"),
        ("--per-address-rate", "-1"),
    ):
        with pytest.raises(SystemExit):
            main.build_parser().parse_args(["host", option, value])
        err = capsys.readouterr().err
        assert "must be 0 or more" in err or "is not a number" in err, err


def _invites(host: HostProcess) -> tuple[str, list[str]]:
    """The room code and the invites `main.py host` printed on start (all before its Ctrl+C line)."""
    code = host.wait_for_line(r"Room code ([0-9A-F-]{24})").group(1)
    host.wait_for_line(r"Press Ctrl\+C")
    return code, [found[1] for line in host.stdout if (found := re.search(r"\s(lanchat://\S+)$", line))]


def test_the_host_prints_the_invites_the_window_shows(run_host) -> None:
    """Issue 15, 16: the addresses to share, as the window's "Invite others" panel lists them."""
    from gui.app import invitation
    from net.api import Transport

    host = run_host("--port", "0")  # every interface, as people run it; nothing is sent anywhere
    port = int(host.wait_for_line(r"listening on \S+:(\d+)").group(1))
    code, printed = _invites(host)
    assert printed, host.stdout
    assert printed == list(invitation(port, Transport.TCP, code, plaintext_allowed=False).links)


def test_a_host_bound_to_one_address_shares_that_address(run_host) -> None:
    host = run_host("--port", "0", "--bind", "127.0.0.1", "--transport", "udp")
    port = int(host.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    code, printed = _invites(host)
    assert printed == [f"lanchat://127.0.0.1:{port}/udp#{code}"]


def test_a_taken_default_port_is_said_before_the_host_listens_on_the_next(run_host) -> None:
    """Issue 15, 16: "listening on 47801" came before "port 47800 is taken ... 47801"."""
    holder = socket.socket()
    try:
        _hold_the_default_port(holder)
        host = run_host("--bind", "127.0.0.1")
        listening = host.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)")
        moved = host.wait_for_line(r"port 47800 is taken on this PC; hosting on port (\d+) instead")
        assert moved[1] == listening[1] != "47800"
        lines = host.stdout
        first_moved = next(i for i, line in enumerate(lines) if "port 47800 is taken" in line)
        first_listening = next(i for i, line in enumerate(lines) if "listening on" in line)
        assert first_moved < first_listening, lines
        host.proc.send_signal(signal.SIGTERM)
        assert host.finish()[0] == 0
    finally:
        holder.close()


def _hold_the_default_port(holder: socket.socket) -> None:
    """Listen on 127.0.0.1:47800, so that it is taken for sure. Another program (a test run
    beside this one) may hold it for a moment: try again for a while; one that holds it all
    that time is a lasting host, and the port is taken anyway."""
    from tests.helpers import wait_until

    def bound() -> bool:
        try:
            holder.bind(("127.0.0.1", 47800))
        except OSError:
            return False
        holder.listen()
        return True

    with contextlib.suppress(AssertionError):
        wait_until(bound, timeout=5, interval=0.05, message="port 47800 held here")


def test_a_backbone_that_could_never_connect_is_refused_by_the_argument_parser(capsys) -> None:
    args = main.build_parser().parse_args(["host", "--backbone", "10.0.1.5:4222 tls://n2:4443"])
    assert cli_host.build_config(args).backbone.servers == ("nats://10.0.1.5:4222", "tls://n2:4443")
    with pytest.raises(SystemExit):
        main.build_parser().parse_args(["host", "--backbone", "http://10.0.1.5:4222"])
    assert "not a NATS server address: 'http://10.0.1.5:4222'" in capsys.readouterr().err
