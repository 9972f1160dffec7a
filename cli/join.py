"""`main.py join HOST[:PORT] --nick NAME`: chat from a terminal (or through pipes).

The connection is encrypted; the room's key is checked against the code of an invite
(`lanchat://HOST:PORT#CODE` or `--code`) or against the key pinned the first time this
computer joined that address. A changed key is refused with both codes shown; joining
again with `--code NEWCODE` confirms the new key.

Each line read from standard input is sent; each message received is printed as one
readable line. `/me`, `/msg NICK TEXT`, `/nick NEW`, `/who` and `/quit` work as in the
window; `/send`, `/sendto`, `/accept`, `/decline`, `/pause` and `/resume` pass files
(`cli/files.py`). At end of input the command waits until the host has acknowledged
everything typed, then leaves cleanly.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cli.files import COMMANDS, TerminalFiles, default_downloads
from net.addresses import AddressError, format_address
from net.api import (
    ClientConfig,
    ClientState,
    DeliveryFailed,
    FailureKind,
    HostVerified,
    KeyRejected,
    RoomMoved,
    StateChanged,
    Transport,
)
from net.discovery.lookup import transports_at
from net.invite import parse_invite
from net.paths import pins_file
from net.protocol import events as ev
from net.protocol.limits import DEFAULT_PORT
from net.protocol.textmode import render_event
from net.secure.codes import normalize_code, room_code
from net.secure.pins import PinStore
from net.transports import make_client

_END_OF_INPUT = object()
#: How long to wait at end of input for unacknowledged messages before leaving anyway.
_DRAIN_SECONDS = 15.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "join",
        help="chat from the terminal",
        description="Join a chat from the terminal: lines you type are sent, messages are printed.",
    )
    parser.add_argument(
        "address",
        metavar="HOST[:PORT] | INVITE",
        help=f"the host (default port {DEFAULT_PORT}), or an invite lanchat://HOST:PORT#CODE",
    )
    parser.add_argument("--nick", required=True, help="your nickname")
    parser.add_argument("--transport", choices=[t.value for t in Transport], default=None)
    parser.add_argument("--code", default=None, help="the room's code, as the host shows it (7F3A-91C2-...)")
    parser.add_argument(
        "--password",
        default=None,
        help="the room's password; '-' asks for it without showing it (sent only encrypted)",
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the host")
    parser.add_argument(
        "--downloads", type=Path, default=None, help="where accepted files go (default ~/Downloads/LanChat)"
    )
    parser.set_defaults(func=run)


def _read_stdin(lines: queue.Queue) -> None:
    for line in sys.stdin:
        lines.put(line.rstrip("\n"))
    lines.put(_END_OF_INPUT)


def _print(text: str) -> None:
    print(text, flush=True)


def _show(event: object, files: TerminalFiles | None = None) -> None:
    line = files.render(event) if files is not None else None
    if line is not None:
        _print(line)
        return
    match event:
        case KeyRejected(expected_code=expected, fingerprint=fingerprint):
            _print(
                f"*** WARNING: this room's code is {room_code(fingerprint)}, but {expected} was expected. "
                "Someone may be posing as the host; nothing was sent. If the host really has a new "
                f"key, join again with --code {room_code(fingerprint)}."
            )
        case HostVerified(fingerprint=fingerprint, first_use=True):
            _print(f"*** room code {room_code(fingerprint)} (remembered for this address)")
        case StateChanged(state=ClientState.RECONNECTING, reason=reason, retry_in=delay):
            _print(f"*** connection lost ({reason}); reconnecting in {delay or 0:.1f} s")
        case StateChanged(state=ClientState.CONNECTED):
            pass
        case DeliveryFailed(reason=reason):
            _print(f"*** not delivered: {reason}")
        case RoomMoved(new_host=str(nick)):
            _print(f"*** {nick} hosts the chat now")
        case RoomMoved(transport=transport, host=host, port=port):
            where = format_address(host, port)
            _print(f"*** the chat moved to {transport.value.upper()} at {where}; reconnecting there")
        case ev.Welcome():
            _print(render_event(event) or "")
        case ev.Event():
            rendered = render_event(event)
            if rendered is not None:
                _print(rendered)


def _command(client, line: str, files: TerminalFiles | None = None) -> bool:
    """Act on one typed line; False when the user asked to quit."""
    word, _, rest = line.partition(" ")
    rest = rest.strip()
    said = files.command(word, rest) if files is not None else None
    if said is not None:
        _print(said)
        return True
    match word:
        case "/quit":
            return False
        case "/nick" if rest:
            client.rename(rest)
        case "/who":
            client.request_members()
        case "/me" if rest:
            client.send_message(rest, action=True)
        case "/msg" if " " in rest:
            target, text = rest.split(" ", 1)
            client.send_message(text, to=target)
        case _ if word.startswith("/"):
            _print(f"*** commands: /me TEXT, /msg NICK TEXT, /nick NEW, /who, /quit, {COMMANDS}")
        case _:
            client.send_message(line)
    return True


def run(args: argparse.Namespace) -> int:
    if not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)
    try:
        invite = parse_invite(args.address, DEFAULT_PORT)
    except AddressError as exc:
        print(f"lanchat: {exc}", file=sys.stderr)
        return 2
    code = invite.code
    if args.code is not None:
        code = normalize_code(args.code)
        if code is None:
            print(
                f"lanchat: {args.code!r} is not a room code (five groups of four: 7F3A-91C2-...)",
                file=sys.stderr,
            )
            return 2
    password = getpass.getpass("Room password: ") if args.password == "-" else args.password
    transport = args.transport or (invite.transport.value if invite.transport else Transport.TCP.value)
    pins = PinStore(pins_file())
    where = f"{invite.host}:{invite.port}"
    inbox: queue.Queue = queue.Queue()
    config = ClientConfig(
        host=invite.host,
        port=invite.port,
        nick=args.nick,
        password=password,
        connect_timeout=args.timeout,
        expected_code=code,
        pinned=None if code else pins.pinned(where),
        follow_room=True,  # the host back on the other transport, or elsewhere, is found again
        follow_handover=True,  # to the member the host handed the room to (never hosts itself)
        files=True,  # `TerminalFiles` reads the file notices
    )

    def on_event(event: object) -> None:
        if isinstance(event, HostVerified):
            pins.pin(where, event.fingerprint)  # the first time, or the code the user gave
        inbox.put(event)

    files: TerminalFiles | None = None
    try:
        client = make_client(
            transport,
            config,
            on_event=lambda event: files.transfers.deliver(event) if files else on_event(event),
        )
    except ValueError as exc:
        print(f"lanchat: {exc}", file=sys.stderr)
        return 2
    files = TerminalFiles(client, on_event, invite.host, args.downloads or default_downloads())
    client.start()
    try:
        return _chat(client, inbox, lambda failed: _not_joined(failed, config, Transport(transport)), files)
    except KeyboardInterrupt:
        return 0
    finally:
        client.close("quit")
        files.close()


def _not_joined(failed: StateChanged, config: ClientConfig, transport: Transport) -> str:
    """Why the first connection failed, in one line. Refused (or unanswered, over UDP) where a
    LanChat host of the other transport answers probes: then how to reach it."""
    if failed.failure in (FailureKind.REFUSED, FailureKind.TIMEOUT):
        others = transports_at(config.host, config.port) - {transport}
        if others:
            other = others.pop().value
            where = format_address(config.host, config.port)
            return f"{where} is hosting over {other.upper()}: add --transport {other}"
    return failed.reason


def _chat(
    client, inbox: queue.Queue, not_joined: Callable[[StateChanged], str], files: TerminalFiles | None = None
) -> int:
    # Wait for the first verdict: connected, or a reason to give up.
    while True:
        event = inbox.get()
        _show(event)
        if isinstance(event, StateChanged) and event.state is ClientState.CONNECTED:
            break
        if isinstance(event, StateChanged) and event.state is ClientState.DISCONNECTED:
            print(f"lanchat: {not_joined(event)}", file=sys.stderr)
            return 1
    threading.Thread(target=_read_stdin, args=(inbox,), name="stdin", daemon=True).start()
    drain_deadline = None
    while True:
        try:
            item = inbox.get(timeout=0.1)
        except queue.Empty:
            item = None
        if item is _END_OF_INPUT:
            drain_deadline = time.monotonic() + _DRAIN_SECONDS
        elif isinstance(item, str):
            try:
                if item.strip() and not _command(client, item, files):
                    return 0
            except ValueError as exc:
                _print(f"*** not sent: {exc}")
        elif item is not None:
            _show(item, files)
            if isinstance(item, StateChanged) and item.state is ClientState.DISCONNECTED:
                print(f"lanchat: {item.reason}", file=sys.stderr)
                return 1
        if drain_deadline is not None and (not client.pending or time.monotonic() > drain_deadline):
            return 0
