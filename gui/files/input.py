"""The chat view's file controls: the "Send files" button, /send, Ctrl+V and drag and drop.

Attached from outside (`attach_input`) so the chat view itself stays as it was: a
menu button beside Send, a bindtag in front of the input box's own (it takes `/send PATH`
and Enter, and Ctrl+V when the clipboard holds a picture and no text; anything else goes
on to the box as before), a label in the status bar for the transfers' summary, and the
conversations and the input box as drop targets where tkdnd loads (it ships inside the
tkinterdnd2 package; where it cannot load, a note is logged and the rest works).
"""

from __future__ import annotations

import logging
import tkinter as tk
from pathlib import Path
from tkinter import ttk
from typing import TYPE_CHECKING

from gui.conversation import ConversationPane
from gui.files.clipboard import clipboard_content, save_png
from gui.files.rules import send_command
from gui.i18n import tr

if TYPE_CHECKING:
    from gui.chat_view import ChatView
    from gui.files.sharing import FileSharing

log = logging.getLogger(__name__)

BINDTAG = "LanChatFiles"
_dnd_loaded: dict[str, bool] = {}  # interpreter -> whether tkdnd loaded


def attach_input(view: ChatView, sharing: FileSharing) -> ttk.Label:
    """Give `view` its file controls; returns the status bar's summary label."""
    bar = view.send_button.master
    button = ttk.Menubutton(bar, text=tr("Send files…"), direction="above")
    menu = tk.Menu(button, tearoff=False)
    menu.add_command(label=tr("Files…"), command=lambda: sharing.send_chosen(False, view.current_key()))
    menu.add_command(label=tr("A folder…"), command=lambda: sharing.send_chosen(True, view.current_key()))
    button.configure(menu=menu)
    button.grid(row=0, column=3, sticky="ns", padx=(8, 0))
    view.files_button = button  # type: ignore[attr-defined]  # tests and screenshots find it here

    view.input.bindtags((BINDTAG, *view.input.bindtags()))
    view.input.bind_class(BINDTAG, "<Return>", lambda _e: _on_return(view, sharing))
    view.input.bind_class(BINDTAG, "<KP_Enter>", lambda _e: _on_return(view, sharing))
    view.input.bind_class(BINDTAG, "<Control-v>", lambda _e: _on_paste(view, sharing))

    summary = ttk.Label(view.status_bar, style="Status.TLabel")
    summary.grid(row=0, column=4, sticky="e", padx=(12, 0))

    if load_dnd(view):
        for pane in view.panes.values():
            _drop_target(pane.text, view, sharing)
        _drop_target(view.input, view, sharing)
        added = view.pane_added

        def pane_added(key: str | None, pane: ConversationPane) -> object:
            _drop_target(pane.text, view, sharing)
            return added(key, pane)

        view.pane_added = pane_added
    return summary


def _on_return(view: ChatView, sharing: FileSharing) -> str | None:
    """`/send PATH` (or `/send` alone: the chooser) offers files here; the rest goes on."""
    path = send_command(view.input.get("1.0", "end-1c"))
    if path is None:
        return None
    if not path:
        sharing.send_chosen(False, view.current_key())
    elif sharing.send([Path(path).expanduser()], view.current_key()):
        view.history.add(view.input.get("1.0", "end-1c"))
    else:
        return "break"  # kept, for fixing
    view.input.delete("1.0", "end")
    return "break"


def _on_paste(view: ChatView, sharing: FileSharing) -> str | None:
    """Ctrl+V: text pastes as ever; without text, a picture or files on the clipboard are sent."""
    return None if _has_text(view) else paste(view, sharing, clipboard_content())


def paste(view: ChatView, sharing: FileSharing, content: object) -> str | None:
    """What Ctrl+V does with `content` (from `clipboard_content`): a picture is saved as a PNG
    and sent to the conversation shown, copied files are sent; None lets the box paste."""
    if content is None:
        return None
    if isinstance(content, list):
        paths = [Path(str(item)) for item in content if Path(str(item)).exists()]
        if not paths:
            return None
        sharing.send(paths, view.current_key())
        return "break"
    try:
        path = save_png(content)
    except (OSError, ValueError) as exc:
        log.warning("cannot save a pasted picture: %s", exc)
        return None
    sharing.send([path], view.current_key())
    return "break"


def _has_text(view: ChatView) -> bool:
    try:
        return bool(view.clipboard_get())
    except tk.TclError:
        return False


def load_dnd(widget: tk.Misc) -> bool:
    """Load tkdnd into `widget`'s interpreter once; False (logged) where it cannot load."""
    interpreter = str(widget.tk.interpaddr())
    if interpreter not in _dnd_loaded:
        try:
            from tkinterdnd2 import TkinterDnD  # type: ignore[import-untyped]

            TkinterDnD._require(widget)
            _dnd_loaded[interpreter] = True
        except (ImportError, RuntimeError, tk.TclError) as exc:
            log.warning("drag and drop is not available here: %s", exc)
            _dnd_loaded[interpreter] = False
    return _dnd_loaded[interpreter]


def _drop_target(widget: tk.Misc, view: ChatView, sharing: FileSharing) -> None:
    widget.drop_target_register("DND_Files")  # type: ignore[attr-defined]  # added by tkinterdnd2
    widget.dnd_bind("<<Drop>>", lambda event: dropped(view, sharing, event.data))  # type: ignore[attr-defined]


def dropped(view: ChatView, sharing: FileSharing, data: str) -> str:
    """Files or folders dropped on the conversation: offered in the one shown."""
    paths = [Path(name) for name in view.tk.splitlist(data) if name]
    if paths:
        sharing.send(paths, view.current_key())
    return "copy"
