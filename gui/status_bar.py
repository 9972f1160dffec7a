"""The chat view's status bar: the connection's state, the transport, where, and the latency.

It shows the `Status` snapshots the controller hands the chat view; it keeps no clock of
its own (the reconnect countdown arrives counted down).
"""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from gui.i18n import tr
from gui.model.values import Status
from gui.wording import state_text
from net.api import ClientState

_DOT_STYLES = {ClientState.CONNECTED: "Ok.Status.TLabel", ClientState.DISCONNECTED: "Bad.Status.TLabel"}


class StatusBar(ttk.Frame):
    """A coloured dot, the state (with the reason it failed) and the details on the right."""

    def __init__(self, master: tk.Misc) -> None:
        super().__init__(master, style="Status.TFrame", padding=(14, 4))
        self.columnconfigure(1, weight=1)
        self.status_dot = ttk.Label(self, text="●", style="Warn.Status.TLabel")
        self.status_dot.grid(row=0, column=0, padx=(0, 6))
        self.status_label = ttk.Label(self, style="Status.TLabel")
        self.status_label.grid(row=0, column=1, sticky="w")
        self.status_details = ttk.Label(self, style="Status.TLabel")
        self.status_details.grid(row=0, column=2, sticky="e")

    def show(self, status: Status) -> None:
        self.status_dot.configure(style=_DOT_STYLES.get(status.state, "Warn.Status.TLabel"))
        text = state_text(status.state, status.address, status.retry_in)
        if status.reason:
            text += " — " + status.reason
        self.status_label.configure(text=text)
        where = (
            tr("hosting on this PC, port {port}").format(port=status.port)
            if status.hosting
            else status.address
        )
        details = [status.transport, where]
        if status.rtt is not None:
            details.append(tr("{ms} ms").format(ms=max(1, round(status.rtt * 1000))))
        self.status_details.configure(text="  ·  ".join(part for part in details if part))
