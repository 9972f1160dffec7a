"""`main.py discover`: list the chats on the local network, one per line, and exit.

Exit status 0 when at least one chat was found, 1 (with the likely causes on stderr) when
none answered, 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence

from net.discovery import FoundChat, ProbeTarget, discover, list_interfaces, loopback_only, parse_probe_target
from net.discovery.advice import explain_nothing_found
from net.discovery.destinations import LOOPBACK_ENV

MIN_TIMEOUT, MAX_TIMEOUT = 0.2, 60.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "discover",
        help="list the chats on the local network",
        description="Search the local network for LanChat chats and print one per line:"
        " room, address:port, transport, members, host nickname and room code (two rooms of one"
        " name have different codes; compare it with the one the host sees).",
    )
    parser.add_argument(
        "--timeout", type=float, default=2.0, metavar="S", help="seconds to wait for answers (default 2)"
    )
    parser.add_argument(
        "--probe",
        action="append",
        default=[],
        metavar="ADDR",
        help="also ask this address directly: a host name, an IP address, ADDR:PORT, or a small subnet"
        " such as 192.168.5.0/24 (repeatable); for networks that do not pass broadcasts",
    )
    parser.set_defaults(func=run)


def resolve_probe_targets(texts: Sequence[str]) -> list[ProbeTarget]:
    """Parse what the user typed; host names are looked up (blocking, fine on the command line).

    Raises ValueError with a sentence for the user.
    """
    targets: list[ProbeTarget] = []
    for text in texts:
        try:
            targets.append(parse_probe_target(text))
            continue
        except ValueError as first_error:
            name, colon, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
            try:
                infos = socket.getaddrinfo(name, None, type=socket.SOCK_DGRAM)
            except (OSError, UnicodeError):
                raise first_error from None
        for address in dict.fromkeys(str(info[4][0]) for info in infos):
            shown = f"[{address}]" if ":" in address else address
            targets.append(parse_probe_target(f"{shown}{colon}{port}" if colon else address))
    if loopback_only():
        outside = [str(t) for t in targets if not t.is_loopback]
        if outside:
            raise ValueError(
                f"{LOOPBACK_ENV} is set: only 127.0.0.1 and ::1 may be probed, not {', '.join(outside)}"
            )
    return targets


def format_chat(chat: FoundChat) -> str:
    """One line for one chat: room, where, transport, members, host, room code, password flag."""
    info = chat.info
    members = f"{info.members} member" + ("" if info.members == 1 else "s")
    room = info.room or "(unnamed room)"
    parts = [
        room,
        chat.endpoint,
        info.transport.value,
        members,
        f"host {info.nick}" if info.nick else "host ?",
        f"code {chat.code}",
    ]
    if info.password:
        parts.append("password needed")
    return "  ".join(parts)


def run(args: argparse.Namespace) -> int:
    if not MIN_TIMEOUT <= args.timeout <= MAX_TIMEOUT:
        print(f"discover: --timeout must be from {MIN_TIMEOUT} to {MAX_TIMEOUT} seconds", file=sys.stderr)
        return 2
    try:
        targets = resolve_probe_targets(args.probe)
    except ValueError as exc:
        print(f"discover: {exc}", file=sys.stderr)
        return 2
    try:
        chats = discover(args.timeout, targets)
    except OSError as exc:
        print(f"discover: cannot search the network: {exc}", file=sys.stderr)
        return 1
    for chat in chats:
        print(format_chat(chat))
    if chats:
        return 0
    print(f"No chats found within {args.timeout:g} s. Likely causes:", file=sys.stderr)
    reasons = explain_nothing_found(
        list_interfaces(), loopback_only=loopback_only(), probed_ports=any(t.ports for t in targets)
    )
    for reason in reasons:
        print(f"- {reason}", file=sys.stderr)
    return 1
