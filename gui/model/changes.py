"""What a batch of network events changed: the model's answer, for the controller to show.

The model never calls a view. For each batch it returns one `Changes`: the new lines per
conversation, the view operations in the order they happened (small typed tuples, as the
room answers the transports in `net.room.outputs`), and which panels need a refresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from gui.model.values import Line
from net.api import FailureKind, KeyRejected


class SetRoom(NamedTuple):
    """The room's name or our own nickname is new."""

    name: str
    own_nick: str


class OpenPrivate(NamedTuple):
    """Show the private conversation `key` with `nick` (brought to the front if `focus`)."""

    key: str
    nick: str
    focus: bool


class RenamePrivate(NamedTuple):
    """The private conversation `old_key` is now with `nick` (key `new_key`)."""

    old_key: str
    new_key: str
    nick: str


class MarkDelivered(NamedTuple):
    """The host acknowledged our message `local_id`, taken at `time` (the host's clock: the
    time the others see); `mark` replaces its "sending" mark."""

    local_id: str
    time: float
    mark: str
    #: Not empty: the message is marked again later under this id (`held_key`).
    again: str = ""


class MarkFailed(NamedTuple):
    """Our message `local_id` will not be delivered; `mark` says so and why."""

    local_id: str
    mark: str


class Incoming(NamedTuple):
    """A message that arrived live (history replayed on joining is not): what a desktop
    notification is made of. `conversation` is `ROOM` or the private conversation's key."""

    conversation: str | None
    sender: str
    text: str
    action: bool = False
    private: bool = False
    offer: bool = False  # a file offer (`text` says what it holds), not a message


ViewOp = SetRoom | OpenPrivate | RenamePrivate | MarkDelivered | MarkFailed


@dataclass(slots=True)
class Changes:
    """Everything one batch changed. Lines are shown after `ops`, refreshes after the lines."""

    lines: dict[str | None, list[Line]] = field(default_factory=dict)
    ops: list[ViewOp] = field(default_factory=list)
    members: bool = False  # the member list changed
    typing: bool = False  # who is typing changed
    status: bool = False  # the status bar changed
    attention: int = 0  # messages from others
    mention: bool = False  # one of them names us or is private
    incoming: list[Incoming] = field(default_factory=list)  # live messages, ours too, in order
    opened: bool = False  # the first welcome: the chat view must be shown
    failed: str | None = None  # the first connection failed: back to the start with this sentence
    failure: FailureKind | None = None  # why it failed (a password to ask for, a key to warn of)
    rejected: KeyRejected | None = None  # why: the host showed another key than expected
    verified: bytes | None = None  # the host proved this key (to be pinned)

    def add(self, conversation: str | None, line: Line) -> None:
        self.lines.setdefault(conversation, []).append(line)
