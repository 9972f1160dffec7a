"""The two dialogs a join may need: a room showing another key, and a room's password.

Both are `gui.dialogs.Dialog`s: they show what they are given and report the user's answer
through a callback; the decisions are plain functions elsewhere (`gui.trust.code_to_rejoin`,
`gui.settings.check_password`), so tests check them without a window and drive these with
``invoke()``.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from functools import partial
from tkinter import ttk

from gui.dialogs import Dialog
from gui.i18n import tr
from gui.lifetime import destroy_now
from gui.settings import SettingError, check_password
from gui.trust import KeyChoice, KeyWarning
from gui.wording import key_warning_text, key_warning_title

WRAP = 440


class KeyWarningDialog(Dialog):
    """The room's key is not the expected one: both codes, and "Don't connect" (the default)."""

    def __init__(
        self, master: tk.Misc, warning: KeyWarning, on_choice: Callable[[KeyWarning, KeyChoice], None]
    ) -> None:
        super().__init__(master, tr("Security warning"))
        self.warning = warning
        self.choice: KeyChoice | None = None
        self._on_choice = on_choice
        body = ttk.Frame(self, padding=(22, 18, 22, 12))
        body.grid(row=0, column=0, sticky="nsew")
        self.heading = ttk.Label(body, text=key_warning_title(warning), style="WarnHeading.TLabel")
        self.heading.grid(row=0, column=0, columnspan=2, sticky="w", pady=(0, 10))
        self.message = ttk.Label(body, text=key_warning_text(warning), wraplength=WRAP, justify="left")
        self.message.grid(row=1, column=0, columnspan=2, sticky="w")
        codes = (
            (tr("Expected code"), warning.expected, "Code.TLabel"),
            (tr("Code shown now"), warning.shown, "BadCode.TLabel"),
        )
        for row, (caption, code, style) in enumerate(codes, start=2):
            ttk.Label(body, text=caption).grid(row=row, column=0, sticky="w", padx=(0, 14), pady=(10, 0))
            ttk.Label(body, text=code, style=style).grid(row=row, column=1, sticky="w", pady=(10, 0))
        self.connect_button, self.dont_button = self.add_buttons(
            (tr("Connect anyway"), partial(self.choose, KeyChoice.CONNECT_ANYWAY)),
            (tr("Don’t connect"), partial(self.choose, KeyChoice.DONT_CONNECT)),
            top=6,
        )
        self.bind("<Return>", lambda _e: self.choose(KeyChoice.DONT_CONNECT))
        self.present(self.dont_button)

    def choose(self, choice: KeyChoice) -> None:
        self.choice = choice
        destroy_now(self)
        self._on_choice(self.warning, choice)

    def cancel(self) -> None:
        self.choose(KeyChoice.DONT_CONNECT)


class PasswordDialog(Dialog):
    """Asks for a room's password (masked); `on_done(password)`, or `on_done(None)` on Cancel."""

    def __init__(
        self, master: tk.Misc, address: str, wrong: bool, on_done: Callable[[str | None], None]
    ) -> None:
        super().__init__(master, tr("Password needed"))
        self._on_done = on_done
        self.password_var = tk.StringVar(self, "")
        body = ttk.Frame(self, padding=(22, 18, 22, 12))
        body.grid(row=0, column=0, sticky="nsew")
        text = (
            tr("That password was not right. Type the password of the chat at {address} again.")
            if wrong
            else tr("The chat at {address} needs a password to join.")
        )
        self.message = ttk.Label(body, text=text.format(address=address), wraplength=WRAP, justify="left")
        self.message.grid(row=0, column=0, columnspan=2, sticky="w", pady=(0, 10))
        ttk.Label(body, text=tr("Password")).grid(row=1, column=0, sticky="w", padx=(0, 14))
        self.entry = ttk.Entry(body, textvariable=self.password_var, show="•", width=30)
        self.entry.grid(row=1, column=1, sticky="ew")
        self.error_label = ttk.Label(body, style="Error.TLabel", wraplength=WRAP, justify="left")
        self.error_label.grid(row=2, column=0, columnspan=2, sticky="w", pady=(8, 0))
        self.error_label.grid_remove()  # shown with a reason only
        self.cancel_button, self.ok_button = self.add_buttons(
            (tr("Cancel"), self.cancel), (tr("Join"), self.ok)
        )
        self.bind("<Return>", lambda _e: self.ok())
        self.present(self.entry)

    def validate(self) -> str | None:
        """The password typed, or None (with the reason shown) when there is none to try."""
        try:
            password = check_password(self.password_var.get(), required=True)
        except SettingError as exc:
            self.error_label.configure(text=str(exc))
            self.error_label.grid()
            return None
        return password

    def ok(self) -> None:
        password = self.validate()
        if password is not None:
            destroy_now(self)
            self._on_done(password)

    def cancel(self) -> None:
        destroy_now(self)
        self._on_done(None)
