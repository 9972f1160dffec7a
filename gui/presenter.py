"""Showing what a batch changed (`Changes`) on the chat view, through `ChatViewPort`. No Tk.

The controller decides when; this is the one place that knows in which order the view's
panels are told: view operations first, then the new lines, then the refreshes.
"""

from __future__ import annotations

from gui.model import changes as out
from gui.model.changes import Changes
from gui.model.chat import ChatModel
from gui.model.values import ROOM
from gui.ports import ChatViewPort


def show_changes(view: ChatViewPort, model: ChatModel, changes: Changes) -> None:
    for op in changes.ops:
        match op:
            case out.SetRoom(name=name, own_nick=own_nick):
                view.set_room(name, own_nick)
            case out.OpenPrivate(key=key, nick=nick, focus=focus):
                view.open_private(key, nick, focus)
            case out.RenamePrivate(old_key=old_key, new_key=new_key, nick=nick):
                view.rename_private(old_key, new_key, nick)
            case out.MarkDelivered(local_id=local_id, time=when, mark=mark, again=again):
                view.mark_delivered(local_id, when, mark, again)
            case out.MarkFailed(local_id=local_id, mark=mark):
                view.mark_failed(local_id, mark)
    for conversation, lines in changes.lines.items():
        view.add_lines(conversation, lines)
    if changes.members or changes.typing:
        view.set_members(model.sorted_members(), model.typing_nicks())
        view.set_typing(ROOM, model.room_typists())
    if changes.typing:
        for key, names in model.private_typists().items():
            view.set_typing(key, names)
    if changes.status:
        view.set_status(model.status())
