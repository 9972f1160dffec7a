"""`main.py doctor`: why can't others see my chat (or I theirs)? Checks and explains.

Lists this PC's interfaces and addresses, the addresses to give to others, whether the
chosen port can be bound for TCP and UDP, sends one round of discovery probes (to 127.0.0.1
and ::1 only under LANCHAT_LOOPBACK_ONLY) and, when nothing answers, the likely causes.
Last, which pictures show as thumbnails (a build without a decoder says so here).
Always exits 0 when it could run: it reports, it does not judge.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cli.discover import MAX_TIMEOUT, MIN_TIMEOUT, format_chat, resolve_probe_targets
from gui.files.thumbnails import PICTURE_FORMATS, picture_formats
from net import __version__
from net.discovery import addresses_to_share, discover, list_interfaces, loopback_only, plan_destinations
from net.discovery.advice import explain_nothing_found
from net.discovery.chatlist import FoundChat
from net.discovery.destinations import LOOPBACK_ENV, directed_broadcast
from net.discovery.interfaces import NetworkInterface
from net.discovery.sockets import sender_address
from net.discovery.wire import DISCOVERY_PORT, PROBE_PORTS
from net.ports import IN_USE, PORT_SEARCH_SPAN, NoFreePortError, check_port, next_free_port
from net.protocol.limits import DEFAULT_PORT


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check this PC's network set-up for LanChat",
        description="List interfaces and addresses, check the chat port, try a discovery probe, and"
        " explain the likely cause when nothing answers.",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to check (default {DEFAULT_PORT})"
    )
    parser.add_argument("--timeout", type=float, default=1.5, metavar="S", help="seconds to wait for answers")
    parser.add_argument(
        "--probe", action="append", default=[], metavar="ADDR", help="also probe this address"
    )
    parser.set_defaults(func=run)


def describe_interface(interface: NetworkInterface) -> list[str]:
    """Lines describing one interface: name and state, then one line per address."""
    state = ["up" if interface.is_up else "down"]
    if interface.is_loopback:
        state.append("loopback")
    if interface.looks_vpn:
        state.append("VPN?")
    elif interface.looks_virtual:
        state.append("virtual")
    lines = [f"  {interface.name} ({', '.join(state)})"]
    for address in interface.addresses:
        notes = []
        if address.version == 4:
            broadcast = directed_broadcast(address.address, address.prefixlen)
            if broadcast and not interface.is_loopback:
                notes.append(f"broadcast {broadcast}")
        if address.is_link_local:
            notes.append("link-local")
        suffix = f"  ({', '.join(notes)})" if notes else ""
        lines.append(f"      IPv{address.version} {address}  netmask {address.netmask}{suffix}")
    if not interface.addresses:
        lines.append("      no IP address")
    return lines


def describe_port(port: int, hosted_here: Sequence[FoundChat] = ()) -> list[str]:
    """Whether hosts can use `port`; `hosted_here` are the chats on this PC that answered the
    probe, so that a port LanChat itself holds is not blamed on "another program"."""
    check = check_port(port)
    owners = [chat for chat in hosted_here if chat.port == port]

    def state(error: str | None) -> str:
        if error is None:
            return "free"
        if owners and error == IN_USE:
            hosted = "; ".join(f"“{c.info.room}”, code {c.code}, hosted here" for c in owners)
            return f"in use by LanChat ({hosted})"
        return error

    lines = [f"Port {port}: TCP {state(check.tcp_error)}, UDP {state(check.udp_error)}"]
    for transport in ("tcp", "udp"):
        if check.free_for(transport):
            lines.append(f"  a {transport.upper()} host can use port {port}")
            continue
        try:
            other = next_free_port(transport, port + 1, span=PORT_SEARCH_SPAN - 1)
            lines.append(f"  a {transport.upper()} host started without --port would take port {other}")
        except NoFreePortError as exc:
            lines.append(f"  a {transport.upper()} host cannot start: {exc}")
    return lines


def own_addresses(interfaces: Sequence[NetworkInterface]) -> set[str]:
    """This PC's addresses (loopback included): where a chat hosted here answers from."""
    return {"127.0.0.1", "::1"} | {a.address for interface in interfaces for a in interface.addresses}


def describe_destinations() -> str:
    hosts: list[str] = []
    for destination in plan_destinations(PROBE_PORTS):
        host = str(destination.sockaddr[0])
        if len(destination.sockaddr) == 4 and destination.sockaddr[3]:
            host = sender_address(destination.sockaddr)  # ff02::...%eth0
        if host not in hosts:
            hosts.append(host)
    return f"{', '.join(hosts)} on ports {PROBE_PORTS[0]}-{PROBE_PORTS[-1]}"


def describe_pictures() -> str:
    """Which pictures show inline as thumbnails here (the others still go as files)."""
    readable, library = picture_formats()
    if not readable:
        return f"Pictures: no thumbnails ({library}); pictures still go as files"
    missing = [name for name in PICTURE_FORMATS if name not in readable]
    line = f"Pictures: thumbnails for {', '.join(readable)} ({library})"
    return line + (f"; not for {', '.join(missing)}" if missing else "")


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535 or not MIN_TIMEOUT <= args.timeout <= MAX_TIMEOUT:
        print("doctor: --port must be 1-65535 and --timeout 0.2-60 seconds", file=sys.stderr)
        return 2
    try:
        targets = resolve_probe_targets(args.probe)
    except ValueError as exc:
        print(f"doctor: {exc}", file=sys.stderr)
        return 2
    confined = loopback_only()
    print(f"LanChat {__version__} doctor ({sys.platform})")
    mode = f"loopback only ({LOOPBACK_ENV} is set)" if confined else "the local network"
    print(f"Discovery searches: {mode}")
    print()
    interfaces = list_interfaces()
    print("Interfaces:")
    if not interfaces:
        print("  (could not read the network interfaces)")
    for interface in interfaces:
        for line in describe_interface(interface):
            print(line)
    print()
    shared = addresses_to_share(interfaces)
    if shared:
        print(f"Addresses to share (others join you at): {', '.join(shared)}")
    else:
        print("Addresses to share: none. This PC has no LAN address; connect it to a network first.")
    print()
    try:  # before the port check, so that a port held by a chat hosted here is named as such
        chats = discover(args.timeout, targets)
        probe_error = None
    except OSError as exc:
        chats, probe_error = [], exc
    own = own_addresses(interfaces)
    for line in describe_port(args.port, [chat for chat in chats if own.intersection(chat.addresses)]):
        print(line)
    listener = check_port(DISCOVERY_PORT)
    print(
        f"Announcement port {DISCOVERY_PORT} (UDP, shared): "
        + ("free" if listener.udp_free else f"already open ({listener.udp_error}; fine if that is LanChat)")
    )
    print()
    print(f"Probed {describe_destinations()} for {args.timeout:g} s:")
    if probe_error is not None:
        print(f"  cannot send discovery probes: {probe_error}")
    for chat in chats:
        print(f"  found: {format_chat(chat)}")
    if not chats:
        print("  no chat answered. Likely causes, most likely first:")
        for reason in explain_nothing_found(
            interfaces, loopback_only=confined, probed_ports=any(t.ports for t in targets)
        ):
            print(f"  - {reason}")
    print()
    print(describe_pictures())
    return 0
