"""What the window's own file jobs post to the session's sink (beside `net.files.events`),
and which events `FileSharing.tap` takes out of a batch (`is_file_event`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from net.files import events as fe
from net.protocol import events as ev

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
    fe.TransferRouted,
    fe.OfferReceived,
    fe.OfferMade,
    fe.OfferAnswered,
    fe.OfferCancelled,
    fe.TransferProgress,
    fe.TransferFinished,
    fe.TransferFailed,
    fe.TransferServed,
    fe.TransferPaused,
    fe.TransferResumed,
    *WINDOW_EVENTS,
)

#: The host's refusal of an offer whose member reads no file notices (docs/PROTOCOL.md).
FILES_UNSUPPORTED = "files_unsupported"


def is_file_event(event: object) -> bool:
    """A transfer's event, ours, or the host's refusal of one of our offers (its `ref`)."""
    if isinstance(event, ev.Error):
        return event.code == FILES_UNSUPPORTED and event.ref is not None
    return isinstance(event, FILE_EVENTS)
