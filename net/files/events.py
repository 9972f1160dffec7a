"""What file transfers tell their owner (the GUI, the terminal client, tests).

`net.files.transfers.FileTransfers` hands these to the owner's event sink, from the
client's I/O thread (offers, answers) or from a fetch's thread (progress, results): a GUI
queues them for its main thread like every other client event.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class OfferReceived:
    """`sender` offers files: to us alone (`private`) or to the room."""

    offer: str
    sender: str
    names: tuple[str, ...]
    count: int
    size: int
    private: bool


@dataclass(frozen=True, slots=True)
class OfferMade:
    """Our offer is out: its id, what it holds, and the links left out of its folders."""

    offer: str
    to: str | None
    count: int
    size: int
    skipped: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OfferAnswered:
    """`member` accepted (a token went to it) or declined our offer."""

    offer: str
    member: str
    accepted: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OfferCancelled:
    """`sender` withdrew its offer (a fetch of it stops; its `.part` files stay)."""

    offer: str
    sender: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TransferProgress:
    """A fetch of `sender`'s offer: `done` of `total` bytes (resumed ones included), at
    `speed` bytes a second over this connection, `files_done` of `files`."""

    offer: str
    sender: str
    done: int
    total: int
    speed: float
    files_done: int
    files: int
    route: str = (
        "direct"  # "direct" from the sender, "host" through the host's relay, "cache" from the host's copy
    )

    @property
    def seconds_left(self) -> float | None:
        return (self.total - self.done) / self.speed if self.speed > 0 else None


@dataclass(frozen=True, slots=True)
class TransferFinished:
    """Every file of the offer is in `folder`, checked against the sender's SHA-256.
    `received` bytes came over the wire, `resumed` were already in `.part` files."""

    offer: str
    sender: str
    folder: Path
    files: tuple[Path, ...]
    received: int
    resumed: int
    route: str = (
        "direct"  # how the bytes came: "direct" from the sender, "host" relayed, "cache" the host's copy
    )


@dataclass(frozen=True, slots=True)
class TransferFailed:
    """The fetch stopped; `code` says why (docs/PROTOCOL.md, "File transfers"), `text` says
    it for the user. Accepting again resumes from the `.part` files."""

    offer: str
    sender: str
    code: str
    text: str


@dataclass(frozen=True, slots=True)
class TransferServed:
    """Sender side: a member's fetch of our offer ended (`error` None: all it wanted went)."""

    offer: str
    member: str
    sent: int
    error: str | None
    route: str = "direct"  # "host": through the host's relay; "cache": the upload to the host's copy


@dataclass(frozen=True, slots=True)
class TransferRouted:
    """A fetch of `sender`'s offer changes route: the direct connection was refused, so it
    goes through the host's relay (`route` "host"), or the host's copy failed, so it comes
    from the sender after all ("direct"); `text` says why, for the details."""

    offer: str
    sender: str
    route: str
    text: str


@dataclass(frozen=True, slots=True)
class TransferPaused:
    """A fetch of `sender`'s offer is paused (its `.part` files stay), by "me" (our
    `pause_fetch`) or by the "sender" (its `pause_upload`)."""

    offer: str
    sender: str
    by: str


@dataclass(frozen=True, slots=True)
class TransferResumed:
    """A paused fetch continues from its `.part` files (`by`: who had paused it)."""

    offer: str
    sender: str
    by: str
