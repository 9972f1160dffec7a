"""What the window's own file jobs post to the session's sink (beside `net.files.events`),
and every event type `FileSharing.tap` takes out of a batch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from net.files import events as fe

Key = tuple[str, str]  # (sender, offer id)


@dataclass(frozen=True, slots=True)
class OfferSent:
    """Our offer `offer` of `paths` went out (posted by the worker after `offer` returned)."""

    offer: str
    to: str | None
    paths: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class SendFailed:
    to: str | None
    text: str


@dataclass(frozen=True, slots=True)
class PictureRead:
    """A thumbnail of `path` was made (a PIL image), for the card `key`."""

    key: Key
    path: Path
    image: object


WINDOW_EVENTS = (OfferSent, SendFailed, PictureRead)
FILE_EVENTS = (
    fe.OfferReceived,
    fe.OfferMade,
    fe.OfferAnswered,
    fe.OfferCancelled,
    fe.TransferProgress,
    fe.TransferFinished,
    fe.TransferFailed,
    fe.TransferServed,
    *WINDOW_EVENTS,
)
