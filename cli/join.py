"""`main.py join HOST[:PORT] --nick NAME`: chat from a terminal (or through pipes).

Each line read from standard input is sent; each message received is printed as one
readable line. `/me`, `/msg NICK TEXT`, `/nick NEW`, `/who` and `/quit` work as in the
window. At end of input the command waits until the host has acknowledged everything
typed, then leaves cleanly.
"""

from __future__ import annotations

import argparse
import logging
import queue
import sys
import threading
import time

from net.addresses import AddressError, parse_address
from net.api import ClientConfig, ClientState, DeliveryFailed, StateChanged, Transport
from net.protocol import events as ev
from net.protocol.limits import DEFAULT_PORT
from net.protocol.textmode import render_event
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
    parser.add_argument("address", metavar="HOST[:PORT]", help=f"the host (default port {DEFAULT_PORT})")
    parser.add_argument("--nick", required=True, help="your nickname")
    parser.add_argument("--transport", choices=[t.value for t in Transport], default="tcp")
    parser.add_argument("--password", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the host")
    parser.set_defaults(func=run)


def _read_stdin(lines: queue.Queue) -> None:
    for line in sys.stdin:
        lines.put(line.rstrip("\n"))
    lines.put(_END_OF_INPUT)


def _print(text: str) -> None:
    print(text, flush=True)


def _show(event: object) -> None:
    match event:
        case StateChanged(state=ClientState.RECONNECTING, reason=reason, retry_in=delay):
            _print(f"*** connection lost ({reason}); reconnecting in {delay or 0:.1f} s")
        case StateChanged(state=ClientState.CONNECTED):
            pass
        case DeliveryFailed(reason=reason):
            _print(f"*** not delivered: {reason}")
        case ev.Welcome():
            _print(render_event(event) or "")
        case ev.Event():
            rendered = render_event(event)
            if rendered is not None:
                _print(rendered)


def _command(client, line: str) -> bool:
    """Act on one typed line; False when the user asked to quit."""
    word, _, rest = line.partition(" ")
    rest = rest.strip()
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
            _print("*** commands: /me TEXT, /msg NICK TEXT, /nick NEW, /who, /quit")
        case _:
            client.send_message(line)
    return True


def run(args: argparse.Namespace) -> int:
    if not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)
    try:
        host, port = parse_address(args.address, DEFAULT_PORT)
    except AddressError as exc:
        print(f"lanchat: {exc}", file=sys.stderr)
        return 2
    inbox: queue.Queue = queue.Queue()
    config = ClientConfig(
        host=host, port=port, nick=args.nick, password=args.password, connect_timeout=args.timeout
    )
    try:
        client = make_client(args.transport, config, on_event=inbox.put)
    except ValueError as exc:
        print(f"lanchat: {exc}", file=sys.stderr)
        return 2
    client.start()
    try:
        return _chat(client, inbox)
    except KeyboardInterrupt:
        return 0
    finally:
        client.close("quit")


def _chat(client, inbox: queue.Queue) -> int:
    # Wait for the first verdict: connected, or a reason to give up.
    while True:
        event = inbox.get()
        _show(event)
        if isinstance(event, StateChanged) and event.state is ClientState.CONNECTED:
            break
        if isinstance(event, StateChanged) and event.state is ClientState.DISCONNECTED:
            print(f"lanchat: {event.reason}", file=sys.stderr)
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
                if item.strip() and not _command(client, item):
                    return 0
            except ValueError as exc:
                _print(f"*** not sent: {exc}")
        elif item is not None:
            _show(item)
            if isinstance(item, StateChanged) and item.state is ClientState.DISCONNECTED:
                print(f"lanchat: {item.reason}", file=sys.stderr)
                return 1
        if drain_deadline is not None and (not client.pending or time.monotonic() > drain_deadline):
            return 0
