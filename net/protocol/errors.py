"""One family of protocol errors: each carries the wire `code` and a `text` for people.

- `DecodeError`: a frame that cannot become an event (raised by the codec).
- `RemoteProtocolError`: the peer broke the protocol; `fatal` when the connection is now
  closed. The transport answers it with `to_event()` in its place among the events.
- `LocalProtocolError`: this side tried something the protocol does not allow now (a bug
  in our code, or a send after the connection closed).

Callers that only need to know "the protocol said no" catch `ProtocolError`.
"""

from __future__ import annotations

from net.protocol import events as ev


class ProtocolError(Exception):
    """Base of the protocol's errors: `code` for the wire, `text` for people."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text

    def to_event(self) -> ev.Error:
        """The error frame that tells the peer what went wrong."""
        return ev.Error(code=self.code, text=self.text)


class DecodeError(ProtocolError, ValueError):
    """A frame that cannot become an event; `code` is the wire error code to report."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something invalid. `fatal` means the connection is now closed."""

    def __init__(self, code: str, text: str, *, fatal: bool) -> None:
        super().__init__(code, text)
        self.fatal = fatal

    def __str__(self) -> str:
        return f"{self.code}: {self.text}"


class LocalProtocolError(ProtocolError, RuntimeError):
    """This side tried something the protocol does not allow in the current state."""
