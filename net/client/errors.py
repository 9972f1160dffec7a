"""Why a client refused to queue a message: three reasons, one base class, and the rules
for a message's text that raise the first two (`sendable_text`).

The window words each one differently (nothing to send, too long, too many still waiting),
so each is its own class; they share `SendRefused` for callers that only need to know that
nothing was queued, and that is a `ValueError`, as every refusal was before.
"""

from __future__ import annotations

from net.protocol.codec import has_bad_chars
from net.protocol.limits import MAX_TEXT_CHARS


class SendRefused(ValueError):
    """The message was not queued: nothing was sent and nothing will be."""


class MessageEmpty(SendRefused):
    """Nothing is left to send once the text is cleaned (blank, or control characters only)."""

    def __init__(self) -> None:
        super().__init__("the message is empty")


class MessageTooLong(SendRefused):
    """The text is longer than one message may be."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the message is longer than {limit} characters")
        self.limit = limit


class OutboxFull(SendRefused):
    """Too many earlier messages are still waiting for the host's ack."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"too many messages are waiting to be sent (at most {limit})")
        self.limit = limit


def clean_text(text: str) -> str:
    """Normalise line ends and drop characters the protocol refuses (other control codes)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(char for char in text if char in "\n\t" or not has_bad_chars(char))


def sendable_text(text: str) -> str:
    """`text` as it is sent: cleaned, without trailing blanks; raises `MessageEmpty` when
    nothing is left and `MessageTooLong` when it is too long for one message."""
    text = clean_text(text).rstrip()
    if not text.strip():
        raise MessageEmpty()
    if len(text) > MAX_TEXT_CHARS:
        raise MessageTooLong(MAX_TEXT_CHARS)
    return text
