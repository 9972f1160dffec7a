"""`main.py join` driven through pipes against `main.py host`, both real processes."""

from __future__ import annotations

import platform
import re
import socket
from collections.abc import Iterator

import pytest

from tests.processes import MainProcess


@pytest.fixture
def processes() -> Iterator[list[MainProcess]]:
    started: list[MainProcess] = []
    try:
        yield started
    finally:
        for process in reversed(started):
            process.kill()


def start(processes: list[MainProcess], *args: str) -> MainProcess:
    process = MainProcess(*args)
    processes.append(process)
    return process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_terminal_clients_chat_through_pipes_with_a_host_process(processes) -> None:
    host = start(processes, "host", "--port", "0", "--bind", "127.0.0.1", "--name", "茶水间")
    port = host.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1)
    alice = start(processes, "join", f"127.0.0.1:{port}", "--nick", "alice")
    alice.wait_for_line(r"Welcome to 茶水间, alice!")
    bob = start(processes, "join", f"127.0.0.1:{port}", "--nick", "小明")
    bob.wait_for_line(r"Welcome to 茶水间, 小明!")
    alice.wait_for_line(r"--> 小明 joined")

    alice.send_line("你好, 小明 👋")
    bob.wait_for_line(r"\[\d\d:\d\d\] alice: 你好, 小明 👋$")
    bob.send_line("/me waves")
    alice.wait_for_line(r"\* 小明 waves$")
    bob.send_line("/msg alice a secret")
    alice.wait_for_line(r"\(private\) 小明: a secret$")

    bob.send_line("one last thing")
    bob.close_stdin()  # end of input: deliver what was typed, then leave cleanly
    assert bob.wait() == 0
    alice.wait_for_line(r"小明: one last thing$")
    alice.wait_for_line(r"<-- 小明 left")
    alice.send_line("/quit")
    assert alice.wait() == 0


def test_join_fails_with_one_line_when_nobody_hosts() -> None:
    process = MainProcess("join", f"127.0.0.1:{free_port()}", "--nick", "alice")
    try:
        assert process.wait() == 1
        assert len(process.stderr) == 1
        assert "Nobody accepted the connection" in process.stderr[0]
    finally:
        process.kill()


def test_join_refuses_a_taken_nickname_with_its_reason(processes) -> None:
    host = start(processes, "host", "--port", "0", "--bind", "127.0.0.1")
    port = host.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1)
    first = start(processes, "join", f"127.0.0.1:{port}", "--nick", "Alice")
    first.wait_for_line("Welcome to")
    second = start(processes, "join", f"127.0.0.1:{port}", "--nick", "alice")
    assert second.wait() == 1
    assert second.stderr and "already taken" in second.stderr[-1]


def test_a_host_given_no_name_is_named_after_this_computer(processes) -> None:
    """Issue 15.14: every window-less host's room used to be called "LanChat"."""
    computer = platform.node().split(".", 1)[0]
    host = start(processes, "host", "--port", "0", "--bind", "127.0.0.1")
    port = host.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1)
    member = start(processes, "join", f"127.0.0.1:{port}", "--nick", "alice")
    member.wait_for_line(rf"Welcome to {re.escape(computer)}'s chat, alice!")
    member.send_line("/quit")
    assert member.wait() == 0


@pytest.mark.parametrize(
    ("hosted", "joined", "advice"),
    [
        ("udp", [], "over UDP: add --transport udp"),
        ("tcp", ["--transport", "udp"], "over TCP: add --transport tcp"),
    ],
)
def test_join_over_the_wrong_transport_says_which_to_use(processes, hosted, joined, advice) -> None:
    """Issue 15.6: it used to say only that nobody was hosting there."""
    host = start(processes, "host", "--transport", hosted, "--port", "0", "--bind", "127.0.0.1")
    port = host.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1)
    member = start(processes, "join", f"127.0.0.1:{port}", "--nick", "alice", "--timeout", "1", *joined)
    assert member.wait() == 1
    assert member.stderr == [f"lanchat: 127.0.0.1:{port} is hosting {advice}"]


def test_join_shows_how_each_member_left(processes) -> None:
    """Issue 15, 5: the terminal said "bob left" whether bob quit, crashed or timed out."""
    import struct

    from tests.tcp.rawclient import RawClient

    host = start(processes, "host", "--port", "0", "--bind", "127.0.0.1", "--heartbeat-timeout", "1",
                 "--allow-plaintext")  # fmt: skip
    port = int(host.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    alice = start(processes, "join", f"127.0.0.1:{port}", "--nick", "alice")
    alice.wait_for_line("Welcome to")
    silent, crashed = RawClient(port), RawClient(port)  # protocol clients that never ping
    try:
        silent.join("silent")
        crashed.join("crashed")
        bob = start(processes, "join", f"127.0.0.1:{port}", "--nick", "bob")
        alice.wait_for_line(r"--> bob joined")
        crashed.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        crashed.close()  # a reset, no goodbye
        alice.wait_for_line(r"<-- crashed lost connection$")
        bob.send_line("/quit")
        assert bob.wait() == 0
        alice.wait_for_line(r"<-- bob left \(quit\)$")
        alice.wait_for_line(r"<-- silent timed out$")
    finally:
        silent.close()
        crashed.close()


def test_a_file_sent_with_slash_send_is_accepted_and_received_by_another_terminal(
    processes, tmp_path
) -> None:
    host = start(processes, "host", "--port", "0", "--bind", "127.0.0.1", "--name", "files")
    port = host.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1)
    alice = start(processes, "join", f"127.0.0.1:{port}", "--nick", "alice")
    alice.wait_for_line(r"Welcome to files, alice!")
    bob = start(
        processes, "join", f"127.0.0.1:{port}", "--nick", "小明", "--downloads", str(tmp_path / "收件")
    )
    bob.wait_for_line(r"Welcome to files, 小明!")
    alice.wait_for_line(r"--> 小明 joined")

    (tmp_path / "报告 final.txt").write_text("季度报告", encoding="utf-8")
    alice.send_line(f"/send {tmp_path / '报告 final.txt'}")
    offer = bob.wait_for_line(r"alice offers 1 file\(s\), 12 bytes: 报告 final\.txt \(/accept (\w+)\)").group(
        1
    )
    bob.send_line("/accept")
    bob.wait_for_line(rf"received {offer}: 1 file\(s\), 12 bytes")
    # (a small room-wide file goes up to the host once; members fetch the host's copy)
    alice.wait_for_line(rf"sent {offer} to the host once for the whole room: 12 bytes$")
    assert (tmp_path / "收件" / "报告 final.txt").read_text(encoding="utf-8") == "季度报告"
    for member in (alice, bob):
        member.send_line("/quit")
        assert member.wait() == 0
