"""Driving the real command line on a virtual PC: `main.py host`, `join`, `discover`, `doctor`.

These helpers only start the commands and read what a user would read on the terminal; every
wait is bounded. The patterns follow the terminal formats of `net.protocol.textmode` (chat
lines such as ``[12:04] alice: hello``) and of the commands' own output.
"""

from __future__ import annotations

import re
import signal

from tests.lan.virtual_lan import LanProcess, Pc

#: Bound on a command coming up (Python start-up plus binding), generous for a busy 2-core machine.
START_TIMEOUT = 15.0
#: Bound on a chat line reaching another PC.
DELIVERY_TIMEOUT = 10.0

RECONNECTING = re.compile(r"^\*\*\* connection lost \(.*\); reconnecting")


def chat_line(sender: str, text: str, *, private: bool = False) -> re.Pattern[str]:
    """The line `join` prints for a message from `sender`: ``[HH:MM] (private) bob: text``."""
    prefix = r"\(private\) " if private else ""
    return re.compile(rf"^\[\d\d:\d\d\] {prefix}{re.escape(sender)}: {re.escape(text)}$")


def joined_line(nick: str) -> re.Pattern[str]:
    return re.compile(rf"^\[\d\d:\d\d\] --> {re.escape(nick)} joined$")


def left_line(nick: str) -> re.Pattern[str]:
    return re.compile(rf"^\[\d\d:\d\d\] <-- {re.escape(nick)} left")


def welcome_line(nick: str) -> re.Pattern[str]:
    return re.compile(rf"^Welcome to .*, {re.escape(nick)}!")


def start_host(pc: Pc, transport: str, *args: str) -> LanProcess:
    """`main.py host --transport T ARGS` on `pc`, once it says it is listening."""
    host = pc.lanchat("host", "--transport", transport, *args, name=f"host-{transport}")
    host.expect(re.compile(r"listening on", re.IGNORECASE), timeout=START_TIMEOUT)
    return host


def join(pc: Pc, address: str, nick: str, transport: str, *args: str) -> LanProcess:
    """`main.py join ADDRESS --nick NICK --transport T` on `pc`, once it has been welcomed."""
    client = pc.lanchat("join", address, "--nick", nick, "--transport", transport, *args, name=f"join-{nick}")
    client.expect(welcome_line(nick), timeout=START_TIMEOUT)
    return client


def stop(process: LanProcess, timeout: float = 10.0) -> int:
    """Stop a command as a user would with Ctrl+C/SIGTERM and return its exit status."""
    process.signal(signal.SIGTERM)
    return process.wait(timeout)
