"""The window's side of the IP Messenger bridge: its life, its user list, its private tabs. No Tk.

The window (setting "Also talk with IP Messenger / Feiq users", on by default) runs one
`IpmsgBridge` from start to close, under the user's nickname. Its events come through the
window's event queue like every network event; `BridgedController` hands them here.

A conversation with an IP Messenger user is a private tab like any other, keyed
``ipmsg:ADDRESS`` (the address is who they are: names are only labels). What the user types
there goes out as SENDMSG; the line shows "sending…" until RECVMSG comes back (then ✓), or
why it failed. Those conversations are kept in this PC's history under the tab's key
(`keep`, the window's `HistoryKeeper.keep_ipmsg`: ours once acknowledged, theirs as they
come), and a message from them rings, flashes and notifies as a private message does
(`attention`). They are not encrypted: IP Messenger sends plain text, which the tab says.

``LANCHAT_IPMSG_PORT`` overrides port 2425 (``0``: any free port; ``off``: no bridge). The
test suite sets ``off`` so that windows under test never take the real port.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Protocol

from gui.i18n import tr
from gui.model.changes import Incoming
from gui.model.delivery import SENT_MARK, Delivery, delivery_mark
from gui.model.values import Line
from gui.settings import Settings
from net.ipmsg.bridge import IpmsgBridge
from net.ipmsg.codec import DEFAULT_PORT
from net.ipmsg.engine import Identity
from net.ipmsg.events import (
    IpmsgDelivered,
    IpmsgFilesReleased,
    IpmsgMessage,
    IpmsgOfferSent,
    IpmsgStatus,
    IpmsgTransferDone,
    IpmsgTransferFailed,
    IpmsgTransferProgress,
    IpmsgUndelivered,
    IpmsgUser,
    IpmsgUsers,
)

log = logging.getLogger(__name__)

KEY_PREFIX = "ipmsg:"
PORT_ENV = "LANCHAT_IPMSG_PORT"
#: Messages that came while no chat view was open, shown when one opens (older ones dropped).
MAX_WAITING = 200
#: Our messages remembered until acknowledged, to be kept then (older ones are not kept).
MAX_UNACKNOWLEDGED = 1000
#: keep(key, title, message id, time, sender, text, own, opening its tab): the history
#: keeper's `keep_ipmsg`.
Keep = Callable[[str, str, str, float, str, str, bool, bool], None]
FILE_EVENTS = (
    IpmsgOfferSent,
    IpmsgFilesReleased,
    IpmsgTransferProgress,
    IpmsgTransferDone,
    IpmsgTransferFailed,
)
IPMSG_EVENTS = (IpmsgUsers, IpmsgMessage, IpmsgDelivered, IpmsgUndelivered, IpmsgStatus, *FILE_EVENTS)


class UsersPanel(Protocol):
    """The side panel's "On IP Messenger / 飞秋" section (`gui.ipmsg_panel.IpmsgPanel`)."""

    on_user: Callable[[str], object]

    def set_users(self, users: tuple[IpmsgUser, ...], problem: str) -> None: ...


class FilesPart(Protocol):
    """Offers of files in IP Messenger tabs (`gui.ipmsg_files.IpmsgFiles`)."""

    def offered(self, message: IpmsgMessage, key: str, nick: str) -> None: ...
    def handle(self, event: object) -> None: ...
    def unsent(self, message_id: str) -> str | None: ...


class IpmsgView(Protocol):
    """What the link needs of the chat view (`gui.chat_view.ChatView`)."""

    def open_private(self, key: str, nick: str, focus: bool) -> None: ...
    def add_lines(self, conversation: str | None, lines: list[Line]) -> None: ...
    def mark_delivered(self, local_id: str, when: float, mark: str) -> None: ...
    def mark_failed(self, local_id: str, mark: str) -> None: ...


def key_for(address: str) -> str:
    return KEY_PREFIX + address


def address_of(key: str | None) -> str | None:
    """The IP Messenger address of a conversation key, None for LanChat conversations."""
    return key[len(KEY_PREFIX) :] if key is not None and key.startswith(KEY_PREFIX) else None


def private_intro(key: str, nick: str) -> str:
    """The first line of a private tab: a LanChat one is private; an IP Messenger one is not
    encrypted (the protocol is plain text on the LAN)."""
    if address_of(key) is not None:
        text = tr(
            "Private conversation with {nick} over IP Messenger: not encrypted (plain text on the LAN)."
        )
    else:
        text = tr("Private conversation with {nick}. Only the two of you see it.")
    return text.format(nick=nick)


def configured_port() -> int | None:
    """The port from ``LANCHAT_IPMSG_PORT`` (None: "off"), 2425 by default."""
    text = os.environ.get(PORT_ENV, "").strip().lower()
    if text in ("off", "no", "false"):
        return None
    return int(text) if text.isdigit() and int(text) < 65536 else DEFAULT_PORT


class IpmsgLink:
    """Owns the window's bridge; turns its events into tabs, lines and the user list."""

    def __init__(
        self, settings: Settings, post: Callable[[object], None], clock: Callable[[], float] = time.time
    ):
        self.settings = settings
        self._post = post
        self._clock = clock
        self.bridge: IpmsgBridge | None = None
        self.users: dict[str, IpmsgUser] = {}
        self.problem = ""
        self.view: IpmsgView | None = None
        self.panel: UsersPanel | None = None
        self._waiting: collections.deque[IpmsgMessage] = collections.deque(maxlen=MAX_WAITING)
        self._running_as: tuple[str, str] | None = None  # (nickname, encoding) of the running bridge
        self._refused: tuple[str, str] | None = None  # the same, when it could not start
        self.keep: Keep | None = None  # set by the controller: the window's history
        self.attention: Callable[[Incoming], None] = lambda _incoming: None  # bell, title, notification
        # Our messages until acknowledged: message id -> (conversation key, text).
        self._sent: collections.OrderedDict[str, tuple[str, str]] = collections.OrderedDict()
        self._received = itertools.count(1)
        self.files: FilesPart | None = None  # gui.ipmsg_files.IpmsgFiles, set by the controller

    # -- life -----------------------------------------------------------------------------------

    def apply(self, settings: Settings, *, retry: bool = False) -> None:
        """Start, stop or restart the bridge as the settings now say. A start that failed (the
        port is taken) is tried again only with `retry` (the user applied the settings)."""
        self.settings = settings
        port = configured_port()
        wanted = (self._nickname(), settings.ipmsg_encoding) if settings.ipmsg and port is not None else None
        if wanted == self._running_as or (wanted is not None and wanted == self._refused and not retry):
            return
        running = self._running_as
        if self.bridge is not None and wanted is not None and running is not None and wanted[1] == running[1]:
            self.bridge.rename(wanted[0])  # BR_ABSENCE with the new name, no restart
            self._running_as = wanted
            return
        self.stop()
        if wanted is None or port is None:
            return
        identity = Identity(wanted[0], "LanChat", _login_name(), socket.gethostname())
        bridge = IpmsgBridge(identity, self._post, port=port, legacy_encoding=wanted[1])
        try:
            bridge.start()
        except OSError as exc:
            log.warning("not on IP Messenger: %s", exc)
            bridge.join()
            self._refused = wanted
            self.problem = tr("Not available: UDP port {port} is in use (IP Messenger or Feiq runs here?).")
            self.problem = self.problem.format(port=port)
            self._show_users()
            return
        self.bridge, self._running_as, self.problem, self._refused = bridge, wanted, "", None

    def stop(self) -> None:
        bridge, self.bridge, self._running_as = self.bridge, None, None
        if bridge is not None:
            bridge.stop()
            bridge.join()
        self.users = {}
        self._show_users()

    def _nickname(self) -> str:
        return self.settings.nickname or _login_name()

    # -- the chat view --------------------------------------------------------------------------

    def attach(self, view: IpmsgView | None, panel: UsersPanel | None) -> None:
        """A chat view opened (or closed: None): show the users, and what came meanwhile."""
        self.view, self.panel = view, panel
        if panel is not None:
            panel.on_user = self.open
        self._show_users()
        while view is not None and self._waiting:
            self._show_message(self._waiting.popleft())

    def open(self, address: str, focus: bool = True) -> str | None:
        """Open (or show) the tab with the user at `address`; its key (None: no such user)."""
        user = self.users.get(address)
        if user is None or self.view is None:
            return None
        return self._open_tab(address, user.nick, focus)

    def _open_tab(self, address: str, nick: str, focus: bool) -> str:
        key = key_for(address)
        assert self.view is not None
        self.view.open_private(key, nick, focus)  # its first line says: not encrypted (private_intro)
        return key

    def submit(self, text: str, key: str) -> bool:
        """Send what the user typed in an IP Messenger tab; True when the input should be emptied."""
        address = address_of(key)
        if address is None or not text.strip():
            return False
        if self.bridge is None or address not in self.users:
            return self._error(key, tr("This IP Messenger user is no longer online."))
        try:
            message_id = self.bridge.send_message(address, text)
        except ValueError as exc:
            log.info("IP Messenger message not sent: %s", exc)
            return self._error(key, tr("The message could not be sent: too long, or too many are waiting."))
        mark = delivery_mark(Delivery.SENDING)
        self._sent[message_id] = (key, text.rstrip())
        while len(self._sent) > MAX_UNACKNOWLEDGED:
            self._sent.popitem(last=False)
        self._add(
            key, Line("message", text.rstrip(), self._clock(), self._nickname(), True, message_id, mark)
        )
        return True

    # -- events ---------------------------------------------------------------------------------

    def handle(self, batch: list[object]) -> list[object]:
        """Take the bridge's events out of `batch`; the rest is returned for the controller."""
        rest: list[object] = []
        for event in batch:
            match event:
                case IpmsgUsers(users=users):
                    self.users = {user.address: user for user in users}
                    self._show_users()
                case IpmsgMessage():
                    if self.view is None:
                        self._waiting.append(event)
                    else:
                        self._show_message(event)
                case IpmsgDelivered(message_id=message_id):
                    self._keep_own(message_id)
                    if self.view is not None:
                        self.view.mark_delivered(message_id, self._clock(), SENT_MARK)
                case IpmsgUndelivered(message_id=message_id, reason=reason):
                    log.info("IP Messenger message %s not delivered: %s", message_id, reason or "no answer")
                    if self.view is not None:
                        self.view.mark_failed(message_id, delivery_mark(Delivery.FAILED, tr("not delivered")))
                    offered_in = self.files.unsent(message_id) if self.files is not None else None
                    if offered_in is not None:  # an offer of files: said in its tab
                        said = tr("Not sent: {reason}").format(reason=reason or tr("not delivered"))
                        self._error(offered_in, said)
                case IpmsgStatus(problem=problem) if problem and self.bridge is not None:  # it broke
                    self.problem = tr("The IP Messenger bridge stopped.")
                    self._show_users()
                case IpmsgStatus():
                    pass
                case _ if isinstance(event, FILE_EVENTS):
                    if self.files is not None and self.view is not None:
                        self.files.handle(event)
                case _:
                    rest.append(event)
        return rest

    def _show_message(self, message: IpmsgMessage) -> None:
        user = self.users.get(message.address)
        nick = user.nick if user is not None else message.nick
        if self.view is None:
            return
        key, when, text = key_for(message.address), self._clock(), message.text
        if text.strip() and self.keep is not None:  # before the tab opens: it pages up from before it
            opening = key not in getattr(self.view, "panes", {})
            message_id = f"r{message.packet_no}-{next(self._received)}-{when}"
            self.keep(key, nick, message_id, when, nick, text, False, opening)
        self._open_tab(message.address, nick, False)
        if text.strip() or not message.files:
            self._add(key, Line("message", text, when, nick))
        if message.files and self.files is not None:
            self.files.offered(message, key, nick)
        if text.strip() or message.files:
            names = ", ".join(a.name for a in message.attachments[:3])
            self.attention(Incoming(key, nick, text or names or tr("Files…"), False, True))

    def _keep_own(self, message_id: str) -> None:
        sent = self._sent.pop(message_id, None)
        if sent is not None and self.keep is not None:
            key, text = sent
            user = self.users.get(address_of(key) or "")
            title = user.nick if user is not None else key
            when = self._clock()  # ids restart with the bridge: the time makes them unique
            self.keep(key, title, f"{message_id}-{when}", when, self._nickname(), text, True, False)

    def _show_users(self) -> None:
        if self.panel is not None:
            shown = tuple(self.users.values()) if self.bridge is not None else ()
            off = tr("Off (see Settings).") if not self.settings.ipmsg else ""
            self.panel.set_users(shown, self.problem or off)

    def _add(self, key: str, line: Line) -> None:
        if self.view is not None:
            self.view.add_lines(key, [line])

    def _error(self, key: str, text: str) -> bool:
        self._add(key, Line("error", text, self._clock()))
        return False


def _login_name() -> str:
    try:
        import getpass

        return getpass.getuser() or "lanchat"
    except (OSError, KeyError, ImportError):
        return "lanchat"
