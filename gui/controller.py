"""Between the window and the network: user actions in, view updates out. No Tk here.

The controller owns the chat session of the window: the `ChatClient` (and the `ChatHost`
when this PC hosts). Views call its methods for what the user does (`host`, `join`,
`submit`, `open_private`, `leave`); the `BridgePump` feeds it batches of network events
(`handle`), which it turns into calls on the `ChatViewPort` (lines to show, members, status)
and on the `Shell` (switch views, quit, attention). Both ports are small protocols, so the
controller is tested with plain fakes, without a window or a network.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from gui import commands as cmd
from gui.i18n import tr
from gui.model.nicks import key_of as nick_key
from gui.model.nicks import mentions
from gui.model.values import ROOM, Line, Overflowed, Status
from gui.settings import SettingError, Settings, check_nickname, check_port, check_room_name
from gui.wording import failure_sentence, host_error_sentence, port_in_use, send_refused_sentence
from net.addresses import AddressError, format_address, parse_address
from net.api import (
    ChatClient,
    ChatHost,
    ClientConfig,
    ClientState,
    Delivered,
    DeliveryFailed,
    EventSink,
    FailureKind,
    HostConfig,
    HostStartError,
    HostStopped,
    LatencyMeasured,
    StateChanged,
    Transport,
)
from net.client.errors import MessageTooLong, SendRefused
from net.discovery.hosting import start_discoverable_host
from net.ports import next_free_port
from net.protocol import events as ev
from net.protocol.limits import MAX_TEXT_CHARS
from net.room import RoomConfig
from net.transports import make_client, make_host

log = logging.getLogger(__name__)

#: Someone's "typing" notice is forgotten after this long without a refresh.
TYPING_EXPIRES = 8.0


class ChatViewPort(Protocol):
    """What the controller asks of the chat view (implemented by `gui.chat_view.ChatView`)."""

    def add_lines(self, conversation: str | None, lines: list[Line]) -> None: ...
    def mark_delivered(self, local_id: str) -> None: ...
    def mark_failed(self, local_id: str, note: str) -> None: ...
    def set_members(self, members: list[ev.MemberInfo], typing: set[str]) -> None: ...
    def set_typing(self, conversation: str | None, names: list[str]) -> None: ...
    def set_status(self, status: Status) -> None: ...
    def set_room(self, name: str, own_nick: str) -> None: ...
    def open_private(self, key: str, nick: str, focus: bool) -> None: ...
    def rename_private(self, old_key: str, new_key: str, nick: str) -> None: ...
    def clear(self, conversation: str | None) -> None: ...


class Shell(Protocol):
    """What the controller asks of the application window."""

    def show_chat(self) -> ChatViewPort: ...
    def show_start(self, error: str | None = None) -> None: ...
    def quit(self) -> None: ...
    def attention(self, count: int, mention: bool) -> None: ...
    def save_settings(self) -> None: ...


@dataclass(slots=True)
class _Pending:
    conversation: str | None
    to: str | None


@dataclass(slots=True)
class _Session:
    """One join (or host + join), from the click to leaving."""

    client: ChatClient
    host: ChatHost | None
    transport: Transport
    address: str
    nick: str
    welcomed: bool = False
    lost: bool = False  # shown "connection lost" since the last welcome
    room: str = ""
    members: dict[str, ev.MemberInfo] = field(default_factory=dict)
    room_typing: dict[str, float] = field(default_factory=dict)  # nick -> when it was last heard
    private_typing: dict[str, float] = field(default_factory=dict)  # key of sender -> when
    privates: dict[str, str] = field(default_factory=dict)  # key -> nick shown
    pending: dict[str, _Pending] = field(default_factory=dict)
    status: Status = field(default_factory=Status)
    notes: list[str] = field(default_factory=list)  # shown once the chat view is up


ClientFactory = Callable[[Transport, ClientConfig, EventSink], ChatClient]
HostFactory = Callable[[Transport, HostConfig, EventSink], ChatHost]


class Controller:
    """The window's chat session. Main thread only (events arrive through the bridge)."""

    def __init__(
        self,
        settings: Settings,
        shell: Shell,
        post: EventSink,
        *,
        client_factory: ClientFactory = make_client,
        host_factory: HostFactory = make_host,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.shell = shell
        self._post = post
        self._make_client = client_factory
        self._make_host = host_factory
        self._clock = clock
        self.client_id = secrets.token_hex(8)  # one per program run: the host marks us by it
        self.session: _Session | None = None
        self.view: ChatViewPort | None = None
        self.suggested_port: int | None = None  # offered after the chosen port was taken

    # -- starting and ending ----------------------------------------------------------------

    @property
    def hosting(self) -> bool:
        return self.session is not None and self.session.host is not None

    @property
    def nick(self) -> str:
        return self.session.nick if self.session else self.settings.nickname

    def host(self, nickname: str, room_name: str, port: int | str, *, port_given: bool = True) -> str | None:
        """Host a discoverable chat on this PC and join it; returns a sentence when that cannot be done.

        Without `port_given` (the user kept the default port) a port taken by another host on
        this PC is skipped for the next free one. With it, a taken port is refused and the
        next free port is offered in `suggested_port`.
        """
        self.suggested_port = None
        try:
            nick = check_nickname(nickname)
            room = check_room_name(room_name)
            port = check_port(port)
        except SettingError as exc:
            return str(exc)
        self.end_session()
        transport = Transport(self.settings.transport)
        config = HostConfig(port=port, room=RoomConfig(name=room, owner_client_id=self.client_id))
        try:
            host = start_discoverable_host(
                transport, config, self._post, port_given=port_given, nick=nick, make_host=self._make_host
            )
        except HostStartError as exc:
            log.info("could not host on port %s: %s", port, exc)
            self.suggested_port = _next_free_port(transport, port + 1) if port_given else None
            sentence = host_error_sentence(exc, port)
            if self.suggested_port is not None and port_in_use(exc):
                sentence += " " + tr("Port {port} is free: press “Host a chat” again to use it.").format(
                    port=self.suggested_port
                )
            return sentence
        self.settings.nickname, self.settings.room_name = nick, room
        self.shell.save_settings()
        self._start_client(transport, "127.0.0.1", host.port, nick, host)
        assert self.session is not None
        if host.port != port:
            self.session.notes.append(
                tr("Port {port} is used by another chat on this PC, so this chat uses port {new}.").format(
                    port=port, new=host.port
                )
            )
        return None

    def join(self, nickname: str, address: str, transport: Transport | None = None) -> str | None:
        """Join the chat at `address` (``host[:port]``); returns a sentence when that cannot be done.

        `transport` is the one a chat found on the LAN announced; else the setting decides.
        """
        try:
            nick = check_nickname(nickname)
        except SettingError as exc:
            return str(exc)
        try:
            host_name, port = parse_address(address, self.settings.default_port)
        except AddressError:
            if not address.strip():
                return tr("Please enter the address of the PC that hosts the chat.")
            return tr(
                "“{address}” is not an address. Type a name or IP address, "
                "optionally followed by :port (for example 192.168.1.20:47800)."
            ).format(address=address.strip())
        self.end_session()
        self.settings.nickname = nick
        self.settings.remember_host(address.strip())
        self.shell.save_settings()
        self._start_client(transport or Transport(self.settings.transport), host_name, port, nick, None)
        return None

    def _start_client(
        self, transport: Transport, host: str, port: int, nick: str, own_host: ChatHost | None
    ) -> None:
        config = ClientConfig(host=host, port=port, nick=nick, client_id=self.client_id)
        client = self._make_client(transport, config, self._post)
        address = format_address(host, port)
        session = _Session(client=client, host=own_host, transport=transport, address=address, nick=nick)
        session.status = Status(
            state=ClientState.CONNECTING,
            transport=transport.value.upper(),
            address=address,
            port=port,
            hosting=own_host is not None,
        )
        self.session = session
        client.start()

    def end_session(self, reason: str = "") -> None:
        """Leave the chat (and stop hosting): bye to the host, threads joined. Safe to repeat."""
        session, self.session = self.session, None
        self.view = None
        if session is None:
            return
        try:
            session.client.close(reason or "left the chat")
        finally:
            if session.host is not None:
                session.host.stop("the host closed the chat")

    def leave(self) -> None:
        """The user left the chat: back to the start view."""
        self.end_session()
        self.shell.show_start()

    def cancel(self) -> None:
        """Stop a connection attempt that has not succeeded yet."""
        self.end_session()

    # -- what the user does in the chat view -------------------------------------------------

    def submit(self, text: str, conversation: str | None) -> bool:
        """Act on what the user typed; True when the input box should be emptied."""
        session = self.session
        if session is None:
            return False
        parsed = cmd.parse_input(text)
        match parsed:
            case cmd.Nothing():
                return False
            case cmd.SendText(text=body, action=action):
                to = session.privates.get(conversation) if conversation is not None else None
                return self._send(body, conversation, to, action)
            case cmd.PrivateMessage(nick=nick, text=body):
                key = self.open_private(nick)
                return self._send(body, key, session.privates[key]) if body else True
            case cmd.Rename(nick=new):
                return self.rename(new, conversation)
            case cmd.Clear():
                self._view_call("clear", conversation)
            case cmd.Help():
                self._system(conversation, tr("Commands:"))
                for name, (_argument, description) in cmd.COMMANDS.items():
                    self._system(conversation, f"{cmd.usage(name)} — {tr(description)}")
                self._system(
                    conversation, tr("Start a line with // to send it as it is (//help sends /help).")
                )
            case cmd.Quit():
                self.shell.quit()
            case cmd.Usage(name=name):
                self._error(conversation, tr("Usage: {usage}").format(usage=cmd.usage(name)))
                return False
            case cmd.Unknown(name=name):
                self._error(
                    conversation,
                    tr("There is no command /{name}. Type /help to see the commands.").format(name=name),
                )
                return False
        return True

    def rename(self, new: str, conversation: str | None = None) -> bool:
        session = self.session
        if session is None:
            return False
        try:
            nick = check_nickname(new)
        except SettingError as exc:
            self._error(conversation, str(exc))
            return False
        session.client.rename(nick)
        self.settings.nickname = nick
        self.shell.save_settings()
        return True

    def open_private(self, nick: str, focus: bool = True) -> str:
        """Open (or show) the private conversation with `nick`; returns its key."""
        assert self.session is not None
        key = nick_key(nick)
        member = self.session.members.get(key)
        shown = member.nick if member else self.session.privates.get(key, nick)
        self.session.privates[key] = shown
        self._view_call("open_private", key, shown, focus)
        return key

    def close_private(self, key: str) -> None:
        if self.session is not None:
            self.session.privates.pop(key, None)
            self.session.private_typing.pop(key, None)

    def typing(self, active: bool, conversation: str | None) -> None:
        session = self.session
        if session is None or not session.welcomed:
            return
        to = session.privates.get(conversation) if conversation is not None else None
        session.client.set_typing(active, to)

    def _send(self, text: str, conversation: str | None, to: str | None, action: bool = False) -> bool:
        session = self.session
        assert session is not None
        try:
            if len(text) > MAX_TEXT_CHARS:  # the client refuses it too; said even when disconnected
                raise MessageTooLong(MAX_TEXT_CHARS)
            if session.client.state is ClientState.DISCONNECTED:
                self._error(conversation, tr("You are not connected, so nothing can be sent."))
                return False
            local_id = session.client.send_message(text, to=to, action=action)
        except SendRefused as refusal:
            log.info("message not queued: %s", refusal)
            self._error(conversation, send_refused_sentence(refusal))
            return False
        session.pending[local_id] = _Pending(conversation, to)
        line = Line(
            "action" if action else "message", text.rstrip(), time.time(), session.nick, True, local_id
        )
        self._view_call("add_lines", conversation, [line])
        return True

    # -- events from the network (main thread, through the bridge) ----------------------------

    def handle(self, batch: list[object]) -> None:
        """Apply a batch of network events: lines per conversation, then one refresh of each panel."""
        session = self.session
        if session is None:
            return
        lines: dict[str | None, list[Line]] = {}
        dirty = _Dirty()
        for event in batch:
            try:
                self._apply(session, event, lines, dirty)
            except Exception:
                log.exception("could not show %r", event)
            if self.session is not session:
                return  # the session ended (e.g. a final failure sent us back to the start view)
        view = self.view
        if view is None:
            return
        for conversation, new_lines in lines.items():
            if conversation is not None and conversation not in session.privates:
                continue  # the tab was closed meanwhile
            view.add_lines(conversation, new_lines)
        if dirty.members or dirty.typing:
            self._refresh_members()
        if dirty.typing:
            self._refresh_private_typing()
        if dirty.status:
            view.set_status(session.status)
        if dirty.attention:
            self.shell.attention(dirty.attention, dirty.mention)

    def _apply(
        self, session: _Session, event: object, lines: dict[str | None, list[Line]], dirty: _Dirty
    ) -> None:
        def add(conversation: str | None, line: Line) -> None:
            lines.setdefault(conversation, []).append(line)

        now = time.time()
        match event:
            case ev.ChatMessage():
                self._chat_message(session, event, add, dirty)
            case ev.Welcome():
                self._welcomed(session, event, add, dirty)
            case StateChanged():
                self._state_changed(session, event, add, dirty)
            case Delivered(local_id=local_id):
                session.pending.pop(local_id, None)
                self._view_call("mark_delivered", local_id)
            case DeliveryFailed(local_id=local_id, reason=reason):
                pending = session.pending.pop(local_id, None)
                log.info("message %s not delivered: %s", local_id, reason)
                note = tr("not delivered")
                if pending and pending.to and nick_key(pending.to) not in session.members:
                    note = tr("not delivered: {nick} is not in the chat").format(nick=pending.to)
                elif session.status.state is not ClientState.CONNECTED:
                    note = tr("not delivered: not connected")
                self._view_call("mark_failed", local_id, note)
            case ev.Joined(nick=nick, time=when, host=is_host):
                session.members[nick_key(nick)] = ev.MemberInfo(nick, is_host, when)
                text = (
                    tr("{nick} joined the chat.") if not is_host else tr("{nick} (the host) joined the chat.")
                )
                add(ROOM, Line("system", text.format(nick=nick), when))
                dirty.members = True
            case ev.Left(nick=nick, time=when):
                key = nick_key(nick)
                session.members.pop(key, None)
                session.room_typing.pop(nick, None)
                session.private_typing.pop(key, None)
                add(ROOM, Line("system", tr("{nick} left the chat.").format(nick=nick), when))
                if key in session.privates:
                    add(key, Line("system", tr("{nick} left the chat.").format(nick=nick), when))
                dirty.members = dirty.typing = True
            case ev.Renamed(old=old, new=new, time=when):
                self._renamed(session, old, new, when, add)
                dirty.members = True
            case ev.Members(members=members):
                session.members = {nick_key(m.nick): m for m in members}
                dirty.members = True
            case ev.TypingNotice(nick=nick, active=active, to=to):
                table, who = (
                    (session.room_typing, nick) if to is None else (session.private_typing, nick_key(nick))
                )
                if active:
                    table[who] = self._clock()
                else:
                    table.pop(who, None)
                dirty.typing = True
            case ev.Error(code=code, text=text):
                add(ROOM, Line("error", _error_sentence(code, text), now))
            case LatencyMeasured(seconds=seconds):
                session.status.rtt = seconds
                dirty.status = True
            case HostStopped(reason=reason):
                if session.host is not None:
                    add(
                        ROOM,
                        Line(
                            "error",
                            tr("The chat hosted on this PC stopped ({reason}).").format(reason=reason),
                            now,
                        ),
                    )
            case Overflowed(count=count):
                add(
                    ROOM,
                    Line(
                        "error",
                        tr("{count} messages were skipped because the window fell behind.").format(
                            count=count
                        ),
                        now,
                    ),
                )

    def _chat_message(self, session: _Session, message: ev.ChatMessage, add, dirty: _Dirty) -> None:
        own = nick_key(message.sender) == nick_key(session.nick)
        conversation: str | None = ROOM
        if message.to is not None:
            other = message.to if own else message.sender
            conversation = nick_key(other)
            if conversation not in session.privates:
                self.open_private(other, focus=False)
            session.private_typing.pop(conversation, None)
            dirty.typing = True
        elif message.sender in session.room_typing:
            session.room_typing.pop(message.sender, None)
            dirty.typing = True
        kind = "action" if message.action else "message"
        add(conversation, Line(kind, message.text, message.time, message.sender, own))
        if not own:
            dirty.attention += 1
            if message.to is not None or mentions(message.text, session.nick):
                dirty.mention = True

    def _welcomed(self, session: _Session, welcome: ev.Welcome, add, dirty: _Dirty) -> None:
        first = not session.welcomed
        session.welcomed = True
        session.lost = False
        session.nick = welcome.nick
        session.room = welcome.room
        session.members = {nick_key(m.nick): m for m in welcome.members}
        if first:
            self.view = self.shell.show_chat()
            self.view.set_room(welcome.room, welcome.nick)
            if welcome.nick != self.settings.nickname:
                self.settings.nickname = welcome.nick
            text = tr("You joined “{room}” as {nick}.").format(room=welcome.room, nick=welcome.nick)
            for note in session.notes:
                add(ROOM, Line("system", note, time.time()))
        else:
            self._view_call("set_room", welcome.room, welcome.nick)
            text = tr("Reconnected to “{room}”.").format(room=welcome.room)
        for message in welcome.history:
            own = nick_key(message.sender) == nick_key(welcome.nick)
            if message.to is None:
                add(
                    ROOM,
                    Line(
                        "action" if message.action else "message",
                        message.text,
                        message.time,
                        message.sender,
                        own,
                    ),
                )
        add(ROOM, Line("system", text, time.time()))
        dirty.members = dirty.status = True

    def _state_changed(self, session: _Session, change: StateChanged, add, dirty: _Dirty) -> None:
        status = session.status
        status.state = change.state
        status.retry_at = self._clock() + change.retry_in if change.retry_in is not None else None
        status.reason = ""
        if change.state is not ClientState.CONNECTED and change.failure is not None:
            status.reason = failure_sentence(change.failure, session.address, change.reason)
        if change.state is not ClientState.CONNECTED:
            status.rtt = None
        dirty.status = True
        if change.state is ClientState.DISCONNECTED and not session.welcomed:
            log.info("could not join %s: %s (%s)", session.address, change.reason, change.failure)
            sentence = failure_sentence(change.failure, session.address, change.reason)
            self.end_session()
            self.shell.show_start(sentence)
            return
        if change.state is ClientState.RECONNECTING and not session.lost:
            session.lost = True
            session.room_typing.clear()
            session.private_typing.clear()
            dirty.typing = True
            add(ROOM, Line("error", status.reason or tr("The connection to the host was lost."), time.time()))
        elif change.state is ClientState.DISCONNECTED and change.failure is not FailureKind.CLOSED:
            add(ROOM, Line("error", status.reason or tr("Disconnected."), time.time()))

    def _renamed(self, session: _Session, old: str, new: str, when: float, add) -> None:
        old_key, new_key = nick_key(old), nick_key(new)
        member = session.members.pop(old_key, None)
        session.members[new_key] = ev.MemberInfo(
            new, member.host if member else False, member.since if member else when
        )
        if nick_key(session.nick) == old_key:
            session.nick = new
            self._view_call("set_room", session.room, new)
            add(ROOM, Line("system", tr("You are now known as {new}.").format(new=new), when))
            return
        text = tr("{old} is now known as {new}.").format(old=old, new=new)
        add(ROOM, Line("system", text, when))
        if old_key in session.privates:
            del session.privates[old_key]
            session.privates[new_key] = new
            self._view_call("rename_private", old_key, new_key, new)
            add(new_key, Line("system", text, when))
        if session.room_typing.pop(old, None) is not None:
            session.room_typing[new] = self._clock()

    # -- periodic ------------------------------------------------------------------------------

    def tick(self) -> None:
        """Forget stale typing notices (a member whose "stopped typing" was lost); called every second."""
        session = self.session
        if session is None:
            return
        limit = self._clock() - TYPING_EXPIRES
        stale_room = [nick for nick, seen in session.room_typing.items() if seen < limit]
        stale_private = [key for key, seen in session.private_typing.items() if seen < limit]
        for nick in stale_room:
            del session.room_typing[nick]
        for key in stale_private:
            del session.private_typing[key]
        if stale_room or stale_private:
            self._refresh_members()
            self._refresh_private_typing()

    # -- view helpers ----------------------------------------------------------------------------

    def members(self) -> list[ev.MemberInfo]:
        """The member list: the host first, then by name."""
        if self.session is None:
            return []
        return sorted(self.session.members.values(), key=lambda m: (not m.host, nick_key(m.nick)))

    def _refresh_members(self) -> None:
        session = self.session
        if session is not None and self.view is not None:
            typing = set(session.room_typing) | {
                session.privates.get(key, key) for key in session.private_typing
            }
            self.view.set_members(self.members(), typing)
            self.view.set_typing(ROOM, sorted(session.room_typing))

    def _refresh_private_typing(self) -> None:
        session = self.session
        if session is not None and self.view is not None:
            for key, nick in session.privates.items():
                self.view.set_typing(key, [nick] if key in session.private_typing else [])

    def _view_call(self, name: str, *args: object) -> None:
        if self.view is not None:
            getattr(self.view, name)(*args)

    def _system(self, conversation: str | None, text: str) -> None:
        self._view_call("add_lines", conversation, [Line("system", text, time.time())])

    def _error(self, conversation: str | None, text: str) -> None:
        self._view_call("add_lines", conversation, [Line("error", text, time.time())])


@dataclass(slots=True)
class _Dirty:
    members: bool = False
    typing: bool = False
    status: bool = False
    attention: int = 0  # messages from others in this batch
    mention: bool = False


def _next_free_port(transport: Transport, start: int) -> int | None:
    try:
        return next_free_port(transport, start)
    except OSError:
        return None


def _error_sentence(code: str, text: str) -> str:
    """A refusal from the host, worded for the user."""
    match code:
        case "nick_taken":
            return tr("Someone in this chat already uses that nickname.")
        case "nick_invalid":
            return tr("The host did not accept that nickname.")
        case "rate_limited":
            return tr("You are sending messages too fast; wait a moment.")
        case "no_such_member":
            return tr("That person is not in the chat.")
    return tr("The host refused a request: {text}").format(text=text)
