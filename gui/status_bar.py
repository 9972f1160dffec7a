"""The chat view's status bar: the connection's state, whether it is encrypted, the transport,
where, and the latency.

It shows the `Status` snapshots the controller hands the chat view; it keeps no clock of
its own (the reconnect countdown arrives counted down).
"""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from gui.emoji import label_text
from gui.i18n import retranslated, tr
from gui.model.values import Status
from gui.wording import state_text
from gui.wrapping import wrap_to_width
from net.api import ClientState

_DOT_STYLES = {ClientState.CONNECTED: "Ok.Status.TLabel", ClientState.DISCONNECTED: "Bad.Status.TLabel"}
#: A padlock, 10 x 12 pixels (an XBM bitmap: Tk draws colour emoji badly or not at all).
_LOCK_XBM = """#define lock_width 10
#define lock_height 12
static unsigned char lock_bits[] = {
 0xfc, 0x00, 0x86, 0x01, 0x02, 0x01, 0x02, 0x01, 0xff, 0x03, 0xff, 0x03,
 0xcf, 0x03, 0xcf, 0x03, 0xdf, 0x03, 0xff, 0x03, 0xff, 0x03, 0xff, 0x03};"""


class StatusBar(ttk.Frame):
    """A coloured dot, the state (with the reason it failed), the padlock while the link is
    encrypted, and the details on the right."""

    def __init__(self, master: tk.Misc) -> None:
        super().__init__(master, style="Status.TFrame", padding=(14, 4))
        self.columnconfigure(1, weight=1)
        self.status_dot = ttk.Label(self, text="●", style="Warn.Status.TLabel")
        self.status_dot.grid(row=0, column=0, padx=(0, 6))
        # A reconnect's reason is a sentence or two: it wraps onto more lines where it does not
        # fit beside the details, instead of being cut off under them.
        self.status_label = ttk.Label(self, style="Status.TLabel", justify="left")
        self.status_label.grid(row=0, column=1, sticky="ew", padx=(0, 12))
        wrap_to_width(self.status_label)
        self.lock_image = tk.BitmapImage(master=self, data=_LOCK_XBM)
        self.security_label = ttk.Label(
            self, style="Ok.Status.TLabel", image=self.lock_image, compound="left"
        )
        self.security_label.grid(row=0, column=2, sticky="e", padx=(0, 12))
        self.status_details = ttk.Label(self, style="Status.TLabel")
        self.status_details.grid(row=0, column=3, sticky="e")

    def show(self, status: Status) -> None:
        self.status_dot.configure(style=_DOT_STYLES.get(status.state, "Warn.Status.TLabel"))
        text = state_text(status.state, status.address, status.retry_in)
        if status.reason:  # made when it happened: said again in the language now in use
            text += " — " + retranslated(status.reason)
        self.status_label.configure(text=label_text(text))  # the reason may quote the host
        if status.encrypted and status.state is ClientState.CONNECTED:
            colour = ttk.Style(self).lookup("Ok.Status.TLabel", "foreground")
            self.lock_image.configure(foreground=colour)
            self.security_label.configure(text=" " + tr("Encrypted"))
            self.security_label.grid()
        else:
            self.security_label.grid_remove()
        where = (
            tr("hosting on this PC, port {port}").format(port=status.port)
            if status.hosting
            else status.address
        )
        details = [status.transport, where]
        if status.rtt is not None:
            details.append(tr("{ms} ms").format(ms=max(1, round(status.rtt * 1000))))
        self.status_details.configure(text="  ·  ".join(part for part in details if part))
