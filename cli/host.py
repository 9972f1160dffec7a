"""`main.py host`: run a chat host with no window, logging to standard output.

Stops cleanly on Ctrl+C and SIGTERM (exit status 0). When it cannot start (port in use,
permission denied, ...) it prints one line saying why and exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator

from cli.ipmsg_host import start_host_bridge
from hosting import default_room_name, invite_links, room_journal, start_discoverable_host
from net.api import HostConfig, HostStartError, HostStopped, Transport
from net.backbone.config import BackboneConfig, BadServer, check_servers, parse_servers
from net.paths import identity_dir
from net.protocol.limits import (
    DEFAULT_ADDRESS_RATE_MULTIPLE,
    DEFAULT_HEARTBEAT_TIMEOUT,
    DEFAULT_HISTORY_SIZE,
    DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
    DEFAULT_PORT,
    DEFAULT_RATE_PER_SECOND,
    MAX_ROOM_NAME_CHARS,
)
from net.room import RoomConfig
from net.secure import IdentityError
from net.secure.identity import Identity, load_or_create_identity
from net.transports import make_host

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1  # the host stopped by itself (an internal failure)
EXIT_CANNOT_START = 2
#: Read for the room password when --password is not given (not visible in `ps`).
PASSWORD_ENV = "LANCHAT_ROOM_PASSWORD"

#: How often the waiting main thread wakes (Windows delivers Ctrl+C only between waits).
_WAIT_SLICE_SECONDS = 0.5


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "host",
        help="run a chat host with no window",
        description=(
            "Run a LanChat host with no window. Others join with the app, with "
            "`main.py join HOST`, or by typing into `nc HOST PORT`. Logs go to standard output; "
            "Ctrl+C or SIGTERM stops the host and tells every member."
        ),
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=None,
        metavar="P",
        help=f"port to listen on (default {DEFAULT_PORT}; 0 lets the system pick a free one)",
    )
    parser.add_argument(
        "--bind",
        default="",
        metavar="ADDR",
        help="address to listen on (default: every interface, IPv4 and IPv6)",
    )
    parser.add_argument(
        "--transport",
        choices=[transport.value for transport in Transport],
        default=Transport.TCP.value,
        help="tcp (default) or udp",
    )
    parser.add_argument(
        "--name",
        default=default_room_name(),
        metavar="ROOM",
        help=f"the room's name shown to members (at most {MAX_ROOM_NAME_CHARS} characters;"
        " default: this computer's name + 's chat')",
    )
    parser.add_argument(
        "--rate-limit",
        type=_non_negative(float),
        default=DEFAULT_RATE_PER_SECOND,
        metavar="N",
        help=f"messages a second per member (default {DEFAULT_RATE_PER_SECOND:g}; 0 switches the limit off)",
    )
    parser.add_argument(
        "--per-address-rate",
        type=_non_negative(float),
        default=DEFAULT_ADDRESS_RATE_MULTIPLE,
        metavar="M",
        help=(
            "the members connected from one address together may send M times --rate-limit "
            f"(default {DEFAULT_ADDRESS_RATE_MULTIPLE:g}; 0 switches this shared limit off)"
        ),
    )
    parser.add_argument(
        "--max-per-address",
        type=_non_negative(int),
        default=DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
        metavar="N",
        help=(
            "connections one address may hold open, members and people still joining "
            f"(default {DEFAULT_MAX_CONNECTIONS_PER_ADDRESS}; 0 for no limit)"
        ),
    )
    parser.add_argument(
        "--heartbeat-timeout",
        type=_positive_float,
        default=DEFAULT_HEARTBEAT_TIMEOUT,
        metavar="S",
        help=f"drop a member silent for this many seconds (default {DEFAULT_HEARTBEAT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--history",
        type=_non_negative(int),
        default=DEFAULT_HISTORY_SIZE,
        metavar="N",
        help=f"recent messages replayed to someone joining (default {DEFAULT_HISTORY_SIZE})",
    )
    parser.add_argument(
        "--no-history",
        dest="keep_history",
        action="store_false",
        help=(
            "keep nothing on disk: by default the room's recent messages and the private messages "
            "kept for members who are away survive a restart of the host (in the user data folder)"
        ),
    )
    parser.add_argument(
        "--password",
        default=None,
        metavar="PW",
        help=(
            "members must give this password to join (sent only encrypted; the host keeps a salted "
            "hash). '-' asks for it without showing it; LANCHAT_ROOM_PASSWORD is read when set"
        ),
    )
    parser.add_argument(
        "--allow-plaintext",
        action="store_true",
        help=(
            "also serve unencrypted connections (nc, telnet, older LanChat); everyone in the room is "
            "told which members are unencrypted"
        ),
    )
    parser.add_argument(
        "--ipmsg",
        action="store_true",
        help=(
            "also enter the IP Messenger / Feiq / iptux network (UDP port 2425): list its users in "
            "the log and answer each once with how to join the room"
        ),
    )
    parser.add_argument("--ipmsg-port", type=_port, default=2425, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument(
        "--ipmsg-encoding",
        choices=("gbk", "cp932"),
        default="gbk",
        help="text encoding for IP Messenger users who do not announce UTF-8 (default gbk: Chinese Windows)",
    )
    parser.add_argument(
        "--backbone",
        default=None,
        type=_servers,
        metavar="URLS",
        help=(
            "serve the room together with other hosts over a NATS JetStream cluster, e.g. "
            "nats://10.0.0.5:4222,nats://10.0.1.5:4222 (the stream keeps the history: see the README)"
        ),
    )
    parser.add_argument(
        "--backbone-name",
        default="",
        metavar="ID",
        help="this host's name on the backbone, the same after a restart (default: this PC's name:port)",
    )
    parser.add_argument(
        "--advertise",
        default="",
        metavar="ADDR",
        help="on a backbone: the address the room's other hosts give their members for this one",
    )
    parser.set_defaults(func=run)


# -- argument types -------------------------------------------------------------------------


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is a number from 0 to 65535")
    return port


def _servers(value: str) -> str:
    """--backbone as the Settings field takes it: each server checked (`check_servers`)."""
    try:
        return ",".join(check_servers(value))
    except BadServer as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _non_negative(kind: type):
    def convert(value: str):
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if not number >= 0:  # also refuses NaN
            raise argparse.ArgumentTypeError("must be 0 or more")
        return number

    return convert


def _positive_float(value: str) -> float:
    number = _non_negative(float)(value)
    if number == 0 or number == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return number


# -- running --------------------------------------------------------------------------------


def choose_port(args: argparse.Namespace) -> int:
    """The port to try first; without --port, `start_discoverable_host` moves on to the next free one."""
    return DEFAULT_PORT if args.port is None else args.port


def room_password(args: argparse.Namespace) -> str | None:
    """--password, asked for when '-', or $LANCHAT_ROOM_PASSWORD (kept out of `ps`)."""
    if args.password == "-":
        return getpass.getpass("Room password: ") or None
    return args.password or os.environ.get(PASSWORD_ENV) or None


def build_config(args: argparse.Namespace, identity: Identity | None = None) -> HostConfig:
    room = RoomConfig(
        name=args.name[:MAX_ROOM_NAME_CHARS],
        history_size=args.history,
        rate_per_second=args.rate_limit,
        password=room_password(args),
        address_rate_multiple=args.per_address_rate,
    )
    return HostConfig(
        port=choose_port(args),
        bind=args.bind,
        room=room,
        heartbeat_timeout=args.heartbeat_timeout,
        identity=identity,
        allow_plaintext=args.allow_plaintext,
        max_connections_per_address=args.max_per_address,
        journal=room_journal(room.name, identity) if args.keep_history and not args.backbone else None,
        backbone=_backbone(args),
    )


def _backbone(args: argparse.Namespace) -> BackboneConfig | None:
    """The backbone's settings from --backbone (None without it: the host is alone)."""
    servers = parse_servers(args.backbone or "")
    if not servers:
        return None
    return BackboneConfig(servers=servers, host_id=args.backbone_name, advertise=args.advertise)


def run(args: argparse.Namespace) -> int:
    _log_to_stdout()
    stopped = threading.Event()
    failures: list[str] = []
    signalled: list[int] = []

    def on_event(event: object) -> None:
        if isinstance(event, HostStopped):
            failures.append(event.reason)
            stopped.set()

    # Handle the signals before the host starts: once it listens, clients may join and a
    # SIGTERM may come at once; with the default handler it would kill the process and the
    # members would never get their bye. A signal during start-up stops the host right after.
    try:
        identity = load_or_create_identity(identity_dir())
    except (IdentityError, OSError) as exc:
        _fail(str(exc))
        return EXIT_CANNOT_START
    with _stop_on_signals(stopped, signalled):
        try:
            config = build_config(args, identity)
            host = start_discoverable_host(
                args.transport,
                config,
                on_event,
                port_given=args.port is not None,
                make_host=make_host,
            )
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("net."):
                raise
            _fail(f"the {args.transport.upper()} transport is not available yet ({exc.name} is missing).")
            return EXIT_CANNOT_START
        except HostStartError as exc:
            _fail(str(exc))
            return EXIT_CANNOT_START
        _announce(host.port, args.transport, identity, config)
        bridge = None
        if args.ipmsg:
            invite = (invite_links(host.port, args.transport, identity.code, config.bind) or ["?"])[0]
            bridge = start_host_bridge(config.room.name, invite, args.ipmsg_port, args.ipmsg_encoding)
        try:
            log.info("Press Ctrl+C to stop the host.")
            while not stopped.wait(_WAIT_SLICE_SECONDS):
                pass
        finally:
            if bridge is not None:
                bridge.stop()
                bridge.join()
            host.stop("the host was shut down")
    if signalled:
        return EXIT_OK
    _fail(f"the host stopped: {failures[0] if failures else 'unknown reason'}")
    return EXIT_FAILED


def _announce(port: int, transport: str, identity: Identity, config: HostConfig) -> None:
    """Say how to join: the room code and the invites to share (the ones the window's
    "Invite others" panel shows), and what is and is not encrypted."""
    log.info("Room code %s: members check it when they join", identity.code)
    log.info("Others join with one of these invites (or: main.py join INVITE):")
    for link in invite_links(port, transport, identity.code, config.bind):
        log.info("  %s", link)
    if config.room.password:
        log.info("The room needs a password.")
    if config.allow_plaintext:
        log.warning("Unencrypted connections are allowed too (--allow-plaintext): members see who uses one.")


def _fail(sentence: str) -> None:
    print(f"lanchat host: {sentence}", file=sys.stderr, flush=True)


def _log_to_stdout() -> None:
    """Send the log to standard output: a window-less host's log is its output."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
            handler.setStream(sys.stdout)


@contextlib.contextmanager
def _stop_on_signals(stopped: threading.Event, signalled: list[int]) -> Iterator[None]:
    """Turn Ctrl+C and SIGTERM into setting `stopped`, restoring the old handlers after."""

    def handle(signum: int, _frame: object) -> None:
        signalled.append(signum)
        stopped.set()

    wanted = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGBREAK"):  # Ctrl+Break in a Windows console
        wanted.append(signal.SIGBREAK)
    previous = {signum: signal.signal(signum, handle) for signum in wanted}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
