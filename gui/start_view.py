"""The start view: your nickname, then host a chat or join one.

Connecting happens in the background (the client's own thread); this view only shows
"Connecting…" with a Cancel button and, if it fails, the sentence the controller gives.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from tkinter import ttk

from gui.emoji import label_text
from gui.i18n import tr
from gui.settings import Settings
from net.api import Transport

#: The Control key's bit in a key event's state: a shortcut, not text (the other modifier
#: bits differ between platforms, and NumLock or AltGr must not stop typing).
_CONTROL = 0x0004
#: Characters kept while joining (a message or two; the rest of a pasted novel is dropped).
_MAX_TYPED_AHEAD = 2000
#: Characters of a room code the list of found chats shows: its first two groups ("7F3A-91C2"),
#: which tell rooms apart; the whole code of the selected chat is shown below the list.
CODE_SHOWN_IN_LIST = 9


class StartView(ttk.Frame):
    """Nickname, "Host a chat" and "Join a chat"."""

    def __init__(
        self,
        master: tk.Misc,
        settings: Settings,
        *,
        on_host: Callable[[], None],
        on_join: Callable[[], None],
        on_cancel: Callable[[], None],
        on_settings: Callable[[], object],
    ) -> None:
        super().__init__(master, padding=(32, 24))
        self.settings = settings
        self.nick_var = tk.StringVar(self, settings.nickname)
        self.room_var = tk.StringVar(self, settings.room_name or self._default_room_name())
        self.port_var = tk.StringVar(self, str(settings.default_port))
        self.password_var = tk.StringVar(self, "")  # never saved
        self.address_var = tk.StringVar(self, settings.recent_hosts[0] if settings.recent_hosts else "")
        self._on_cancel = on_cancel
        self.found: dict[str, FoundEntry] = {}  # tree item -> the chat it shows
        self._discovery_state: bool | str | None = None

        self.columnconfigure(0, weight=1)
        self.columnconfigure(1, weight=1)
        self.rowconfigure(4, weight=1)

        head = ttk.Frame(self)
        head.grid(row=0, column=0, columnspan=2, sticky="ew")
        head.columnconfigure(0, weight=1)
        self.title_label = ttk.Label(head, text="LanChat", style="Title.TLabel")
        self.title_label.grid(row=0, column=0, sticky="w")
        self.tagline = ttk.Label(head, style="Muted.TLabel")
        self.tagline.grid(row=1, column=0, sticky="w", pady=(0, 4))
        self.settings_button = ttk.Button(head, command=on_settings)
        self.settings_button.grid(row=0, column=1, rowspan=2, sticky="ne")

        self.notice = ttk.Label(self, style="Notice.TLabel", wraplength=760, justify="left")

        nick_row = ttk.Frame(self, padding=(0, 14, 0, 14))
        nick_row.grid(row=2, column=0, columnspan=2, sticky="ew")
        self.nick_label = ttk.Label(nick_row)
        self.nick_label.pack(side="left")
        self.nick_entry = ttk.Entry(nick_row, textvariable=self.nick_var, width=24)
        self.nick_entry.pack(side="left", padx=(10, 0))

        # -- host card --
        host = ttk.Frame(self, style="Card.TFrame", padding=20)
        host.grid(row=3, column=0, sticky="nsew", padx=(0, 10))
        host.columnconfigure(1, weight=1)
        self.host_title = ttk.Label(host, style="Heading.TLabel")
        self.host_title.grid(row=0, column=0, columnspan=2, sticky="w")
        self.host_hint = ttk.Label(host, style="CardMuted.TLabel", wraplength=330, justify="left")
        self.host_hint.grid(row=1, column=0, columnspan=2, sticky="w", pady=(4, 14))
        self.room_label = ttk.Label(host, style="Card.TLabel")
        self.room_label.grid(row=2, column=0, sticky="w", pady=4)
        self.room_entry = ttk.Entry(host, textvariable=self.room_var)
        self.room_entry.grid(row=2, column=1, sticky="ew", padx=(10, 0), pady=4)
        self.port_label = ttk.Label(host, style="Card.TLabel")
        self.port_label.grid(row=3, column=0, sticky="w", pady=4)
        self.port_entry = ttk.Entry(host, textvariable=self.port_var, width=8)
        self.port_entry.grid(row=3, column=1, sticky="w", padx=(10, 0), pady=4)
        self.password_label = ttk.Label(host, style="Card.TLabel")
        self.password_label.grid(row=4, column=0, sticky="w", pady=4)
        self.password_entry = ttk.Entry(host, textvariable=self.password_var, show="•")
        self.password_entry.grid(row=4, column=1, sticky="ew", padx=(10, 0), pady=4)
        self.host_button = ttk.Button(host, style="Accent.TButton", command=on_host)
        self.host_button.grid(row=5, column=0, columnspan=2, sticky="ew", pady=(16, 0))
        self.this_pc_label = ttk.Label(host, style="CardMuted.TLabel", wraplength=330, justify="left")
        self.this_pc_label.grid(row=6, column=0, columnspan=2, sticky="w", pady=(12, 0))
        self._this_pc = ""

        # -- join card --
        join = ttk.Frame(self, style="Card.TFrame", padding=20)
        join.grid(row=3, column=1, sticky="nsew", padx=(10, 0))
        join.columnconfigure(1, weight=1)
        join.rowconfigure(2, weight=1)
        self.join_title = ttk.Label(join, style="Heading.TLabel")
        self.join_title.grid(row=0, column=0, columnspan=2, sticky="w")
        self.found_label = ttk.Label(join, style="CardMuted.TLabel", wraplength=330, justify="left")
        self.found_label.grid(row=1, column=0, columnspan=2, sticky="w", pady=(4, 6))
        self.found_tree = ttk.Treeview(
            join,
            columns=("host", "members", "transport", "address", "code"),
            # The room code beside the name: two rooms of one name differ by it. The whole code
            # (24 characters) does not fit beside the rest, so the list shows its first two
            # groups and `code_label` the whole code of the chat selected.
            displaycolumns=("code", "host", "members", "transport", "address"),
            show="tree headings",
            selectmode="browse",
            height=4,
            style="Card.Treeview",
        )
        self.found_tree.column("#0", width=110, stretch=True)
        self.found_tree.column("code", width=96, stretch=False)
        self.found_tree.column("host", width=66, stretch=True)
        self.found_tree.column("members", width=74, stretch=False, anchor="center")
        self.found_tree.column("transport", width=40, stretch=False, anchor="center")
        self.found_tree.column("address", width=110, stretch=True)
        self.found_tree.grid(row=2, column=0, columnspan=2, sticky="nsew", pady=(0, 10))
        self.code_label = ttk.Label(join, style="CardMuted.TLabel")
        self.found_empty = ttk.Label(join, style="CardMuted.TLabel")
        self.found_tree.bind("<<TreeviewSelect>>", self._on_found_selected)
        self.found_tree.bind("<Double-1>", lambda _e: self._join_selected(on_join))
        self.found_tree.bind("<Return>", lambda _e: self._join_selected(on_join))
        self.found_tree.bind("<KeyPress>", self._on_found_key, add="+")
        self._typed_ahead: list[str] = []
        self.address_label = ttk.Label(join, style="Card.TLabel")
        self.address_label.grid(row=4, column=0, sticky="w", pady=4)
        self.address_box = ttk.Combobox(join, textvariable=self.address_var, values=settings.recent_hosts)
        self.address_box.grid(row=4, column=1, sticky="ew", padx=(10, 0), pady=4)
        self.join_button = ttk.Button(join, style="Accent.TButton", command=on_join)
        self.join_button.grid(row=5, column=0, columnspan=2, sticky="ew", pady=(16, 0))

        # -- progress and errors --
        foot = ttk.Frame(self, padding=(0, 16, 0, 0))
        foot.grid(row=4, column=0, columnspan=2, sticky="new")
        foot.columnconfigure(1, weight=1)
        self.progress = ttk.Progressbar(foot, mode="indeterminate", length=120)
        self.progress_label = ttk.Label(foot, style="Muted.TLabel")
        self.cancel_button = ttk.Button(foot, command=self.cancel)
        self.error_label = ttk.Label(foot, style="Error.TLabel", wraplength=760, justify="left")
        self.error_label.grid(row=1, column=0, columnspan=3, sticky="w", pady=(8, 0))
        self.transport_label = ttk.Label(self, style="Muted.TLabel")
        self.transport_label.grid(row=5, column=0, columnspan=2, sticky="w")

        self.nick_entry.bind("<Return>", lambda _e: self.room_entry.focus_set())
        self.room_entry.bind("<Return>", lambda _e: on_host())
        self.port_entry.bind("<Return>", lambda _e: on_host())
        self.password_entry.bind("<Return>", lambda _e: on_host())
        self.address_box.bind("<Return>", lambda _e: on_join())
        self.apply_texts()
        (self.nick_entry if not settings.nickname else self.address_box).focus_set()

    @staticmethod
    def _default_room_name() -> str:
        return tr("Our chat")

    def apply_texts(self) -> None:
        self.tagline.configure(text=tr("Chat with people on your local network — no server, no account."))
        self.settings_button.configure(text=tr("Settings"))
        self.nick_label.configure(text=tr("Your nickname"))
        self.host_title.configure(text=tr("Host a chat"))
        self.host_hint.configure(text=tr("Start a chat on this PC. Others on the network can then join it."))
        self.room_label.configure(text=tr("Chat name"))
        self.port_label.configure(text=tr("Port"))
        self.password_label.configure(text=tr("Password (optional)"))
        self.host_button.configure(text=tr("Host a chat"))
        self.join_title.configure(text=tr("Join a chat"))
        self.address_label.configure(text=tr("Address or invite"))
        self.found_tree.heading("#0", text=tr("Chat"), anchor="w")
        self.found_tree.heading("host", text=tr("Host"), anchor="w")
        self.found_tree.heading("members", text=tr("Members"))
        self.found_tree.heading("transport", text="")
        self.found_tree.heading("address", text=tr("Address"), anchor="w")
        self.found_tree.heading("code", text=tr("Code"), anchor="w")
        self.join_button.configure(text=tr("Join"))
        self.cancel_button.configure(text=tr("Cancel"))
        self.transport_label.configure(
            text=tr("Transport: {transport} (change it in Settings)").format(
                transport=self.settings.transport.upper()
            )
        )
        self.set_discovery_state(self._discovery_state)
        if getattr(self, "_this_pc", ""):
            self.set_this_pc(self._this_pc)

    def set_discovery_state(self, state: bool | str | None) -> None:
        """None: no discovery available; True: searching; a string: an explanation to show."""
        self._discovery_state = state
        if isinstance(state, str):
            text = state
        elif state:
            text = tr("Chats found on your network — double-click one to join:")
        else:
            text = tr("Type the address the host sees under “Invite others”, e.g. 192.168.1.20.")
        self.found_label.configure(text=text)
        self.found_empty.configure(text=tr("Looking for chats on your network…"))
        if state is True:
            self.found_tree.grid()
        else:
            self.found_tree.grid_remove()
        self._show_empty_hint()

    def set_this_pc(self, address: str) -> None:
        """Say where others will find a chat hosted here (before hosting, as a preview)."""
        self._this_pc = address
        self.this_pc_label.configure(
            text=tr("Others will join this PC at {address}.").format(address=address) if address else ""
        )

    # -- states --------------------------------------------------------------------------

    def show_notice(self, text: str | None) -> None:
        if text:
            self.notice.configure(text=label_text(text))  # may quote a host's reason
            self.notice.grid(row=1, column=0, columnspan=2, sticky="ew", pady=(12, 0))
        else:
            self.notice.grid_remove()

    def show_error(self, text: str | None) -> None:
        self.error_label.configure(text=label_text(text or ""))

    def show_connecting(self, text: str) -> None:
        """Connecting in the background: a spinner, the address and Cancel; the buttons wait."""
        self.show_error(None)
        self.progress.grid(row=0, column=0, sticky="w")
        self.progress_label.configure(text=text)
        self.progress_label.grid(row=0, column=1, sticky="w", padx=10)
        self.cancel_button.grid(row=0, column=2, sticky="e")
        self.progress.start(12)
        for widget in (self.host_button, self.join_button):
            widget.state(["disabled"])

    def show_idle(self) -> None:
        self._typed_ahead = []  # the join did not happen: nothing to carry over
        self.progress.stop()
        for widget in (self.progress, self.progress_label, self.cancel_button):
            widget.grid_remove()
        for widget in (self.host_button, self.join_button):
            widget.state(["!disabled"])

    @property
    def connecting(self) -> bool:
        return self.host_button.instate(["disabled"])

    def cancel(self) -> None:
        self.show_idle()
        self._on_cancel()

    # -- the discovered chats ------------------------------------------------------------------

    def set_found_chats(self, chats: list[FoundEntry]) -> None:
        """Show the chats found on the LAN; keeps the selection when that chat is still there."""
        selected = self.found_tree.selection()
        keep = self.found[selected[0]].key if selected and selected[0] in self.found else None
        self.found_tree.delete(*self.found_tree.get_children())
        self.found.clear()
        for entry in chats:
            item = self.found_tree.insert(
                "",
                "end",
                text=label_text(entry.room),  # names from the network, drawn with a font only
                values=(
                    label_text(entry.host_nick),
                    entry.members,
                    entry.transport.value.upper(),
                    entry.address,
                    entry.code[:CODE_SHOWN_IN_LIST],
                ),
            )
            self.found[item] = entry
            if entry.key == keep:
                self.found_tree.selection_set(item)
        self._show_empty_hint()
        self._show_selected_code()

    def _show_selected_code(self) -> None:
        """The whole room code of the chat selected (to compare with the host's), or nothing."""
        selected = self.found_tree.selection()
        entry = self.found.get(selected[0]) if selected else None
        if entry is None or not entry.code:
            self.code_label.grid_remove()
            return
        self.code_label.configure(
            text=tr("Room code of “{room}”: {code}").format(room=label_text(entry.room), code=entry.code)
        )
        self.code_label.grid(row=3, column=0, columnspan=2, sticky="w", pady=(0, 6))

    def _show_empty_hint(self) -> None:
        if self.found or self._discovery_state is not True:
            self.found_empty.place_forget()
        else:
            self.found_empty.place(in_=self.found_tree, relx=0.5, rely=0.55, anchor="center")

    def transport_for(self, address: str) -> Transport | None:
        """The transport of the found chat at `address`, when the address came from the list."""
        for entry in self.found.values():
            if entry.address == address.strip():
                return entry.transport
        return None

    def _on_found_selected(self, _event: tk.Event | None) -> None:
        selected = self.found_tree.selection()
        if selected and selected[0] in self.found:
            self.address_var.set(self.found[selected[0]].address)
        self._show_selected_code()

    def _on_found_key(self, event: tk.Event) -> str | None:
        """While joining a chat picked from the list, keep what is typed for the chat's input
        box: people start typing right after the double-click, before the chat is shown."""
        if not self.connecting or (isinstance(event.state, int) and event.state & _CONTROL):
            return None
        if event.keysym == "BackSpace":
            if self._typed_ahead:
                self._typed_ahead.pop()
            return "break"
        if event.char and event.char.isprintable() and len(self._typed_ahead) < _MAX_TYPED_AHEAD:
            self._typed_ahead.append(event.char)
            return "break"
        return None

    def take_typed_ahead(self) -> str:
        """What was typed while joining (see `_on_found_key`); forgotten once taken."""
        typed, self._typed_ahead = "".join(self._typed_ahead), []
        return typed

    def _join_selected(self, on_join: Callable[[], None]) -> str:
        self._on_found_selected(None)
        if self.found_tree.selection():
            on_join()
        return "break"


@dataclass(frozen=True, slots=True)
class FoundEntry:
    """A chat found on the LAN, as the list shows it (plain data built by the app)."""

    key: object
    room: str
    host_nick: str
    members: int
    address: str  # what goes into the address box: host:port
    transport: Transport
    code: str = ""  # the room code (XXXX-XXXX-XXXX-XXXX-XXXX) that tells rooms of one name apart
