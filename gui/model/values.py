"""Plain values shared by the model, the controller and the views.

They are data only, so a view can take them from the controller (or a test can build them)
without either side knowing how the other is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from net.api import ClientState

#: The conversation key of the room; a private conversation's key is the other's `nick_key`.
ROOM: Final = None


@dataclass(frozen=True, slots=True)
class Line:
    """One entry of a transcript, as the model describes it."""

    kind: str  # "message", "action", "system" or "error"
    text: str
    time: float  # seconds since the epoch (shown as the local time of day)
    sender: str = ""
    own: bool = False
    local_id: str | None = None  # an own message still waiting for the host's ack
    mark: str = ""  # after an own message: how its delivery stands (`gui.model.delivery`)


@dataclass(frozen=True, slots=True)
class Status:
    """What the status bar shows: a snapshot, made anew for every change."""

    state: ClientState = ClientState.DISCONNECTED
    reason: str = ""  # a sentence when the connection failed or was lost
    transport: str = "TCP"
    address: str = ""  # host:port as the user would type it
    port: int = 0
    hosting: bool = False
    rtt: float | None = None  # seconds
    retry_in: float | None = None  # seconds until the next reconnect attempt, when reconnecting
    encrypted: bool = False  # the host proved its key over TLS (every connection of ours is TLS)
    code: str = ""  # the room code of the key the host proved


@dataclass(frozen=True, slots=True)
class Overflowed:
    """`count` chat messages were left out because the window stopped taking events.

    The event bridge makes it; the model words it in the room.
    """

    count: int
