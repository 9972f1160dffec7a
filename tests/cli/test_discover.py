"""`main.py discover` and `main.py doctor` as a user runs them (subprocesses, loopback only)."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cli import discover as discover_cli
from net.api import Transport
from net.discovery.wire import PROBE_PORTS
from net.ports import next_free_port
from net.secure.codes import room_code
from tests.discovery.conftest import Discovery

ROOT = Path(__file__).resolve().parents[2]


def run_main(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
    env = {**os.environ, "LANCHAT_LOOPBACK_ONLY": "1"}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def test_discover_lists_a_tcp_and_a_udp_host(discovery: Discovery) -> None:
    # In the default port range, where `--probe 127.0.0.1` looks (other LanChat hosts on this
    # PC may hold the first ports: these take the next free ones, as a second user's host would).
    tcp_port = next_free_port("tcp", PROBE_PORTS[0])
    udp_port = next_free_port("udp", tcp_port + 1)
    assert udp_port <= PROBE_PORTS[-1]
    lobby = discovery.room("CLI Lobby", Transport.TCP, tcp_port, members=2)
    attic = discovery.room("CLI Attic", Transport.UDP, udp_port, members=1)
    discovery.announcer(lobby)
    discovery.announcer(attic, respond=False)
    result = run_main("discover", "--timeout", "1", "--probe", "127.0.0.1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    lobby_code, attic_code = room_code(lobby["key"]), room_code(attic["key"])
    assert f"CLI Lobby  127.0.0.1:{tcp_port}  tcp  2 members  host nick-CLI Lobby  code {lobby_code}" in lines
    assert f"CLI Attic  127.0.0.1:{udp_port}  udp  1 member  host nick-CLI Attic  code {attic_code}" in lines


def test_two_rooms_of_one_name_are_listed_as_two_with_their_codes(discovery: Discovery) -> None:
    """Issue 14: same name, same host nickname, two keys (two installations) on this PC."""
    first = next_free_port("tcp", PROBE_PORTS[0])
    second = next_free_port("tcp", first + 1)
    assert second <= PROBE_PORTS[-1]
    rooms = [discovery.room("Twins", Transport.TCP, port) for port in (first, second)]
    for fields in rooms:
        fields["nick"] = "alice"
        discovery.announcer(fields)
    result = run_main("discover", "--timeout", "1", "--probe", "127.0.0.1")
    assert result.returncode == 0, result.stderr
    twins = [line for line in result.stdout.splitlines() if line.startswith("Twins  ")]
    assert sorted(twins) == sorted(
        f"Twins  127.0.0.1:{fields['port']}  tcp  0 members  host alice  code {room_code(fields['key'])}"
        for fields in rooms
    )
    result = run_main("doctor", "--port", str(first), "--timeout", "1")
    assert result.returncode == 0, result.stderr
    for fields in rooms:
        assert f"found: Twins  127.0.0.1:{fields['port']}  tcp" in result.stdout
        assert f"code {room_code(fields['key'])}" in result.stdout


def test_doctor_names_a_port_held_by_a_chat_hosted_here(discovery: Discovery) -> None:
    port = next_free_port("tcp", PROBE_PORTS[0])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("", port))  # the chat's own listener, as a TCP host holds it
        listener.listen()
        den = discovery.room("CLI Den", Transport.TCP, port)
        discovery.announcer(den)
        result = run_main("doctor", "--port", str(port), "--timeout", "1")
    assert result.returncode == 0, result.stderr
    code = room_code(den["key"])
    assert f"Port {port}: TCP in use by LanChat (“CLI Den”, code {code}, hosted here)," in result.stdout
    assert "another program" not in result.stdout.split(f"Port {port}:", 1)[1].splitlines()[0]


def test_discover_refuses_lan_targets_in_loopback_mode() -> None:
    result = run_main("discover", "--timeout", "0.2", "--probe", "192.168.1.7")
    assert result.returncode == 2
    assert "LANCHAT_LOOPBACK_ONLY" in result.stderr and "192.168.1.7" in result.stderr
    result = run_main("discover", "--probe", "999.1.1.1:5")
    assert result.returncode == 2


def test_discover_explains_when_nothing_is_found(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(discover_cli, "discover", lambda timeout, targets: [])
    args = argparse.Namespace(timeout=0.5, probe=["127.0.0.1:47805"])
    assert discover_cli.run(args) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "No chats found within 0.5 s" in captured.err
    assert "firewall" in captured.err and "LANCHAT_LOOPBACK_ONLY" in captured.err


def test_discover_rejects_a_silly_timeout(capsys) -> None:
    assert discover_cli.run(argparse.Namespace(timeout=0.0, probe=[])) == 2
    assert "--timeout" in capsys.readouterr().err


def test_probe_targets_resolve_host_names() -> None:
    targets = discover_cli.resolve_probe_targets(["localhost:47803"])
    assert targets and all(t.is_loopback and t.ports == (47803,) for t in targets)


def test_doctor_prints_interfaces_addresses_port_check_and_probe(discovery: Discovery) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_main("doctor", "--port", str(port), "--timeout", "0.3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Interfaces:" in out
    assert "lo (up, loopback)" in out or "loopback" in out
    assert "IPv4 127.0.0.1/8  netmask 255.0.0.0" in out
    assert "Addresses to share" in out
    assert f"Port {port}: TCP in use by another program, UDP free" in out
    assert "a TCP host started without --port would take port" in out
    assert f"a UDP host can use port {port}" in out
    assert "Discovery searches: loopback only" in out
    assert "Probed 127.0.0.1, ::1 on ports" in out
    assert "255.255.255.255" not in out.split("Probed", 1)[1].splitlines()[0]
    pillow = f"Pillow {importlib.metadata.version('pillow')}"
    assert out.rstrip().endswith(f"Pictures: thumbnails for PNG, JPEG, GIF, WEBP, BMP ({pillow})")


def test_doctor_says_which_pictures_get_no_thumbnail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A format this installation cannot write and read back is named; without Pillow,
    the line says there are no thumbnails (pictures still go as files)."""
    from cli import doctor
    from gui.files import thumbnails

    monkeypatch.setattr(thumbnails, "PICTURE_FORMATS", ("PNG", "NO-SUCH-FORMAT"))
    monkeypatch.setattr(doctor, "PICTURE_FORMATS", thumbnails.PICTURE_FORMATS)
    pillow = f"Pillow {importlib.metadata.version('pillow')}"
    assert doctor.describe_pictures() == f"Pictures: thumbnails for PNG ({pillow}); not for NO-SUCH-FORMAT"
    monkeypatch.setitem(sys.modules, "PIL", None)  # the import fails, as without Pillow
    assert doctor.describe_pictures().startswith("Pictures: no thumbnails (Pillow is missing (")
