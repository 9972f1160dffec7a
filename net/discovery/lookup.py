"""Short looks at what discovery sees, for callers that wait on the answer.

The window's `Browser` runs as long as the start view is shown; a look runs one for a second
or two and returns what it was looking for:

- `find_room(key, host, port)`: where a room, known by its key, is hosted now. A member whose
  host came back on the other transport, or at another address or port, follows it there
  (`net.client.threaded`). Only the key counts, never the name; and an announced key is only
  a claim, which the TLS handshake at the new place checks against the key already pinned.
- `transports_at(host, port)`: the transports of the chats answering at one address and port,
  so that `main.py join` can say that a host there speaks the other transport.

A look owns its browser (started, stopped and joined inside), sends nothing but probes (to
`host` itself, plus the usual broadcast round for `find_room`), binds no shared port and
ends early when `stop` is set.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence

from net.api import Transport
from net.discovery.browser import Browser
from net.discovery.chatlist import ChatFound, ChatUpdated, FoundChat
from net.discovery.destinations import ProbeTarget
from net.discovery.wire import PROBE_PORTS

log = logging.getLogger(__name__)

#: How often a look waiting for its answer checks `stop`.
_POLL_SECONDS = 0.05


def probe_targets(host: str, ports: Sequence[int]) -> list[ProbeTarget]:
    """`host` (a name or an address) as probe targets on `ports`; [] when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        log.debug("cannot probe %s: %s", host, exc)
        return []
    targets: list[ProbeTarget] = []
    for family, *_rest, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        zone = str(sockaddr[3]) if family == socket.AF_INET6 and len(sockaddr) >= 4 and sockaddr[3] else ""
        target = ProbeTarget(ipaddress.ip_network(address), tuple(ports), zone)
        if target not in targets:
            targets.append(target)
    return targets


def look(
    wanted: Callable[[FoundChat], bool],
    *,
    targets: Sequence[ProbeTarget],
    broadcast: bool,
    timeout: float,
    stop: threading.Event | None = None,
) -> list[FoundChat]:
    """Probe `targets` (and, with `broadcast`, the LAN's chat ports as the window's search does)
    until a `wanted` chat answers, `timeout` passes or `stop` is set; the wanted chats found."""
    hit = threading.Event()

    def on_event(event: object) -> None:
        if isinstance(event, ChatFound | ChatUpdated) and wanted(event.chat):
            hit.set()

    browser = Browser(
        on_event,
        extra_targets=targets,
        probe_ports=PROBE_PORTS if broadcast else (),
        listen=False,
        probe_interval=max(0.2, timeout / 2),  # twice: one lost datagram does not hide a chat
        broadcast_probe_interval=max(0.2, timeout / 2),
    )
    try:
        browser.start()
    except OSError as exc:
        log.info("cannot look for chats: %s", exc)
        browser.stop()
        return []
    try:
        deadline = time.monotonic() + timeout
        while not hit.is_set() and not (stop is not None and stop.is_set()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            hit.wait(min(remaining, _POLL_SECONDS))
        return [chat for chat in browser.snapshot() if wanted(chat)]
    finally:
        browser.stop()


def find_room(
    key: bytes, host: str, port: int, *, timeout: float, stop: threading.Event | None = None
) -> FoundChat | None:
    """Where the room with `key` is hosted now, looking at `host` (where it was, on every chat
    port and `port`) and on the LAN; None when it is not found within `timeout`.

    One installation may host several rooms under its key: the one at `host` comes first,
    then the one on `port`.
    """
    targets = probe_targets(host, sorted({*PROBE_PORTS, port}))
    found = look(
        lambda chat: chat.info.key == key, targets=targets, broadcast=True, timeout=timeout, stop=stop
    )
    return min(found, key=lambda chat: (not heard_at(chat, targets), chat.port != port), default=None)


def heard_at(chat: FoundChat, targets: Sequence[ProbeTarget]) -> bool:
    """Whether `chat` was heard at one of the addresses of `targets` (see `probe_targets`)."""
    near = {target.addresses()[0].split("%", 1)[0] for target in targets}
    return any(address.split("%", 1)[0] in near for address in chat.addresses)


def transports_at(host: str, port: int, *, timeout: float = 1.0) -> set[Transport]:
    """The transports of the LanChat hosts answering probes at `host`:`port` (none: empty)."""
    targets = probe_targets(host, (port,))
    if not targets:
        return set()
    found = look(lambda chat: chat.port == port, targets=targets, broadcast=False, timeout=timeout)
    return {chat.transport for chat in found}
