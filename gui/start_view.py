"""The start view: your nickname, then host a chat or join one.

Connecting happens in the background (the client's own thread); this view only shows
"Connecting…" with a Cancel button and, if it fails, the sentence the controller gives.
"""

from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from collections.abc import Callable
from dataclasses import dataclass
from tkinter import ttk
from typing import Literal

from gui.emoji import label_text
from gui.found_columns import COLUMNS, fit_columns
from gui.i18n import retranslated, tr
from gui.room_name import default_room_name, follows_nick, offered_room_name
from gui.settings import Settings
from gui.start_layout import is_compact, lay_out
from gui.wrapping import wrap_to_width
from net.api import Transport

#: The Control key's bit in a key event's state: a shortcut, not text (the other modifier
#: bits differ between platforms, and NumLock or AltGr must not stop typing).
_CONTROL = 0x0004
#: Characters kept while joining (a message or two; the rest of a pasted novel is dropped).
_MAX_TYPED_AHEAD = 2000
#: Characters of a room code the list of found chats shows: its first two groups ("7F3A-91C2"),
#: which tell rooms apart; the whole code of the selected chat is shown below the list.
CODE_SHOWN_IN_LIST = 9
#: Where the found list's short columns put their text (the rest: at the left).
_ANCHORS: dict[str, Literal["w", "center"]] = {"members": "center", "transport": "center"}
#: Pixels a column needs beside its widest text (the cell's and the heading's padding).
_CELL_PADDING = 10
#: The list's border and padding (the Card.Treeview field), on each side.
_TREE_BORDER = 2


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
        super().__init__(master, padding=(24, 18))
        self.settings = settings
        self._given: dict[ttk.Label, str] = {}  # texts given to show: said again in a new language
        self.nick_var = tk.StringVar(self, settings.nickname)
        self.room_var = tk.StringVar(self, offered_room_name(settings.room_name, settings.nickname))
        self._offered_room = default_room_name(settings.nickname)  # while shown, it follows the nickname
        self.port_var = tk.StringVar(self, str(settings.default_port))
        self.password_var = tk.StringVar(self, "")  # never saved
        self.address_var = tk.StringVar(self, settings.recent_hosts[0] if settings.recent_hosts else "")
        self._on_cancel = on_cancel
        self.found: dict[str, FoundEntry] = {}  # tree item -> the chat it shows
        self._discovery_state: bool | str | None = None

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

        self.notice = ttk.Label(self, style="Notice.TLabel", justify="left")

        self.nick_row = nick_row = ttk.Frame(self, padding=(0, 14, 0, 14))
        nick_row.grid(row=2, column=0, columnspan=2, sticky="ew")
        self.nick_label = ttk.Label(nick_row)
        self.nick_label.pack(side="left")
        self.nick_entry = ttk.Entry(nick_row, textvariable=self.nick_var, width=24)
        self.nick_entry.pack(side="left", padx=(10, 0))

        # -- host card --
        self.host_card = host = ttk.Frame(self, style="Card.TFrame", padding=16)
        host.grid(row=3, column=0, sticky="nsew", padx=(0, 10))
        host.columnconfigure(0, weight=1)
        self.host_title = ttk.Label(host, style="Heading.TLabel")
        self.host_title.grid(row=0, column=0, sticky="w")
        self.host_hint = ttk.Label(host, style="CardMuted.TLabel", justify="left")
        self.host_hint.grid(row=1, column=0, sticky="ew", pady=(4, 10))
        # Each field under its label: the card stays narrow, leaving the room to the list.
        self.room_label = ttk.Label(host, style="Card.TLabel")
        self.room_label.grid(row=2, column=0, sticky="ew", pady=(4, 0))
        self.room_entry = ttk.Entry(host, textvariable=self.room_var, width=16)
        self.room_entry.grid(row=3, column=0, sticky="ew", pady=(2, 0))
        self.port_label = ttk.Label(host, style="Card.TLabel")
        self.port_label.grid(row=4, column=0, sticky="ew", pady=(4, 0))
        self.port_entry = ttk.Entry(host, textvariable=self.port_var, width=8)
        self.port_entry.grid(row=5, column=0, sticky="w", pady=(2, 0))
        self.password_label = ttk.Label(host, style="Card.TLabel")
        self.password_label.grid(row=6, column=0, sticky="ew", pady=(4, 0))
        self.password_entry = ttk.Entry(host, textvariable=self.password_var, show="•", width=16)
        self.password_entry.grid(row=7, column=0, sticky="ew", pady=(2, 0))
        self.host_button = ttk.Button(host, style="Accent.TButton", command=on_host)
        self.host_button.grid(row=8, column=0, sticky="ew", pady=(16, 0))
        self.this_pc_label = ttk.Label(host, style="CardMuted.TLabel", justify="left")
        self.this_pc_label.grid(row=9, column=0, sticky="ew", pady=(12, 0))
        self._this_pc = ""

        # -- join card --
        self.join_card = join = ttk.Frame(self, style="Card.TFrame", padding=16)
        join.grid(row=3, column=1, sticky="nsew", padx=(10, 0))
        join.columnconfigure(1, weight=1)
        join.rowconfigure(2, weight=1)
        self.join_title = ttk.Label(join, style="Heading.TLabel")
        self.join_title.grid(row=0, column=0, columnspan=2, sticky="w")
        self.found_label = ttk.Label(join, style="CardMuted.TLabel", justify="left")
        self.found_label.grid(row=1, column=0, columnspan=2, sticky="ew", pady=(4, 6))
        # The room code beside the name: two rooms of one name differ by it. The whole code
        # (24 characters) does not fit beside the rest, so the list shows its first two groups
        # and `code_label` the whole code of the chat selected. Only headings, no tree column
        # (whose indent put the names off their heading); `_fit_columns` sizes them.
        self.found_tree = ttk.Treeview(
            join, columns=COLUMNS, show="headings", selectmode="browse", height=4, style="Card.Treeview"
        )
        for name in COLUMNS:
            self.found_tree.column(name, anchor=_ANCHORS.get(name, "w"), stretch=False, minwidth=20, width=60)
        self.found_tree.grid(row=2, column=0, columnspan=2, sticky="nsew", pady=(0, 10))
        self.found_tree.bind("<Configure>", lambda _e: self._fit_columns(), add="+")
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
        self.foot = foot = ttk.Frame(self, padding=(0, 16, 0, 0))
        foot.grid(row=4, column=0, columnspan=2, sticky="new")
        foot.columnconfigure(1, weight=1)
        self.progress = ttk.Progressbar(foot, mode="indeterminate", length=120)
        self.progress_label = ttk.Label(foot, style="Muted.TLabel")
        self.cancel_button = ttk.Button(foot, command=self.cancel)
        self.error_label = ttk.Label(foot, style="Error.TLabel", justify="left")
        self.error_label.grid(row=1, column=0, columnspan=3, sticky="ew", pady=(8, 0))
        self.transport_label = ttk.Label(self, style="Muted.TLabel")
        self.transport_label.grid(row=5, column=0, columnspan=2, sticky="w")

        self.nick_entry.bind("<Return>", lambda _e: self.room_entry.focus_set())
        self.room_entry.bind("<Return>", lambda _e: on_host())
        self.port_entry.bind("<Return>", lambda _e: on_host())
        self.password_entry.bind("<Return>", lambda _e: on_host())
        self.address_box.bind("<Return>", lambda _e: on_join())
        self.nick_var.trace_add("write", self._offer_room_name)
        for label in (
            self.notice,
            self.host_hint,
            self.room_label,
            self.port_label,
            self.password_label,
            self.this_pc_label,
            self.found_label,
            self.error_label,
        ):
            wrap_to_width(label)
        self.compact: bool | None = None
        lay_out(self, compact=False)
        self.bind("<Configure>", self._on_resize, add="+")
        self.apply_texts()
        (self.nick_entry if not settings.nickname else self.address_box).focus_set()

    def _on_resize(self, event: tk.Event) -> None:
        if event.widget is self:
            lay_out(self, compact=is_compact(event.width, event.height))

    def _offer_room_name(self, *_trace: object) -> None:
        """Keep the offered "<nickname>'s chat" in step with the nickname and the language."""
        if follows_nick(self.room_var.get(), self._offered_room):
            self._offered_room = default_room_name(self.nick_var.get())
            self.room_var.set(self._offered_room)

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
        for name, heading in _headings().items():  # each over its data: same anchor
            self.found_tree.heading(name, text=heading, anchor=_ANCHORS.get(name, "w"))
        self.join_button.configure(text=tr("Join"))
        self.cancel_button.configure(text=tr("Cancel"))
        self.transport_label.configure(
            text=tr("Transport: {transport} (change it in Settings)").format(
                transport=self.settings.transport.upper()
            )
        )
        self._offer_room_name()
        self.set_discovery_state(self._discovery_state)
        self._fit_columns()
        if getattr(self, "_this_pc", ""):
            self.set_this_pc(self._this_pc)
        for label, text in self._given.items():
            label.configure(text=retranslated(text))
        self._show_selected_code()

    def set_discovery_state(self, state: bool | str | None) -> None:
        """None: no discovery available; True: searching; a string: an explanation to show."""
        self._discovery_state = state
        if isinstance(state, str):
            text = retranslated(state)
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
            self._show_given(self.notice, text)
            self.notice.grid(row=1, column=0, columnspan=2, sticky="ew", pady=(12, 0))
        else:
            self.notice.grid_remove()

    def show_error(self, text: str | None, *, nickname_wrong: bool = False) -> None:
        self._show_given(self.error_label, text or "")
        if nickname_wrong:  # the cursor where the fix is typed, the refused name selected
            self.nick_entry.focus_set()
            self.nick_entry.select_range(0, "end")
            self.nick_entry.icursor("end")

    def _show_given(self, label: ttk.Label, text: str) -> None:
        self._given[label] = text
        label.configure(text=label_text(text))  # may quote a host's reason

    def show_connecting(self, text: str) -> None:
        """Connecting in the background: a spinner, the address and Cancel; the buttons wait."""
        self.show_error(None)
        self.progress.grid(row=0, column=0, sticky="w")
        self._show_given(self.progress_label, text)
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
            item = self.found_tree.insert("", "end", values=entry.row())
            self.found[item] = entry
            if entry.key == keep:
                self.found_tree.selection_set(item)
        self._fit_columns()
        self._show_empty_hint()
        self._show_selected_code()

    def _fit_columns(self) -> None:
        """Show the columns that fit, each as wide as its widest text (see `gui.found_columns`)."""
        tree = self.found_tree
        available = tree.winfo_width() - 2 * _TREE_BORDER
        if available <= 1:  # not laid out yet: the <Configure> that follows fits them
            return
        style = ttk.Style(self)
        cells = tkfont.nametofont(style.lookup("Card.Treeview", "font") or "TkDefaultFont")
        headings = tkfont.nametofont(style.lookup("Treeview.Heading", "font") or "TkHeadingFont")
        rows = [entry.row() for entry in self.found.values()]
        needed = {
            name: _CELL_PADDING
            + max(
                [headings.measure(tree.heading(name, "text"))]
                + [cells.measure(str(row[index])) for row in rows]
            )
            for index, name in enumerate(COLUMNS)
        }
        widths = fit_columns(needed, available)
        for name, width in widths.items():
            tree.column(name, width=width)
        if tuple(tree["displaycolumns"]) != tuple(widths):
            tree.configure(displaycolumns=tuple(widths))

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

    def row(self) -> tuple[str, str, str, int, str, str]:
        """What the list shows of it, in the order of `gui.found_columns.COLUMNS`."""
        code = self.code[:CODE_SHOWN_IN_LIST]
        room, host = label_text(self.room), label_text(self.host_nick)  # from the network: a font draws them
        return (room, code, host, self.members, self.transport.value.upper(), self.address)


def _headings() -> dict[str, str]:
    """Every column's heading, in the current language."""
    return {
        "room": tr("Chat"),
        "code": tr("Code"),
        "host": tr("Host"),
        "members": tr("Members"),
        "transport": tr("Transport"),
        "address": tr("Address"),
    }
