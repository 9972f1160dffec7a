"""A `ChatClient` that hands every call to the client it wraps: the base of the window's
client wrappers (history, files, takeover), which each change one or two calls.

Several features attach to the session's client by wrapping it in the client factory
(`gui.history_keeper`, `gui.files.session`, `gui.takeover`), so the controller needs no
line for any of them; written once here, each wrapper is only what it adds.
"""

from __future__ import annotations

from net.api import ChatClient, ClientState


class ClientWrapper:
    """Delegates the `ChatClient` calls (and anything else, for tests) to `wrapped`."""

    def __init__(self, client: ChatClient) -> None:
        self._client = client

    @property
    def wrapped(self) -> ChatClient:
        """The client itself (tests reach into it)."""
        return self._client

    def __getattr__(self, name: str) -> object:  # what else the real client has (tests reach in)
        return getattr(self._client, name)

    @property
    def state(self) -> ClientState:
        return self._client.state

    @property
    def nick(self) -> str:
        return self._client.nick

    @property
    def pending(self) -> list[str]:
        return self._client.pending

    def start(self) -> None:
        self._client.start()

    def send_message(self, text: str, *, to: str | None = None, action: bool = False) -> str:
        return self._client.send_message(text, to=to, action=action)

    def rename(self, nick: str) -> None:
        self._client.rename(nick)

    def set_typing(self, active: bool, to: str | None = None) -> None:
        self._client.set_typing(active, to)

    def request_members(self) -> None:
        self._client.request_members()

    def close(self, reason: str = "") -> None:
        self._client.close(reason)
