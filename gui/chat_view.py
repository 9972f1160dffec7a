"""The chat view: conversation tabs and the input box, with the member list (`gui.sidebar`)
beside them (or in their place in a narrow window: `gui.side_panel`) and the status bar
(`gui.status_bar`) below.

It implements `gui.ports.ChatViewPort`: the controller tells it what to show and it
forwards what the user does back to the controller. It never sees the network.
"""

from __future__ import annotations

import time
import tkinter as tk
import webbrowser
from collections.abc import Callable
from tkinter import ttk

from gui.chat_header import ChatHeader
from gui.controller import Controller
from gui.conversation import ConversationPane
from gui.emoji import emoji_images, label_text
from gui.emoji.tktext import show_emoji_as_pictures
from gui.emoji_picker import EmojiPicker, picture_of
from gui.i18n import tr
from gui.input_history import InputHistory
from gui.invite_panel import Invitation
from gui.ipmsg_link import private_intro
from gui.lifetime import destroy_now
from gui.model.values import ROOM, Line, Status
from gui.palette import Palette
from gui.settings import Settings
from gui.side_panel import SidePanel
from gui.sidebar import Sidebar
from gui.status_bar import StatusBar
from net.protocol import events as ev

#: Stop announcing "typing" after this long without a key press.
TYPING_IDLE_MS = 4000


class ChatView(ttk.Frame):
    """Everything shown while in a chat."""

    def __init__(
        self,
        master: tk.Misc,
        controller: Controller,
        settings: Settings,
        palette: Palette,
        *,
        open_settings: Callable[[], object],
        invitation: Invitation | None,
        open_link: Callable[[str], object] = webbrowser.open,
    ) -> None:
        super().__init__(master)
        self.controller = controller
        self.settings = settings
        self.palette = palette
        self.invitation = invitation
        self._open_link = open_link
        self.history = InputHistory()
        self.panes: dict[str | None, ConversationPane] = {}
        self.pane_added: Callable[[str | None, ConversationPane], object] = lambda _key, _pane: None
        self.titles: dict[str | None, str] = {}
        self.unread: dict[str | None, int] = {}
        self.room_name = ""
        self.own_nick = ""
        self.status = Status()
        self._typing_to: tuple[bool, str | None] = (False, None)
        self._typing_after: str | None = None
        self._current: str | None = ROOM

        self.columnconfigure(0, weight=1)
        self.rowconfigure(2, weight=1)
        self.header = ChatHeader(self, open_settings=open_settings, leave=controller.leave)
        self.header.grid(row=0, column=0, sticky="ew")
        self.leave_button = self.header.leave_button
        ttk.Separator(self).grid(row=1, column=0, sticky="ew")
        self.paned = ttk.Panedwindow(self, orient="horizontal")
        self.paned.grid(row=2, column=0, sticky="nsew")
        self._build_main()
        self._build_sidebar()
        self.side = SidePanel(self, self.paned, self.main, self.sidebar, self.header)
        self._build_status_bar()
        self.emoji_picker = EmojiPicker(self, self.insert_emoji)
        self._add_pane(ROOM, "")
        self.apply_palette(palette)
        self.apply_texts()

    # -- building ------------------------------------------------------------------------

    def _build_main(self) -> None:
        main = self.main = ttk.Frame(self.paned, padding=(12, 8, 6, 10))
        main.columnconfigure(0, weight=1)
        main.rowconfigure(0, weight=1)
        self.notebook = ttk.Notebook(main)
        self.notebook.grid(row=0, column=0, sticky="nsew")
        self.notebook.bind("<<NotebookTabChanged>>", self._on_tab_changed)
        self.notebook.bind("<Button-2>", self._on_tab_middle_click)
        self.notebook.bind("<Button-3>", self._on_tab_context_menu)

        bar = ttk.Frame(main, padding=(0, 8, 0, 0))
        bar.grid(row=1, column=0, sticky="ew")
        bar.columnconfigure(0, weight=1)
        self.input = tk.Text(
            bar,
            height=3,
            width=30,
            wrap="word",
            undo=True,
            maxundo=50,
            font="LanChatBody",
            relief="flat",
            borderwidth=0,
            highlightthickness=1,
            padx=10,
            pady=8,
        )
        self.input.grid(row=0, column=0, sticky="nsew")
        show_emoji_as_pictures(self.input, editable=True)  # what is typed or picked: pictures
        self.emoji_button = ttk.Button(
            bar,
            image=picture_of(self, "😊"),
            style="EmojiTool.TButton",
            command=lambda: self.emoji_picker.toggle(self.emoji_button),
        )
        self.emoji_button.grid(row=0, column=1, sticky="ns", padx=(8, 0))
        self.send_button = ttk.Button(bar, style="Accent.TButton", width=8, command=self.send_input)
        self.send_button.grid(row=0, column=2, sticky="ns", padx=(8, 0))
        self.input.bind("<Return>", self._on_return)
        self.input.bind("<KP_Enter>", self._on_return)
        self.input.bind("<Shift-Return>", self._on_shift_return)
        self.input.bind("<Up>", self._on_up)
        self.input.bind("<Down>", self._on_down)
        self.input.bind("<KeyPress>", self._on_key, add="+")
        self.input.bind("<Tab>", self._on_tab_key)
        # A tab clicked: type on (Tk hands the keyboard to the transcript or the tab row).
        self.notebook.bind("<ButtonRelease-1>", lambda _e: self.input.focus_set())
        for widget in (self, self.input, self.notebook):
            widget.bind("<Control-w>", self._on_close_tab)
            widget.bind("<Control-f>", self._on_find)

    def _build_sidebar(self) -> None:
        self.sidebar = Sidebar(self.paned, self.invitation, self._talk_to)
        self.members_tree = self.sidebar.members_tree

    def _talk_to(self, nick: str) -> None:
        self.controller.open_private(nick)
        self.side.show_chat()  # in a narrow window the member list was in the chat's place

    def _build_status_bar(self) -> None:
        self.status_bar = StatusBar(self)
        self.status_bar.grid(row=3, column=0, sticky="ew")
        self.status_label = self.status_bar.status_label
        self.status_details = self.status_bar.status_details

    def _add_pane(self, key: str | None, title: str) -> ConversationPane:
        pane = ConversationPane(
            self.notebook, self.palette, self.settings.scrollback_lines, open_link=self._open_link
        )
        pane.own_nick = self.own_nick
        pane.highlight_mentions = self.settings.highlight_mentions
        pane.text.bind("<Control-w>", self._on_close_tab)
        pane.text.bind("<Control-f>", self._on_find)
        self.panes[key] = pane
        self.titles[key] = title
        self.unread[key] = 0
        self.notebook.add(pane, text=self._tab_text(key))
        self.pane_added(key, pane)  # where it pages up from is known now (gui.older_pages)
        return pane

    # -- appearance and language ------------------------------------------------------------

    def apply_palette(self, palette: Palette) -> None:
        self.palette = palette
        emoji_images(self).fit_to_font()  # the font size may have changed
        p = palette
        self.input.configure(
            background=p.surface,
            foreground=p.text,
            insertbackground=p.text,
            selectbackground=p.select_bg,
            selectforeground=p.text,
            highlightbackground=p.border,
            highlightcolor=p.accent,
        )
        for pane in self.panes.values():
            pane.apply_palette(palette)
        self.sidebar.apply_palette(palette)

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        for pane in self.panes.values():
            pane.scrollback = settings.scrollback_lines
            pane.highlight_mentions = settings.highlight_mentions

    def apply_texts(self) -> None:
        self.header.apply_texts()
        self.send_button.configure(text=tr("Send"))
        self.sidebar.apply_texts()
        for pane in self.panes.values():
            pane.apply_texts()
        self._refresh_header()
        self.set_status(self.status)
        for key in self.panes:
            self._update_tab(key)

    def _refresh_header(self) -> None:
        self.header.show(self.room_name, self.sidebar.count(), self.own_nick, self.status.code)

    # -- ChatViewPort (called by the controller) ----------------------------------------------

    def add_lines(self, conversation: str | None, lines: list[Line]) -> None:
        pane = self.panes.get(conversation)
        if pane is None:
            return
        pane.add_lines(lines)
        if conversation != self.current_key():
            fresh = sum(1 for line in lines if line.kind in ("message", "action") and not line.own)
            if fresh:
                self.unread[conversation] += fresh
                self._update_tab(conversation)

    def mark_delivered(self, local_id: str, when: float, mark: str, again: str = "") -> None:
        for pane in self.panes.values():
            if pane.mark_delivered(local_id, when, mark, again):
                return

    def mark_failed(self, local_id: str, mark: str) -> None:
        for pane in self.panes.values():
            if pane.mark_failed(local_id, mark):
                return

    def set_members(self, members: list[ev.MemberInfo], typing: set[str]) -> None:
        self.sidebar.set_members(members, typing)
        self._refresh_header()

    def set_typing(self, conversation: str | None, names: list[str]) -> None:
        pane = self.panes.get(conversation)
        if pane is not None:
            pane.show_typing(names)

    def set_status(self, status: Status) -> None:
        code_changed = status.code != self.status.code
        self.status = status
        self.status_bar.show(status)
        if code_changed:
            self._refresh_header()

    def set_room(self, name: str, own_nick: str) -> None:
        self.room_name = name
        self.own_nick = self.sidebar.own_nick = own_nick
        self.titles[ROOM] = name
        for pane in self.panes.values():
            pane.own_nick = own_nick
        self._update_tab(ROOM)
        self._refresh_header()
        self.input.focus_set()
        self.event_generate("<<RoomChanged>>", when="tail")  # the window title names the room

    def open_private(self, key: str, nick: str, focus: bool) -> None:
        pane = self.panes.get(key)
        if pane is None:
            pane = self._add_pane(key, nick)
            pane.add_lines([Line("system", private_intro(key, nick), time.time())])
        if focus:
            self.notebook.select(pane)
            self._current = key
            self.input.focus_set()

    def rename_private(self, old_key: str, new_key: str, nick: str) -> None:
        pane = self.panes.pop(old_key, None)
        if pane is None:
            return
        self.panes[new_key] = pane
        self.titles[new_key] = nick
        self.unread[new_key] = self.unread.pop(old_key, 0)
        self.titles.pop(old_key, None)
        if self._current == old_key:
            self._current = new_key
        self._update_tab(new_key)

    def clear(self, conversation: str | None) -> None:
        pane = self.panes.get(conversation)
        if pane is not None:
            pane.clear()

    # -- tabs ----------------------------------------------------------------------------------

    def current_key(self) -> str | None:
        """The conversation shown (kept up to date by <<NotebookTabChanged>>, no Tk call)."""
        return self._current if self._current in self.panes else ROOM

    def _selected_key(self) -> str | None:
        selected = self.notebook.select()
        for key, pane in self.panes.items():
            if str(pane) == selected:
                return key
        return ROOM

    def current_pane(self) -> ConversationPane:
        return self.panes[self.current_key()]

    def _tab_text(self, key: str | None) -> str:
        title = label_text(self.titles.get(key, ""))  # a tab draws with a font only
        text = f"#  {title}" if key is ROOM else f"@  {title}"
        if self.unread.get(key):
            text += f"  ({self.unread[key]})"
        return text

    def _update_tab(self, key: str | None) -> None:
        pane = self.panes.get(key)
        if pane is not None:
            self.notebook.tab(pane, text=self._tab_text(key))

    def close_private(self, key: str) -> None:
        pane = self.panes.pop(key, None)
        if pane is None:
            return
        self.titles.pop(key, None)
        self.unread.pop(key, None)
        self.notebook.forget(pane)
        destroy_now(pane)
        self.controller.close_private(key)
        self.input.focus_set()

    def _on_tab_changed(self, _event: tk.Event) -> None:
        key = self._current = self._selected_key()
        if self.unread.get(key):
            self.unread[key] = 0
            self._update_tab(key)
        self._stop_typing()

    def _on_tab_middle_click(self, event: tk.Event) -> None:
        key = self._tab_key_at(event.x, event.y)
        if key is not ROOM:
            self.close_private(key)

    def _tab_key_at(self, x: int, y: int) -> str | None:
        try:
            index = self.notebook.index(f"@{x},{y}")
        except tk.TclError:
            return None
        widget = self.notebook.tabs()[index]
        return next((key for key, pane in self.panes.items() if str(pane) == widget), None)

    def _on_tab_context_menu(self, event: tk.Event) -> None:
        key = self._tab_key_at(event.x, event.y)
        if key is ROOM:
            return
        menu = tk.Menu(self, tearoff=False)
        menu.add_command(
            label=tr("Close private chat") + "    Ctrl+W", command=lambda: self.close_private(key)
        )
        menu.tk_popup(event.x_root, event.y_root)

    def _on_close_tab(self, _event: tk.Event | None = None) -> str:
        key = self.current_key()
        if key is not ROOM:
            self.close_private(key)
        return "break"

    def _on_find(self, _event: tk.Event | None = None) -> str:
        self.current_pane().show_find()
        return "break"

    # -- the input box --------------------------------------------------------------------------

    def send_input(self) -> None:
        text = self.input.get("1.0", "end-1c")
        if self.controller.submit(text, self.current_key()):
            self.history.add(text)
            if self.input.winfo_exists():
                self.input.delete("1.0", "end")
                self.input.edit_reset()
        self._stop_typing()

    def _on_tab_key(self, _event: tk.Event) -> str:
        """Tab moves on to the Send button (in a chat input it does not insert a tab)."""
        self.emoji_button.focus_set()
        return "break"

    def _on_return(self, _event: tk.Event) -> str:
        self.send_input()
        return "break"

    def _on_shift_return(self, _event: tk.Event) -> str:
        self.input.insert("insert", "\n")
        self.input.see("insert")
        return "break"

    def _on_up(self, _event: tk.Event) -> str | None:
        if self.input.index("insert linestart") != self.input.index("1.0"):
            return None  # move within a multi-line draft
        text = self.history.older(self.input.get("1.0", "end-1c"))
        if text is not None:
            self._replace_input(text)
        return "break"

    def _on_down(self, _event: tk.Event) -> str | None:
        if self.input.index("insert lineend") != self.input.index("end-1c"):
            return None
        text = self.history.newer()
        if text is not None:
            self._replace_input(text)
        return "break"

    def _replace_input(self, text: str) -> None:
        self.input.delete("1.0", "end")
        self.input.insert("1.0", text)
        self.input.mark_set("insert", "end-1c")

    def insert_emoji(self, emoji: str) -> None:
        self.input.insert("insert", emoji)
        self.input.focus_set()

    def _on_key(self, event: tk.Event) -> None:
        if event.char and (event.char.isprintable() or event.keysym == "BackSpace"):
            self._start_typing()

    def _start_typing(self) -> None:
        key = self.current_key()
        if self._typing_to != (True, key):
            self._typing_to = (True, key)
            self.controller.typing(True, key)
        if self._typing_after is not None:
            self.after_cancel(self._typing_after)
        self._typing_after = self.after(TYPING_IDLE_MS, self._stop_typing)

    def _stop_typing(self) -> None:
        if self._typing_after is not None:
            self.after_cancel(self._typing_after)
            self._typing_after = None
        active, key = self._typing_to
        if active:
            self._typing_to = (False, None)
            self.controller.typing(False, key)

    def destroy(self) -> None:
        if self._typing_after is not None:
            self.after_cancel(self._typing_after)
            self._typing_after = None
        super().destroy()
