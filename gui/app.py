"""Application start-up and the window's hub: settings, theme, language, views, clean exit.

`run_app()` (called by main.py) builds a Tk root and an `App` and runs the main loop. `App`
switches between the start view and the chat view, owns the event bridge, its pump and the
timer that ticks the controller (typing notices expire, a reconnect counts down), and closes
everything in order when the window closes: leave the chat, stop the host if this PC
hosts (members are told), stop the pump, destroy the window. The packaging work hooks into
`run_app` (logging to a file, a crash dialog) without changing the rest.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
import tkinter as tk
import webbrowser
from collections.abc import Callable
from tkinter import ttk
from types import TracebackType

from gui.attention import Attention
from gui.bridge import BridgePump, EventBridge
from gui.bring_forward import bring_forward
from gui.chat_view import ChatView
from gui.conversation import ConversationPane
from gui.crash import install_tk_hooks
from gui.files.sharing import FileSharing
from gui.history_keeper import HistoryKeeper
from gui.history_search import SearchResults
from gui.i18n import current_language, set_language, tr
from gui.invite_panel import Invitation
from gui.ipmsg_controller import BridgedController
from gui.lifetime import destroy_now
from gui.model.changes import Incoming
from gui.model.values import ROOM, Line
from gui.notify.center import Notices, NotificationClicked
from gui.older_pages import OlderPages
from gui.ports import ClientFactory, HostFactory
from gui.search_dialog import HistorySearch
from gui.select_all import install_select_all
from gui.settings import Settings, SettingsStore, nickname_refused, parse_discovery_targets
from gui.settings_dialog import SettingsDialog
from gui.start_view import FoundEntry, StartView
from gui.takeover import Takeovers
from gui.theme import apply_theme
from gui.trust import KeyChoice, KeyWarning, Trust, code_to_rejoin
from gui.trust_dialogs import KeyWarningDialog, PasswordDialog
from hosting import invite_links, this_pc_addresses
from net.addresses import format_address
from net.api import Transport
from net.discovery import Browser, ChatFound, ChatLost, ChatUpdated
from net.paths import history_file
from net.transports import make_client, make_host

log = logging.getLogger(__name__)

APP_NAME = "LanChat"
GIL_SWITCH_INTERVAL = 0.0005
#: How often the controller's `tick` runs: the reconnect countdown is shown to the second.
TICK_MS = 500
DISCOVERY_EVENTS = (ChatFound, ChatUpdated, ChatLost)
NOT_FOR_THE_CONTROLLER = (*DISCOVERY_EVENTS, NotificationClicked, SearchResults)


def invitation(port: int, transport: Transport | str, code: str, plaintext_allowed: bool) -> Invitation:
    """What "Invite others" shows for a chat hosted here: the code, an invite per address
    (the same ones `main.py host` prints: `hosting.invite_links`)."""
    return Invitation(code, tuple(invite_links(port, transport, code)), plaintext_allowed)


class App:
    """The LanChat window."""

    def __init__(
        self,
        root: tk.Tk,
        store: SettingsStore | None = None,
        *,
        client_factory: ClientFactory = make_client,
        host_factory: HostFactory = make_host,
        on_exit: Callable[[], None] | None = None,
        open_link: Callable[[str], object] = webbrowser.open,
    ) -> None:
        # Network threads (and the host, when this PC hosts) share the process with the
        # window: a shorter GIL switch interval lets the main thread get the GIL back sooner
        # after each Tk call. Tkinter's main loop takes the GIL back after *every* Tcl event
        # (timer, redraw, X event), so while a network thread is busy, the wait between two
        # of our callbacks is several intervals: with 1 ms, 5-9 ms of sleeping before a pump
        # tick was measured during a 20,000-message burst; 0.5 ms brought the longest stall
        # from 13-18 ms down to 10-16 ms. The price: a busy network thread is interrupted
        # more often while the window works (at most 2,000 hand-overs a second).
        self._previous_switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_INTERVAL)
        self.root = root
        self.store = store or SettingsStore()
        loaded = self.store.load()
        self.settings: Settings = loaded.settings
        set_language(self.settings.language)
        self.palette = apply_theme(root, self.settings.theme, current_language(), self.settings.font_size)
        root.title(APP_NAME)
        root.minsize(640, 480)  # both views fit there (the start view lays itself out compactly)
        if not root.winfo_ismapped():
            root.geometry("1000x680")
        if "report_callback_exception" not in vars(root):
            # Keep a handler installed by whoever made the root (a crash dialog, the tests).
            root.report_callback_exception = self._report_callback_error
        self._on_exit = on_exit or root.destroy
        self.open_link = open_link
        self.closed = False

        self.bridge = EventBridge()
        keep, days = self.settings.keep_history, self.settings.history_days
        self.history = HistoryKeeper(history_file(), self._show_problem, keep=keep, days=days)
        self.files = FileSharing(root, self.settings, lambda: self.controller)
        self.takeovers = Takeovers(self.settings, lambda: self.controller.trust.identity(), host_factory)
        self.controller = BridgedController(  # a LanChat session + the IP Messenger bridge
            self.settings,
            self,
            self.bridge.post,
            client_factory=self.history.clients(self.files.clients(self.takeovers.clients(client_factory))),
            host_factory=host_factory,
            trust=Trust(self.store.directory),
        )
        self.controller.tap = self.takeovers.tap(self.files.tap(self.history.tap))
        self.older_pages = OlderPages(root, self.history, self._panes)
        self.search = HistorySearch(
            root, self.history, self.bridge.post, self.older_pages, self._panes, self._show
        )
        self.pump = BridgePump(root, self.bridge, self.handle_events)
        self.browser: Browser | None = None
        self.notifier = Attention(root, self.settings, self._base_title)
        self.notices = Notices(self.settings, self.bridge.post)  # desktop notifications
        self.frame = ttk.Frame(root)
        self.frame.pack(fill="both", expand=True)
        self.start_view: StartView | None = None
        self.chat_view: ChatView | None = None
        self.dialog: SettingsDialog | None = None
        self.trust_dialog: KeyWarningDialog | PasswordDialog | None = None
        self._hosting_plaintext = False  # the chat hosted here lets unencrypted members in
        self.notice = " ".join(filter(None, (loaded.notice(), self.history.problem)))
        self.show_start()
        if self.notice and self.start_view is not None:
            self.start_view.show_notice(self.notice)
        root.protocol("WM_DELETE_WINDOW", self.close)
        root.bind_all("<Control-q>", self._on_ctrl_q)
        install_select_all(root)  # Ctrl+A (Cmd+A) in every text field, Tk's Linux default notwithstanding
        self.pump.start()
        self._tick_after: str | None = root.after(TICK_MS, self._on_tick)

    def _panes(self) -> dict[str | None, ConversationPane]:
        return self.chat_view.panes if self.chat_view else {}

    def _show(self, pane: ConversationPane) -> None:
        if self.chat_view is not None:
            self.chat_view.notebook.select(pane)

    # -- Shell (called by the controller) ----------------------------------------------------

    def show_chat(self) -> ChatView:
        self._stop_browser()
        typed_ahead = self.start_view.take_typed_ahead() if self.start_view is not None else ""
        self._clear_views()
        status = self.controller.status()
        invite = None
        if self.controller.hosting:
            code = self.controller.trust.identity().code
            invite = invitation(status.port, status.transport.lower(), code, self._hosting_plaintext)
        self.chat_view = ChatView(
            self.frame,
            self.controller,
            self.settings,
            self.palette,
            open_settings=self.open_settings,
            invitation=invite,
            open_link=self.open_link,
        )
        self.chat_view.pack(fill="both", expand=True)
        self.chat_view.pane_added = self.older_pages.added
        self.files.attach(self.chat_view)
        self.chat_view.bind("<<RoomChanged>>", lambda _event: self.notifier.refresh_title())
        if typed_ahead:
            self.chat_view.input.insert("end", typed_ahead)  # typed while joining: not lost
        self.notifier.refresh_title()
        return self.chat_view

    def show_start(self, error: str | None = None, *, nickname_wrong: bool = False) -> None:
        self._clear_views()
        self.start_view = StartView(
            self.frame,
            self.settings,
            on_host=self.host_clicked,
            on_join=self.join_clicked,
            on_cancel=self.controller.cancel,
            on_settings=self.open_settings,
        )
        self.start_view.pack(fill="both", expand=True)
        self.start_view.show_error(error, nickname_wrong=nickname_wrong)
        self.start_view.set_this_pc(this_pc_addresses()[0])
        self.notifier.refresh_title()
        self._start_browser()

    def quit(self) -> None:
        self.close()

    def attention(self, count: int, mention: bool, incoming: list[Incoming]) -> None:
        self.notifier.notify(count, mention)
        view = self.chat_view
        front, room = (view.current_key(), view.room_name) if view is not None else (ROOM, "")
        self.notices.offer(incoming, self.controller.nick, room, self.notifier.focused, front)

    def save_settings(self) -> None:
        error = self.store.save(self.settings)
        if error:
            self._show_problem(error)

    def warn_key(self, warning: KeyWarning) -> None:
        self._close_trust_dialog()
        self.trust_dialog = KeyWarningDialog(self.root, warning, self._key_choice)

    def ask_password(self, address: str, wrong: bool) -> None:
        self._close_trust_dialog()
        self.trust_dialog = PasswordDialog(self.root, address, wrong, self._password_given)

    def _key_choice(self, warning: KeyWarning, choice: KeyChoice) -> None:
        self.trust_dialog = None
        code = code_to_rejoin(choice, warning)
        if code is not None:
            self._rejoin(code=code)

    def _password_given(self, password: str | None) -> None:
        self.trust_dialog = None
        if password is not None:  # else the start view keeps saying why the join failed
            self._rejoin(password=password)

    def _rejoin(self, *, code: str | None = None, password: str | None = None) -> None:
        view, request = self.start_view, self.controller.request
        if view is None or request is None or view.connecting:
            return
        self.controller.rejoin(code=code, password=password)
        view.show_connecting(tr("Connecting to {address}…").format(address=request.address))

    def _close_trust_dialog(self) -> None:
        dialog, self.trust_dialog = self.trust_dialog, None
        if dialog is not None and dialog.winfo_exists():
            destroy_now(dialog)

    # -- start view actions ------------------------------------------------------------------

    def host_clicked(self) -> None:
        view = self.start_view
        if view is None or view.connecting:
            return
        port_text = view.port_var.get().strip()
        port_given = port_text != str(self.settings.default_port)
        self._hosting_plaintext = self.settings.allow_plaintext
        error = self.controller.host(
            view.nick_var.get(),
            view.room_var.get(),
            port_text,
            port_given=port_given,
            password=view.password_var.get(),
        )
        if error:
            view.show_error(error, nickname_wrong=nickname_refused(view.nick_var.get()))
            if self.controller.suggested_port is not None:
                view.port_var.set(str(self.controller.suggested_port))
        else:
            view.show_connecting(tr("Starting the chat…"))

    def join_clicked(self) -> None:
        view = self.start_view
        if view is None or view.connecting:
            return
        address = view.address_var.get()
        error = self.controller.join(view.nick_var.get(), address, view.transport_for(address))
        if error:
            view.show_error(error, nickname_wrong=nickname_refused(view.nick_var.get()))
        else:
            view.show_connecting(tr("Connecting to {address}…").format(address=address.strip()))

    # -- events and discovery ----------------------------------------------------------------

    def handle_events(self, batch: list[object]) -> None:
        """The pump's handler: discovery news refreshes the list, a clicked notification
        brings its conversation forward; the rest goes to the controller."""
        chat_events = [event for event in batch if not isinstance(event, NOT_FOR_THE_CONTROLLER)]
        if len(chat_events) != len(batch):
            self._refresh_found_chats()
            self.search.handle(batch)
            for clicked in [event for event in batch if isinstance(event, NotificationClicked)]:
                bring_forward(self.root, self.chat_view, self.controller, clicked)
        if chat_events:
            self.controller.handle(chat_events)

    def _start_browser(self) -> None:
        """Look for chats on the LAN while the start view is shown (loopback only in tests)."""
        if self.start_view is None:
            return
        if self.browser is not None:  # a failed join rebuilt the start view: the search goes on
            self.start_view.set_discovery_state(True)
            self._refresh_found_chats()
            return
        targets, _problems = parse_discovery_targets(self.settings.discovery_targets)
        browser = Browser(on_event=self.bridge.post, extra_targets=targets)
        try:
            browser.start()
        except OSError as exc:
            log.warning("discovery is not available: %s", exc)
            browser.stop()
            self.start_view.set_discovery_state(
                tr("Automatic search is not available on this PC right now; type the host's address below.")
            )
            return
        self.browser = browser
        self.start_view.set_discovery_state(True)

    def _stop_browser(self) -> None:
        browser, self.browser = self.browser, None
        if browser is not None:
            browser.stop()

    def _refresh_found_chats(self) -> None:
        if self.browser is None or self.start_view is None:
            return
        entries = [
            FoundEntry(
                key=chat.key,
                room=chat.info.room,
                host_nick=chat.info.nick,
                members=chat.info.members,
                address=format_address(chat.address, chat.port),
                transport=chat.transport,
                code=chat.code,
            )
            for chat in self.browser.snapshot()
        ]
        self.start_view.set_found_chats(entries)

    # -- settings ------------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        if self.dialog is not None and self.dialog.winfo_exists():
            self.dialog.lift()
            return self.dialog
        self.dialog = SettingsDialog(self.root, self.settings, self.apply_settings)
        return self.dialog

    def apply_settings(self, new: Settings) -> None:
        """Take the dialog's result: save it and apply what can change at once."""
        old = dataclasses.replace(self.settings)
        for field in dataclasses.fields(Settings):
            if field.name != "nickname":
                setattr(self.settings, field.name, getattr(new, field.name))
        if self.controller.session is None or not self.controller.session.model.welcomed:
            self.settings.nickname = new.nickname
        elif new.nickname != old.nickname:
            self.controller.rename(new.nickname)
        self.save_settings()
        self.history.apply_settings(new.keep_history, new.history_days)  # at once (idempotent)
        if new.language != old.language:
            set_language(new.language)
        self.controller.apply_settings(self.settings)  # the IP Messenger bridge: on, off, renamed
        if (new.theme, new.font_size, new.language) != (old.theme, old.font_size, old.language):
            self.palette = apply_theme(self.root, new.theme, current_language(), new.font_size)
            if self.chat_view is not None:
                self.chat_view.apply_palette(self.palette)
        if self.start_view is not None:
            self.start_view.apply_texts()
            if self.start_view.nick_var.get() != self.settings.nickname and not self.start_view.connecting:
                self.start_view.nick_var.set(self.settings.nickname)
            if new.default_port != old.default_port:
                self.start_view.port_var.set(str(new.default_port))
        if self.chat_view is not None:
            self.chat_view.apply_settings(self.settings)
            self.chat_view.apply_texts()
            if new.transport != old.transport:
                note = tr("The transport will be {transport} from the next time you host or join a chat.")
                note = note.format(transport=new.transport.upper())
                self.chat_view.add_lines(ROOM, [Line("system", note, time.time())])
        self.notifier.refresh_title()

    # -- closing ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Leave the chat, stop hosting, stop the pump and end the window. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        try:
            self._stop_browser()
            self._close_trust_dialog()
            self.controller.end_session()
        finally:
            self.controller.close_bridge()  # BR_EXIT, the bridge's thread joined
            self.search.close()
            self.history.close()
            self.pump.stop()
            if self._tick_after is not None:
                self.root.after_cancel(self._tick_after)
                self._tick_after = None
            self.root.unbind_all("<Control-q>")
            self.notifier.close()
            self.notices.close()
            self.store.save(self.settings)
            self._clear_views()
            destroy_now(self.frame)
            sys.setswitchinterval(self._previous_switch_interval)
            self._on_exit()

    def _on_tick(self) -> None:
        self._tick_after = self.root.after(TICK_MS, self._on_tick)
        self.controller.tick()

    def _on_ctrl_q(self, _event: tk.Event) -> str:
        self.close()
        return "break"

    # -- internals -----------------------------------------------------------------------------

    def _clear_views(self) -> None:
        views = (self.start_view, self.chat_view)
        self.start_view = self.chat_view = None
        destroy_now(*views)

    def _base_title(self) -> str:
        if self.chat_view is not None and self.chat_view.room_name:
            return f"{self.chat_view.room_name} — {APP_NAME}"
        return APP_NAME

    def _show_problem(self, text: str) -> None:
        if self.start_view is not None:
            self.start_view.show_notice(text)
        elif self.chat_view is not None:
            self.chat_view.add_lines(ROOM, [Line("error", text, time.time())])

    def _report_callback_error(
        self, exc_type: type[BaseException], exc_value: BaseException, exc_traceback: TracebackType | None
    ) -> None:
        log.error("error in a window callback", exc_info=(exc_type, exc_value, exc_traceback))


def run_app() -> int:
    """Open the window and run until it is closed; returns the process exit status."""
    root = tk.Tk(className=APP_NAME)
    install_tk_hooks(root)  # crash dialog + window icon (gui/crash.py), before App keeps its own handler
    App(root)
    root.mainloop()
    return 0
