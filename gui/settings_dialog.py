"""The Settings dialog. Validation lives in `validate()` (and `gui.settings.check_*`), IDLE-style.

`validate()` returns the new `Settings` or None after showing why not; OK applies through
`on_apply` and closes. Nothing here blocks (no ``wait_window``), so tests drive it directly.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import ttk

from gui import settings as st
from gui.dialogs import Dialog
from gui.files.choosers import ask_folder
from gui.files.rules import default_folder, download_folder
from gui.i18n import LANGUAGES, SYSTEM, tr
from gui.lifetime import destroy_now
from gui.scroll_column import ScrollColumn

#: Pixels of the screen left for the taskbar, the title bar and the dialog's buttons.
SCREEN_MARGIN = 190


class SettingsDialog(Dialog):
    """Edits a copy of the settings; `on_apply(new)` receives the result of OK."""

    def __init__(
        self, master: tk.Misc, current: st.Settings, on_apply: Callable[[st.Settings], None]
    ) -> None:
        super().__init__(master, tr("Settings"))
        self.current = current
        self._on_apply = on_apply
        self.result: st.Settings | None = None

        self.nick_var = tk.StringVar(self, current.nickname)
        self.port_var = tk.StringVar(self, str(current.default_port))
        self.transport_var = tk.StringVar(self, current.transport)
        self.theme_var = tk.StringVar(self, current.theme)
        self.font_var = tk.StringVar(self, str(current.font_size))
        self.language_names = {SYSTEM: tr("Same as the system"), **LANGUAGES}
        self.language_var = tk.StringVar(
            self, self.language_names.get(current.language, self.language_names[SYSTEM])
        )
        self.notify_var = tk.BooleanVar(self, current.notifications)
        self.sound_var = tk.BooleanVar(self, current.sounds)
        self.mention_var = tk.BooleanVar(self, current.highlight_mentions)
        self.desktop_var = tk.BooleanVar(self, current.desktop_notifications)
        self.notify_for_var = tk.StringVar(self, current.notify_for)
        self.scrollback_var = tk.StringVar(self, str(current.scrollback_lines))
        self.targets_var = tk.StringVar(self, ", ".join(current.discovery_targets))
        self.backbone_var = tk.StringVar(self, current.backbone.replace(",", ", "))
        self.plaintext_var = tk.BooleanVar(self, current.allow_plaintext)
        self.keep_var = tk.BooleanVar(self, current.keep_history)
        self.ipmsg_var = tk.BooleanVar(self, current.ipmsg)
        self.ipmsg_encoding_var = tk.StringVar(self, current.ipmsg_encoding)
        self.history_names = {
            0: tr("forever"),
            30: tr("for 30 days"),
            90: tr("for 90 days"),
            365: tr("for 1 year"),
        }
        self.days_var = tk.StringVar(
            self, self.history_names.get(current.history_days, self.history_names[0])
        )
        self.folder_var = tk.StringVar(self, current.download_folder)
        self.auto_accept_var = tk.StringVar(self, str(current.auto_accept_images_mb))
        #: The folder chooser (replaced by tests): the folder picked, or None.
        self.choose_folder: Callable[[Path], Path | None] = lambda initial: ask_folder(self, initial)

        # Taller than many screens (768 px laptops): the sections scroll, the buttons stay.
        self.column = ScrollColumn(self, style="TFrame", padding=(22, 18, 22, 12))
        self.column.grid(row=0, column=0, sticky="nsew")
        body = self.column.body
        body.columnconfigure(1, weight=1)
        row = 0

        def label(text: str) -> None:
            ttk.Label(body, text=text).grid(row=row, column=0, sticky="w", pady=5, padx=(0, 14))

        def section(text: str) -> None:
            nonlocal row
            ttk.Label(body, text=text, style="Muted.TLabel", font="LanChatBold").grid(
                row=row, column=0, columnspan=2, sticky="w", pady=(12 if row else 0, 4)
            )
            row += 1

        def hint(text: str) -> ttk.Label:
            nonlocal row
            shown = ttk.Label(body, text=text, style="Muted.TLabel", wraplength=490, justify="left")
            shown.grid(row=row, column=1, sticky="w")
            row += 1
            return shown

        section(tr("You"))
        label(tr("Nickname"))
        self.nick_entry = ttk.Entry(body, textvariable=self.nick_var, width=26)
        self.nick_entry.grid(row=row, column=1, sticky="w")
        row += 1

        section(tr("Network"))
        label(tr("Default port"))
        self.port_entry = ttk.Entry(body, textvariable=self.port_var, width=8)
        self.port_entry.grid(row=row, column=1, sticky="w")
        row += 1
        label(tr("Transport"))
        transports = ttk.Frame(body)
        transports.grid(row=row, column=1, sticky="w")
        self.tcp_button = ttk.Radiobutton(transports, text="TCP", value="tcp", variable=self.transport_var)
        self.udp_button = ttk.Radiobutton(transports, text="UDP", value="udp", variable=self.transport_var)
        self.tcp_button.pack(side="left")
        self.udp_button.pack(side="left", padx=(14, 0))
        row += 1
        self.transport_note = ttk.Label(
            body, text=tr("Applies the next time you host or join a chat."), style="Muted.TLabel"
        )
        self.transport_note.grid(row=row, column=1, sticky="w")
        row += 1
        label(tr("Also search"))
        self.targets_entry = ttk.Entry(body, textvariable=self.targets_var, width=30)
        self.targets_entry.grid(row=row, column=1, sticky="ew")
        row += 1
        hint(tr("Addresses or subnets where chats are not found by themselves, e.g. 10.0.5.7, 10.0.6.0/24"))
        label(tr("NATS backbone"))
        self.backbone_entry = ttk.Entry(body, textvariable=self.backbone_var, width=30)
        self.backbone_entry.grid(row=row, column=1, sticky="ew")
        row += 1
        hint(tr("Chats I host are shared with other hosts over these NATS servers. Empty: alone."))
        self.plaintext_button = ttk.Checkbutton(
            body, text=tr("Let members join unencrypted in chats I host"), variable=self.plaintext_var
        )
        self.plaintext_button.grid(row=row, column=0, columnspan=2, sticky="w", pady=(6, 0))
        row += 1
        self.plaintext_hint = hint(
            tr(
                "Then nc or telnet users and older LanChat versions can join unencrypted, marked "
                "“unencrypted” for everyone. Applies from the next chat you host."
            )
        )
        self.ipmsg_button = ttk.Checkbutton(
            body, text=tr("Also talk with IP Messenger / Feiq users"), variable=self.ipmsg_var
        )
        self.ipmsg_button.grid(row=row, column=0, columnspan=2, sticky="w", pady=(6, 0))
        row += 1
        encodings = ttk.Frame(body)
        encodings.grid(row=row, column=0, columnspan=2, sticky="w", padx=(24, 0))
        ttk.Label(encodings, text=tr("Their text, unless they use UTF-8:")).pack(side="left", padx=(0, 8))
        for value, name in (("gbk", tr("Chinese (GBK)")), ("cp932", tr("Japanese (CP932)"))):
            choice = ttk.Radiobutton(encodings, text=name, value=value, variable=self.ipmsg_encoding_var)
            choice.pack(side="left")
        row += 1

        section(tr("Appearance"))
        label(tr("Theme"))
        themes = ttk.Frame(body)
        themes.grid(row=row, column=1, sticky="w")
        ttk.Radiobutton(themes, text=tr("Light"), value="light", variable=self.theme_var).pack(side="left")
        ttk.Radiobutton(themes, text=tr("Dark"), value="dark", variable=self.theme_var).pack(
            side="left", padx=(14, 0)
        )
        row += 1
        label(tr("Font size"))
        self.font_box = ttk.Spinbox(
            body, from_=st.FONT_SIZES[0], to=st.FONT_SIZES[-1], textvariable=self.font_var, width=5
        )
        self.font_box.grid(row=row, column=1, sticky="w")
        row += 1
        label(tr("Language"))
        self.language_box = ttk.Combobox(
            body,
            textvariable=self.language_var,
            values=list(self.language_names.values()),
            state="readonly",
            width=20,
        )
        self.language_box.grid(row=row, column=1, sticky="w")
        row += 1

        section(tr("Attention"))
        for text, variable in (
            (
                tr("Show the unread count and flash the taskbar while LanChat is in the background"),
                self.notify_var,
            ),
            (tr("Play a sound for new messages while LanChat is in the background"), self.sound_var),
            (tr("Highlight messages that mention my nickname"), self.mention_var),
        ):
            ttk.Checkbutton(body, text=text, variable=variable).grid(
                row=row, column=0, columnspan=2, sticky="w"
            )
            row += 1
        self.desktop_button = ttk.Checkbutton(
            body,
            text=tr("Show a desktop notification for messages in conversations I am not looking at"),
            variable=self.desktop_var,
            command=self._desktop_toggled,
        )
        self.desktop_button.grid(row=row, column=0, columnspan=2, sticky="w")
        row += 1
        notify_for = ttk.Frame(body)  # one line: the dialog is tall already
        notify_for.grid(row=row, column=0, columnspan=2, sticky="w", padx=(24, 0))
        row += 1
        self.notify_for_buttons = [
            ttk.Radiobutton(notify_for, text=text, value=value, variable=self.notify_for_var)
            for text, value in (
                (tr("For every message"), "all"),
                (tr("Only mentions of my nickname, and private messages"), "mentions"),
            )
        ]
        for button in self.notify_for_buttons:
            button.pack(side="left", padx=(0, 14))
        self._desktop_toggled()

        section(tr("Chat"))
        label(tr("Scrollback (lines)"))
        self.scrollback_entry = ttk.Entry(body, textvariable=self.scrollback_var, width=8)
        self.scrollback_entry.grid(row=row, column=1, sticky="w")
        row += 1

        label(tr("History"))
        history = ttk.Frame(body)  # one row: the dialog is tall already
        history.grid(row=row, column=1, sticky="w")
        self.keep_button = ttk.Checkbutton(
            history,
            text=tr("Keep conversations on this computer"),
            variable=self.keep_var,
            command=self._keep_toggled,
        )
        self.keep_button.pack(side="left")
        self.days_box = ttk.Combobox(
            history,
            textvariable=self.days_var,
            values=list(self.history_names.values()),
            state="readonly",
            width=12,
        )
        self.days_box.pack(side="left", padx=(8, 0))
        self._keep_toggled()
        row += 1

        section(tr("Files"))
        label(tr("Save received files in"))
        folder = ttk.Frame(body)
        folder.grid(row=row, column=1, sticky="ew")
        folder.columnconfigure(0, weight=1)
        self.folder_entry = ttk.Entry(folder, textvariable=self.folder_var, width=30)
        self.folder_entry.grid(row=0, column=0, sticky="ew")
        self.folder_button = ttk.Button(folder, text=tr("Choose…"), command=self._choose_folder)
        self.folder_button.grid(row=0, column=1, padx=(8, 0))
        row += 1
        hint(tr("Empty: {folder}").format(folder=default_folder()))
        label(tr("Accept images unasked"))
        accept = ttk.Frame(body)
        accept.grid(row=row, column=1, sticky="w")
        self.auto_accept_box = ttk.Spinbox(
            accept,
            from_=st.AUTO_ACCEPT_MB_RANGE[0],
            to=st.AUTO_ACCEPT_MB_RANGE[-1],
            textvariable=self.auto_accept_var,
            width=5,
        )
        self.auto_accept_box.pack(side="left")
        ttk.Label(accept, text=tr("MB and smaller (0: always ask)")).pack(side="left", padx=(8, 0))
        row += 1

        self.error_label = ttk.Label(body, style="Error.TLabel", wraplength=420, justify="left")
        self.error_label.grid(row=row, column=0, columnspan=2, sticky="w", pady=(10, 0))

        self.cancel_button, self.ok_button = self.add_buttons(
            (tr("Cancel"), self.cancel), (tr("OK"), self.ok)
        )

        self.bind("<Return>", lambda _e: self.ok())
        self._fit_screen()
        self.present(self.nick_entry)

    def _fit_screen(self) -> None:
        """As tall as the sections, or as the screen leaves room for (then they scroll)."""
        self.update_idletasks()
        body = self.column.body
        room = self.winfo_screenheight() - SCREEN_MARGIN
        self.column.canvas.configure(width=body.winfo_reqwidth(), height=min(body.winfo_reqheight(), room))
        self.column.refresh()

    def _choose_folder(self) -> None:
        """Pick the folder with the system's chooser, starting where files go now."""
        chosen = self.choose_folder(download_folder(self.folder_var.get()))
        if chosen is not None:
            self.folder_var.set(str(chosen))

    def _keep_toggled(self) -> None:
        """How long only matters while history is kept."""
        self.days_box.configure(state="readonly" if self.keep_var.get() else "disabled")

    def _desktop_toggled(self) -> None:
        """Which messages notify only matters while desktop notifications are on."""
        for button in self.notify_for_buttons:
            button.state(["!disabled"] if self.desktop_var.get() else ["disabled"])

    def validate(self) -> st.Settings | None:
        """The edited settings, or None (with the reason shown) when a value cannot be used."""
        try:
            language = next(
                code for code, name in self.language_names.items() if name == self.language_var.get()
            )
            result = st.replace(
                self.current,
                nickname=st.check_nickname(self.nick_var.get()),
                default_port=st.check_port(self.port_var.get()),
                transport=st.check_choice(self.transport_var.get(), st.TRANSPORTS),
                theme=st.check_choice(self.theme_var.get(), st.THEMES),
                font_size=st.check_font_size(self.font_var.get()),
                language=language,
                notifications=bool(self.notify_var.get()),
                sounds=bool(self.sound_var.get()),
                highlight_mentions=bool(self.mention_var.get()),
                desktop_notifications=bool(self.desktop_var.get()),
                notify_for=st.check_choice(self.notify_for_var.get(), st.NOTIFY_FOR),
                scrollback_lines=st.check_scrollback(self.scrollback_var.get()),
                discovery_targets=st.check_discovery_targets(self.targets_var.get()),
                backbone=st.check_backbone(self.backbone_var.get()),
                allow_plaintext=bool(self.plaintext_var.get()),
                ipmsg=bool(self.ipmsg_var.get()),
                ipmsg_encoding=st.check_choice(self.ipmsg_encoding_var.get(), st.IPMSG_ENCODINGS),
                keep_history=bool(self.keep_var.get()),
                download_folder=st.check_download_folder(self.folder_var.get()),
                auto_accept_images_mb=st.check_auto_accept_mb(self.auto_accept_var.get()),
                history_days=next(d for d, name in self.history_names.items() if name == self.days_var.get()),
            )
        except st.SettingError as exc:
            self.error_label.configure(text=str(exc))
            self._point_at_fault()
            return None
        except StopIteration:
            self.error_label.configure(text=tr("Please choose one of the offered values."))
            return None
        self.error_label.configure(text="")
        return result

    def _point_at_fault(self) -> None:
        """Put the cursor in the first typed field refused (the one `validate` names, as it
        checks them in this order), its text selected for typing over."""
        fields: tuple[tuple[ttk.Entry, Callable[[str], object]], ...] = (
            (self.nick_entry, st.check_nickname),
            (self.port_entry, st.check_port),
            (self.font_box, st.check_font_size),
            (self.scrollback_entry, st.check_scrollback),
            (self.targets_entry, st.check_discovery_targets),
            (self.folder_entry, st.check_download_folder),
            (self.auto_accept_box, st.check_auto_accept_mb),
            (self.backbone_entry, st.check_backbone),
        )
        for entry, check in fields:
            try:
                check(entry.get())
            except st.SettingError:
                entry.focus_set()
                entry.select_range(0, "end")
                self._scroll_to(entry)
                return

    def _scroll_to(self, widget: tk.Misc) -> None:
        """Scroll the sections so that `widget` shows, a little below the top."""
        self.update_idletasks()
        if self.column.visible(widget):
            return
        body = self.column.body
        top = widget.winfo_rooty() - body.winfo_rooty()
        self.column.canvas.yview_moveto(max(0, top - 60) / max(1, body.winfo_height()))

    def ok(self) -> None:
        result = self.validate()
        if result is None:
            return
        self.result = result
        destroy_now(self)
        self._on_apply(result)
