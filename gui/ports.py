"""What the controller asks of the window: two small protocols, so it can be tested with fakes.

`gui.chat_view.ChatView` implements `ChatViewPort` and `gui.app.App` implements `Shell`; the
controller calls them only through these methods (typed, so a renamed method is caught by a
type checker instead of failing at run time). The factories are how it makes clients and
hosts (`net.transports`, or fakes in tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from gui.model.changes import Incoming
from gui.model.values import Line, Status
from gui.trust import KeyWarning
from net.api import ChatClient, ChatHost, ClientConfig, EventSink, HostConfig, Transport
from net.protocol import events as ev

ClientFactory = Callable[[Transport, ClientConfig, EventSink], ChatClient]
HostFactory = Callable[[Transport, HostConfig, EventSink], ChatHost]


class ChatViewPort(Protocol):
    """What the controller asks of the chat view."""

    def add_lines(self, conversation: str | None, lines: list[Line]) -> None: ...
    def mark_delivered(self, local_id: str, when: float, mark: str, again: str = "") -> None: ...
    def mark_failed(self, local_id: str, mark: str) -> None: ...
    def set_members(self, members: list[ev.MemberInfo], typing: set[str]) -> None: ...
    def set_typing(self, conversation: str | None, names: list[str]) -> None: ...
    def set_status(self, status: Status) -> None: ...
    def set_room(self, name: str, own_nick: str) -> None: ...
    def open_private(self, key: str, nick: str, focus: bool) -> None: ...
    def rename_private(self, old_key: str, new_key: str, nick: str) -> None: ...
    def clear(self, conversation: str | None) -> None: ...


class Shell(Protocol):
    """What the controller asks of the application window."""

    def show_chat(self) -> ChatViewPort: ...
    def show_start(self, error: str | None = None, *, nickname_wrong: bool = False) -> None:
        """Back to the start view, saying `error`; the cursor in the nickname when it is at fault."""

    def quit(self) -> None: ...
    def attention(self, count: int, mention: bool, incoming: list[Incoming]) -> None:
        """`count` messages from others arrived (`mention`: one names us or is private);
        `incoming` lists the batch's live messages, ours too (for desktop notifications)."""

    def save_settings(self) -> None: ...
    def warn_key(self, warning: KeyWarning) -> None:
        """The room showed another key: warn; join again (`Controller.rejoin`) only if told to."""

    def ask_password(self, address: str, wrong: bool) -> None:
        """The room at `address` needs a password: ask, and join again with it if given."""
