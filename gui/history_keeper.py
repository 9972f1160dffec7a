"""The window's history: what is shown is kept, and a room joined again shows what was said. No Tk.

The `Controller` hands each batch of its session's events (after its `SessionGate`, so a
finished session's late events never land in the next room's history) to `HistoryKeeper.tap`
on the main thread. The keeper queues what to keep for the `HistoryWriter`'s thread (the
main thread never waits for SQLite writes) and returns the batch, with one change: the first
welcome of a session carries the earlier conversation kept here (a page read from the
database, fast enough for the main thread), merged with what the host replays, each message
once (by the host's message id); the model shows them above the line that marks where this
session starts.

Which room a message belongs to is the room code of the key the host proved over TLS
(`HostVerified`), never the room's name, which anyone may reuse. Every session of this window
is TLS (`Status.encrypted`); a session without a proven key would keep nothing.

Our own messages are kept when the host acknowledges them, with the host's time and id: the
clients this window makes are wrapped (`clients`) to remember what was typed until then.

Conversations with IP Messenger users (`gui.ipmsg_link`) are kept too, under the key of
their tab, ``ipmsg:ADDRESS`` (`keep_ipmsg`): they belong to no LanChat session, so they page
up and are found the same in every session.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from gui.client_wrapper import ClientWrapper
from gui.i18n import tr
from gui.model.nicks import key_of
from gui.ports import ClientFactory
from history import store
from history.database import HistoryDatabase, HistoryUnavailable, Unavailable
from history.writer import HistoryWriter
from net.api import ChatClient, ClientConfig, Delivered, EventSink, HostVerified, Transport
from net.protocol import events as ev
from net.secure.codes import room_code

log = logging.getLogger(__name__)

DAY = 24 * 60 * 60

#: Sent messages remembered until acknowledged (beyond that the oldest is forgotten, unkept).
MAX_UNACKNOWLEDGED = 1000


def unavailable_sentence(reason: Unavailable) -> str:
    """Why this window keeps no history, for the user."""
    if reason is Unavailable.IN_USE:
        return tr("History is in use by another LanChat window: this window keeps no history.")
    if reason is Unavailable.DISK_FULL:
        return tr("The disk is full: this window keeps no history.")
    return tr("The history file cannot be written: this window keeps no history.")


def set_aside_sentence(path: Path) -> str:
    sentence = tr("The history file could not be read and was set aside as {path}; a new one was started.")
    return sentence.format(path=path)


@dataclasses.dataclass
class _Session:
    """What the keeper knows of one session: set by its events, in order."""

    code: str | None = None  # the room code the host proved over TLS
    nick: str = ""
    room: str = ""
    welcomed: bool = False
    # Where paging up the room starts (the oldest message the welcome showed), or None when
    # the welcome showed all there is.
    room_start: store.StoredMessage | None = None


class HistoryKeeper:
    """Opens the database, owns the writer (`close` stops and joins it), taps the events."""

    def __init__(
        self, path: Path, on_problem: Callable[[str], None], *, keep: bool = True, days: int = 0
    ) -> None:
        self._on_problem = on_problem  # main thread only
        self._database: HistoryDatabase | None = None
        self._writer: HistoryWriter | None = None
        self._reader: sqlite3.Connection | None = None
        self._told_failure = False
        self._session_token: object = None
        self._session = _Session()
        self._sent: dict[str, tuple[str, str | None, bool]] = {}  # local id -> text, to, action
        self._latest: dict[str, float] = {}  # conversation -> its oldest message in the last batch
        self.generation = 0  # counts sessions: what a pane paged up in an earlier one is stale
        self.problem: str | None = None  # said at start: no history, or a file set aside
        if keep:
            self._open(path)
        self.apply_settings(keep, days)

    def apply_settings(self, keep: bool, days: int) -> None:
        """What is kept, as the settings say, at once: messages older than `days` (0: none)
        are forgotten now (on the writer's thread), and with `keep` off nothing more is
        written this run (what is kept stays: deleting is the user's own choice, and the
        next start opens no file). Turning `keep` on takes effect at the next start."""
        if not keep:
            self.close()
        elif days and self._writer is not None:
            self._writer.forget_older_than(time.time() - days * DAY)

    def _open(self, path: Path) -> None:
        try:
            database = HistoryDatabase.open(path)
        except HistoryUnavailable as error:
            log.warning("history: not kept this run (%s)", error.reason.value)
            self.problem = unavailable_sentence(error.reason)
            return
        try:
            self._reader = database.connect()
        except sqlite3.Error as error:
            log.warning("history: cannot be read (%s)", error)
            database.close()
            self.problem = unavailable_sentence(Unavailable.UNWRITABLE)
            return
        self._database = database
        self._writer = HistoryWriter(database)
        self._writer.start()
        if database.set_aside is not None:
            self.problem = set_aside_sentence(database.set_aside)

    @property
    def keeping(self) -> bool:
        return self._writer is not None and self._writer.failed is None

    @property
    def path(self) -> Path | None:
        """The database file, while this window keeps history (searches read it)."""
        return self._database.path if self._database is not None else None

    @property
    def writer(self) -> HistoryWriter | None:
        return self._writer

    def close(self) -> None:
        """Write what is queued, stop and join the writer, give the file back. Safe to repeat."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.stop()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._database is not None:
            self._database.close()
            self._database = None

    # -- the clients: what we typed, until the host takes it --------------------------------------

    def clients(self, make: ClientFactory) -> ClientFactory:
        """`make`, with each client's sent messages remembered for `tap`."""

        def factory(transport: Transport, config: ClientConfig, sink: EventSink) -> ChatClient:
            return _RememberingClient(make(transport, config, sink), self._remember)

        return factory

    def _remember(self, local_id: str, text: str, to: str | None, action: bool) -> None:
        if len(self._sent) >= MAX_UNACKNOWLEDGED:
            del self._sent[next(iter(self._sent))]
        self._sent[local_id] = (text, to, action)

    # -- the events ------------------------------------------------------------------------------

    def tap(self, session: object, batch: list[object]) -> list[object]:
        """Keep what `batch` (of the session `session`) shows; returns the batch to show."""
        if session is not self._session_token:
            self._session_token, self._session = session, _Session()
            self.generation += 1
        self._latest = {}
        self._check_writer()
        if not self.keeping or not batch:
            return batch
        kept: list[store.NewMessage] = []
        shown: list[object] = []
        for event in batch:
            match event:
                case HostVerified(fingerprint=fingerprint):
                    self._session.code = room_code(fingerprint)
                case ev.Welcome() if self._session.code is not None:
                    event = self._welcomed(event, kept)
                case ev.ChatMessage() if self._session.welcomed:
                    self._keep(event, kept)
                case Delivered(local_id=local_id, msg_id=msg_id, time=when) if local_id in self._sent:
                    self._keep_own(local_id, msg_id, when, kept)
                case ev.Held(id=local_id, msg_id=msg_id, time=when) if local_id in self._sent:
                    self._keep_own(local_id, msg_id, when, kept)  # taken by the host, kept for `to`
                case ev.Renamed(old=old, new=new) if key_of(old) == key_of(self._session.nick):
                    self._session.nick = new
            shown.append(event)
        for message in kept:
            self._latest[message.conversation] = min(
                message.time, self._latest.get(message.conversation, message.time)
            )
        if kept and self._writer is not None:
            self._writer.append_many(kept)
        return shown

    def _keep_own(self, local_id: str, msg_id: str, when: float, kept: list[store.NewMessage]) -> None:
        text, to, action = self._sent.pop(local_id)
        self._keep(ev.ChatMessage(msg_id, self._session.nick, text, when, to, action), kept)

    def _welcomed(self, welcome: ev.Welcome, kept: list[store.NewMessage]) -> ev.Welcome:
        first = not self._session.welcomed
        self._session.nick, self._session.room, self._session.welcomed = welcome.nick, welcome.room, True
        replayed = [m for m in welcome.history if m.to is None]
        for message in replayed:
            self._keep(message, kept)
        if not first:
            return welcome
        key = store.room_key(self._session.code or "")
        page = self.older(key, None)
        earlier = [ev.ChatMessage(m.message_id, m.sender, m.body, m.time, None, m.action) for m in page]
        known = {m.id for m in replayed}
        merged = [m for m in earlier if m.id not in known] + replayed
        merged.sort(key=lambda m: m.time)
        shown = merged[-store.PAGE :]
        if len(page) == store.PAGE or len(merged) > len(shown):  # there may be more: paging up starts here
            stored = {m.message_id: m for m in page}
            oldest = shown[0]
            self._session.room_start = stored.get(oldest.id) or _bound(key, oldest.time)
        return dataclasses.replace(welcome, history=tuple(shown))

    # -- IP Messenger conversations (gui.ipmsg_link) ------------------------------------------------

    def keep_ipmsg(self, key: str, title: str, message_id: str, when: float, sender: str, body: str,
                   own: bool, opening: bool = False) -> None:  # fmt: skip
        """Keep a message of the IP Messenger conversation `key` (``ipmsg:ADDRESS``), before
        its tab shows it. `opening`: it opens the tab, which then pages up from before it, as
        a private pane does (`start_of` takes that bound once: a tab opened later by hand
        shows everything kept)."""
        self._check_writer()
        if not self.keeping or self._writer is None:
            return
        if opening:
            self._latest[key] = when
        else:
            self._latest.pop(key, None)
        self._writer.append_many(
            [store.NewMessage(key, title, message_id, when, sender, body, own, False, title)]
        )

    @staticmethod
    def session_bound(conversation: str | None) -> bool:
        """Whether what is kept of `conversation` depends on the session (an IP Messenger
        one does not: the same key in every session)."""
        return conversation is None or not conversation.startswith(store.IPMSG_PREFIX)

    # -- reading: what scrolling up shows ----------------------------------------------------------

    def conversation_key(self, conversation: str | None) -> str | None:
        """The kept conversation shown as `conversation` (the model's key: None for the room,
        else the peer's nick key) in this session; None before the host proved its key."""
        if not self.session_bound(conversation):
            return conversation if self.keeping else None
        code = self._session.code
        if code is None or not self._session.welcomed:
            return None
        return store.room_key(code) if conversation is None else store.private_key(code, conversation)

    def start_of(self, conversation: str | None) -> tuple[store.StoredMessage | None, bool]:
        """Where a pane of `conversation` opened now pages up from, and whether the welcome
        already showed that page (the room's does; a private pane shows its first page above
        a divider, older than what the last batch brought, which the pane shows already)."""
        key = self.conversation_key(conversation)
        if conversation is None:
            return self._session.room_start, True
        if not self.session_bound(conversation):
            latest = self._latest.pop(key or "", None)  # an IP Messenger tab: taken once
        else:
            latest = self._latest.get(key or "")
        return (None if latest is None else _bound(key or "", latest)), False

    def around(self, row: int) -> list[store.StoredMessage]:
        """The messages around the kept message `row` (a search result's preview)."""
        if self._reader is None:
            return []
        try:
            return store.around(self._reader, row, limit=21)
        except sqlite3.Error as error:
            log.warning("history: cannot be read (%s)", error)
            return []

    def older(
        self, key: str, before: store.StoredMessage | None, limit: int = store.PAGE
    ) -> list[store.StoredMessage]:
        """Up to `limit` kept messages of conversation `key` older than `before`, oldest first
        (a page costs under 3 ms at a million messages: fine on the main thread)."""
        if self._reader is None or limit <= 0:
            return []
        try:
            return store.page(self._reader, key, before, limit)
        except sqlite3.Error as error:
            log.warning("history: cannot be read (%s)", error)
            return []

    def _keep(self, message: ev.ChatMessage, kept: list[store.NewMessage]) -> None:
        session = self._session
        if session.code is None:
            return
        own = key_of(message.sender) == key_of(session.nick)
        if message.to is None:
            key, title, peer = store.room_key(session.code), session.room, None
        else:
            peer = message.to if own else message.sender
            key, title = store.private_key(session.code, key_of(peer)), peer
        kept.append(
            store.NewMessage(
                key, title, message.id, message.time, message.sender, message.text, own, message.action, peer
            )
        )

    def _check_writer(self) -> None:
        writer = self._writer
        if writer is not None and writer.failed is not None and not self._told_failure:
            self._told_failure = True
            self._on_problem(unavailable_sentence(writer.failed))


def _bound(key: str, time: float) -> store.StoredMessage:
    """A bound for `store.page`: what was said before `time` (a message shown whose row is unknown)."""
    return store.StoredMessage(0, key, "", time, "", "", False, False)


class _RememberingClient(ClientWrapper):
    """A `ChatClient` that tells the keeper what each sent message said (main thread)."""

    def __init__(self, client: ChatClient, remember: Callable[[str, str, str | None, bool], None]) -> None:
        super().__init__(client)
        self._remember = remember

    def send_message(self, text: str, *, to: str | None = None, action: bool = False) -> str:
        local_id = self._client.send_message(text, to=to, action=action)
        self._remember(local_id, text, to, action)
        return local_id
