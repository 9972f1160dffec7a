"""Between the window and the network: what the user does comes in, what to show goes out. No Tk.

The controller owns the window's chat session: the `ChatClient` (and the `ChatHost` when this
PC hosts) with its `ChatModel`. Views call its methods for what the user does (`host`, `join`,
`submit`, `open_private`, `leave`); the `BridgePump` feeds it batches of network events
(`handle`; `tap` sees them first: the history), which the model reduces into `Changes` shown
through the typed `ChatViewPort` and on the `Shell` (`gui.ports`): small protocols, so the
controller is tested with plain fakes, without a window or a network (the model on its own).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from gui import chat_wording as words
from gui import commands as cmd
from gui.host_start import host_config, host_failure
from gui.joining import NICKNAME_FAILURES, AskPassword, JoinRequest, WarnKey, follow_up, join_request
from gui.model.changes import Changes
from gui.model.chat import ChatModel
from gui.model.values import Line, Status
from gui.ports import ChatViewPort, ClientFactory, HostFactory, Shell
from gui.presenter import show_changes
from gui.session_gate import SessionGate
from gui.settings import SettingError, Settings, check_nickname, check_password, check_port, check_room_name
from gui.trust import Trust
from gui.wording import not_connected_sentence, not_started_sentence, send_refused_sentence
from hosting import start_discoverable_host
from net.addresses import AddressError
from net.api import ChatClient, ChatHost, ClientState, EventSink, HostStartError, Transport
from net.client.errors import MessageTooLong, SendRefused
from net.paths import config_dir
from net.protocol import events as ev
from net.protocol.limits import MAX_TEXT_CHARS
from net.secure import IdentityError
from net.transports import make_client, make_host

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Session:
    """One join (or host + join), from the click to leaving."""

    client: ChatClient
    host: ChatHost | None
    model: ChatModel


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
        clock: Callable[[], float] = time.time,
        trust: Trust | None = None,
    ) -> None:
        self.settings = settings
        self.shell = shell
        self._gate = SessionGate(post)  # each session's events, none of an ended one
        self._make_client = client_factory
        self._make_host = host_factory
        self._clock = clock  # the model's one clock: dates lines, typing notices, the countdown
        self.trust = trust or Trust(config_dir())  # this PC's identity, the rooms' pinned keys
        self.client_id = secrets.token_hex(8)  # one per program run: the host marks us by it
        self.resume_secret = secrets.token_urlsafe(24)  # proves it when we rejoin (sent inside TLS)
        self.request: JoinRequest | None = None  # the last join, to try again after a failure
        self.session: _Session | None = None
        self.view: ChatViewPort | None = None
        self.suggested_port: int | None = None  # offered after the chosen port was taken
        self.tap: Callable[[object, list[object]], list[object]] = lambda _session, batch: batch

    # -- starting and ending ----------------------------------------------------------------

    @property
    def hosting(self) -> bool:
        return self.session is not None and self.session.host is not None

    @property
    def nick(self) -> str:
        return self.session.model.nick if self.session else self.settings.nickname

    def status(self) -> Status:
        """What the status bar shows now."""
        return self.session.model.status() if self.session else Status()

    def host(
        self, nickname: str, room_name: str, port: int | str, *, port_given: bool = True, password: str = ""
    ) -> str | None:
        """Host a discoverable chat on this PC and join it; returns a sentence when that cannot be done.

        Without `port_given` (the user kept the default port) a port taken by another host on
        this PC is skipped for the next free one. With it, a taken port is refused and the
        next free port is offered in `suggested_port`. A `password` keeps out whoever lacks it.
        """
        self.suggested_port = None
        try:
            nick = check_nickname(nickname)
            room = check_room_name(room_name)
            port = check_port(port)
            password = check_password(password, required=False)
            identity = self.trust.identity()
        except SettingError as exc:
            return str(exc)
        except IdentityError as exc:
            return not_started_sentence(exc)
        self.end_session()
        transport = Transport(self.settings.transport)
        config = host_config(
            self.settings, port, room, owner=self.client_id, identity=identity, password=password
        )
        try:
            host = start_discoverable_host(
                transport,
                config,
                self._gate.sink(),
                port_given=port_given,
                nick=nick,
                make_host=self._make_host,
            )
        except HostStartError as exc:
            log.info("could not host on port %s: %s", port, exc)
            sentence, self.suggested_port = host_failure(exc, transport, port, port_given)
            return sentence
        self.settings.nickname, self.settings.room_name = nick, room
        self.shell.save_settings()
        own = JoinRequest(nick, "127.0.0.1", host.port, transport, identity.code, password or None)
        model = self._start_client(own, host)
        if host.port != port:
            model.notes.append(words.port_moved(port, host.port))
        return None

    def join(self, nickname: str, address: str, transport: Transport | None = None) -> str | None:
        """Join the chat at `address` (``host[:port]`` or an invite link); returns a sentence
        when that cannot be done.

        An invite's transport counts first, then `transport` (announced by a chat found on the
        LAN), then the setting. The host must show the key the invite's code names, or else
        the key pinned for that address (the first time, the key shown is pinned).
        """
        try:
            nick = check_nickname(nickname)
            request = join_request(
                nick, address, self.settings.default_port, transport or Transport(self.settings.transport)
            )
        except SettingError as exc:
            return str(exc)
        except AddressError:
            return words.address_problem(address)
        self.end_session()
        self.settings.nickname = nick
        self.settings.remember_host(address.strip())
        self.shell.save_settings()
        self._start_client(request, None)
        return None

    def rejoin(self, *, code: str | None = None, password: str | None = None) -> None:
        """Join the last chat again, expecting the code the user accepted after a key
        warning, or with the password they typed."""
        if self.request is not None:
            self.end_session()
            self._start_client(self.request.again(code=code, password=password), None)

    def _start_client(self, request: JoinRequest, own_host: ChatHost | None) -> ChatModel:
        self.request = request
        config = request.client_config(
            client_id=self.client_id,
            resume_secret=self.resume_secret,
            trust=self.trust,
        )
        client = self._make_client(request.transport, config, self._gate.sink())
        status = Status(
            state=ClientState.CONNECTING,
            transport=request.transport.value.upper(),
            address=request.address,
            port=request.port,
            hosting=own_host is not None,
        )
        model = ChatModel(request.nick, status, clock=self._clock)
        self.session = _Session(client=client, host=own_host, model=model)
        client.start()
        return model

    def end_session(self, reason: str = "") -> None:
        """Leave the chat (and stop hosting): bye to the host, threads joined. Safe to repeat."""
        session, self.session = self.session, None
        self.view = None
        self._gate.close()
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
        match cmd.parse_input(text):
            case cmd.Nothing():
                return False
            case cmd.SendText(text=body, action=action):
                return self._send(body, conversation, session.model.peer(conversation), action)
            case cmd.PrivateMessage(nick=nick, text=body):
                if (key := self.open_private(nick)) is None:  # refused before a tab opens
                    return self._error(conversation, words.nobody_called(nick))
                return self._send(body, key, session.model.peer(key)) if body else True
            case cmd.Rename(nick=new):
                return self.rename(new, conversation)
            case cmd.Clear():
                if self.view is not None:
                    self.view.clear(conversation)
            case cmd.Help():
                self._show(
                    conversation, *(Line("system", text, self._clock()) for text in words.help_lines())
                )
            case cmd.Quit():
                self.shell.quit()
            case cmd.Usage(name=name):
                return self._error(conversation, words.usage(name))
            case cmd.Unknown(name=name):
                return self._error(conversation, words.unknown_command(name))
        return True

    def rename(self, new: str, conversation: str | None = None) -> bool:
        session = self.session
        if session is None:
            return False
        try:
            nick = check_nickname(new)
        except SettingError as exc:
            return self._error(conversation, str(exc))
        session.client.rename(nick)
        self.settings.nickname = nick
        self.shell.save_settings()
        return True

    def open_private(self, nick: str, focus: bool = True) -> str | None:
        """Open (or show) the private conversation with `nick`; its key (None: nobody has that name)."""
        assert self.session is not None
        opened = self.session.model.open_private(nick, focus)
        if opened is not None and self.view is not None:
            self.view.open_private(*opened)
        return opened.key if opened else None

    def close_private(self, key: str) -> None:
        if self.session is not None:
            self.session.model.close_private(key)

    def typing(self, active: bool, conversation: str | None) -> None:
        session = self.session
        if session is not None and session.model.welcomed:
            session.client.set_typing(active, session.model.peer(conversation))

    def _send(self, text: str, conversation: str | None, to: str | None, action: bool = False) -> bool:
        session = self.session
        assert session is not None
        try:
            if len(text) > MAX_TEXT_CHARS:  # the client refuses it too; said even when disconnected
                raise MessageTooLong(MAX_TEXT_CHARS)
            if session.client.state is ClientState.DISCONNECTED:
                return self._error(conversation, not_connected_sentence())
            local_id = session.client.send_message(text, to=to, action=action)
        except SendRefused as refusal:
            log.info("message not queued: %s", refusal)
            return self._error(conversation, send_refused_sentence(refusal))
        self._show(conversation, session.model.queued(local_id, text, to, action))
        return True

    # -- events from the network (main thread, through the bridge) ----------------------------

    def handle(self, batch: list[object]) -> None:
        """Apply a batch of network events: the model reduces them, then each panel is refreshed once."""
        session, batch = self.session, self.tap(self.session, self._gate.fresh(batch))
        if session is None or not batch:
            return
        changes = session.model.apply(batch)
        if changes.verified is not None and session.host is None and self.request is not None:
            self.trust.verified(self.request.where, changes.verified)
        if changes.failed is not None:
            self.end_session()
            self.shell.show_start(changes.failed, nickname_wrong=changes.failure in NICKNAME_FAILURES)
            self._follow_up(changes)
            return
        if changes.opened:
            self.view = self.shell.show_chat()
            self.settings.nickname = session.model.nick  # the host may have changed it
        if self.view is None:
            return
        show_changes(self.view, session.model, changes)
        if changes.attention:
            self.shell.attention(changes.attention, changes.mention, changes.incoming)

    def _follow_up(self, changes: Changes) -> None:
        """A first join failed: ask for the room's password, or warn of a changed key."""
        match follow_up(changes.failure, changes.rejected, self.request):
            case WarnKey(warning=warning):
                self.shell.warn_key(warning)
            case AskPassword(address=address, wrong=wrong):
                self.shell.ask_password(address, wrong)

    def tick(self) -> None:
        """The app calls this twice a second: forget stale typing notices, count a reconnect down."""
        session = self.session
        if session is None:
            return
        expired = session.model.expire_typing()
        counting = session.model.status().state is ClientState.RECONNECTING
        if self.view is not None and (expired or counting):
            show_changes(self.view, session.model, Changes(typing=expired, status=counting))

    def members(self) -> list[ev.MemberInfo]:
        """The member list: the host first, then by name."""
        return self.session.model.sorted_members() if self.session else []

    # -- helpers -------------------------------------------------------------------------------

    def _show(self, conversation: str | None, *lines: Line) -> None:
        if self.view is not None:
            self.view.add_lines(conversation, list(lines))

    def _error(self, conversation: str | None, text: str) -> bool:
        """Show `text` as an error line; False (the input is kept, for fixing)."""
        self._show(conversation, Line("error", text, self._clock()))
        return False
