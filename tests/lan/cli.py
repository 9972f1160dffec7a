"""Driving the real command line on a virtual PC: `main.py host`, `join`, `discover`, `doctor`.

These helpers only start the commands and read what a user would read on the terminal; every
wait is bounded. The patterns follow the terminal formats of `net.protocol.textmode` (chat
lines such as ``[12:04] alice: hello``) and of the commands' own output.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from dataclasses import dataclass

import pytest

from tests.lan.virtual_lan import REPO_ROOT, LanProcess, OutputLine, Pc

#: Bound on a command coming up (Python start-up plus binding), generous for a busy 2-core machine.
START_TIMEOUT = 15.0
#: Bound on a chat line reaching another PC.
DELIVERY_TIMEOUT = 10.0


def _host_command_announces() -> bool:
    return "start_discoverable_host" in (REPO_ROOT / "cli" / "host.py").read_text(encoding="utf-8")


#: Until `main.py host` announces itself (hosting.py), discovery cannot find it.
requires_announcing_host = pytest.mark.skipif(
    not _host_command_announces(),
    reason="`main.py host` does not announce yet: cli/host.py does not call start_discoverable_host",
)

RECONNECTING = re.compile(r"^\*\*\* connection lost \(.*\); reconnecting")


def chat_line(sender: str, text: str, *, private: bool = False) -> re.Pattern[str]:
    """The line `join` prints for a message from `sender`: ``[HH:MM] (private) bob: text``."""
    prefix = r"\(private\) " if private else ""
    return re.compile(rf"^\[\d\d:\d\d\] {prefix}{re.escape(sender)}: {re.escape(text)}$")


def joined_line(nick: str) -> re.Pattern[str]:
    return re.compile(rf"^\[\d\d:\d\d\] --> {re.escape(nick)} joined$")


def left_line(nick: str, how: str = "left") -> re.Pattern[str]:
    """`how`: "left" (a goodbye), "lost connection" or "timed out" (see PROTOCOL.md, `left`)."""
    return re.compile(rf"^\[\d\d:\d\d\] <-- {re.escape(nick)} {re.escape(how)}")


def welcome_line(nick: str) -> re.Pattern[str]:
    return re.compile(rf"^Welcome to .*, {re.escape(nick)}!")


def start_host(pc: Pc, transport: str, *args: str) -> LanProcess:
    """`main.py host ARGS` on `pc` (plus `--transport udp` for UDP), once it says it is listening."""
    chosen = ("--transport", transport) if transport != "tcp" else ()
    host = pc.lanchat("host", *chosen, *args, name=f"host-{transport}")
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


@dataclass(frozen=True, slots=True)
class Listing:
    """One line of `main.py discover`:
    ``room  address:port  transport  N members  host NICK  code XXXX-XXXX-XXXX-XXXX-XXXX``."""

    room: str
    endpoint: str
    transport: str
    members: int
    host: str
    code: str

    @property
    def address(self) -> str:
        return self.endpoint.rpartition(":")[0].strip("[]")


def parse_listing(line: str) -> Listing:
    room, endpoint, transport, members, host, code, *_ = line.split("  ")
    return Listing(
        room,
        endpoint,
        transport,
        int(members.split()[0]),
        host.removeprefix("host "),
        code.removeprefix("code "),
    )


def start_discover(pc: Pc, *args: str) -> LanProcess:
    """Start `main.py discover ARGS` on `pc` (no --probe unless given); see `listings`."""
    return pc.lanchat("discover", *args, name="discover")


def listings(process: LanProcess, timeout: float = 30.0) -> list[Listing]:
    """What a `discover` process listed, once it has exited (status 0: something was found)."""
    code = process.wait(timeout)
    assert code == 0, f"discover exited with {code}\n{process.transcript()}"
    return [parse_listing(line) for line in process.lines() if line.strip()]


def discover(*pcs: Pc) -> list[list[Listing]]:
    """Run `main.py discover` on each of `pcs` at the same time; what each listed."""
    return [listings(process) for process in [start_discover(pc) for pc in pcs]]


def find_room(listings: list[Listing], room: str) -> Listing:
    found = [listing for listing in listings if listing.room == room]
    assert len(found) == 1, f"expected room {room!r} listed once, got: {listings}"
    return found[0]


def doctor(*pcs: Pc) -> list[str]:
    """Run `main.py doctor` on each of `pcs` at the same time; the report of each."""
    reports = []
    for process in [pc.lanchat("doctor", name="doctor") for pc in pcs]:
        assert process.wait(30.0) == 0, process.transcript()
        reports.append("\n".join(process.lines()))
    return reports


def addresses_to_share(doctor_output: str) -> list[str]:
    """The addresses from doctor's line ``Addresses to share (others join you at): A, B``."""
    for line in doctor_output.splitlines():
        if line.startswith("Addresses to share (others join you at): "):
            return line.split(": ", 1)[1].split(", ")
    raise AssertionError(f"doctor printed no addresses to share:\n{doctor_output}")


def watch_chats(pc: Pc) -> LanProcess:
    """A live chat list on `pc` (see tests/lan/watch_chats.py), once it is browsing."""
    watcher = pc.run([sys.executable, "-m", "tests.lan.watch_chats"], name="chat-list")
    watcher.expect('"event": "ready"', timeout=START_TIMEOUT)
    return watcher


def chat_event(kind: str, room: str, endpoint: str | None = None) -> re.Pattern[str]:
    """A line of the live chat list: `kind` (found/updated/lost, or a regex like "found|updated")
    of `room`, at `endpoint` when given."""
    pattern = rf'^{{"event": "({kind})", "room": {re.escape(json.dumps(room, ensure_ascii=False))},'
    if endpoint is not None:
        pattern += rf' "endpoint": {re.escape(json.dumps(endpoint))},'
    return re.compile(pattern)


def event_fields(line: OutputLine) -> dict:
    return json.loads(line.text)
