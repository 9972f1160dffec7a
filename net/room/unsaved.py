"""What the host's journal has not taken yet: the room's new messages and the mailbox's changes.

Nothing is noted until a journal is kept (`start`): a room without one pays one `None`
check per message. The host takes it all after each round, before any byte of that round
leaves (`net.host.driver.RoomDriver.make_durable`).
"""

from __future__ import annotations

from net.protocol import events as ev
from net.room.mailbox import Change, Mailbox


class Unsaved:
    def __init__(self, mailbox: Mailbox) -> None:
        self._mailbox = mailbox
        #: Room messages since the last `take` (None: nobody keeps a journal).
        self.messages: list[ev.ChatMessage] | None = None

    def start(self) -> None:
        self.messages = []
        self._mailbox.changes = []

    def stop(self) -> None:
        """The journal failed: note nothing more."""
        self.messages = None
        self._mailbox.changes = None

    def __bool__(self) -> bool:
        return bool(self.messages) or bool(self._mailbox.changes)

    def take(self) -> tuple[list[ev.ChatMessage], list[Change]]:
        messages = self.messages or []
        if messages:
            self.messages = []
        return messages, self._mailbox.take_changes()
