"""What we offered to IP Messenger users, so that a GETFILEDATA / GETDIRFILES is served only
to the peer we offered to, and only the files offered (by the offer's packet number and the
file's id). No I/O: `files_of` stats what the user chose, on the caller's thread.

Thread-safe (a lock): the bridge's thread adds offers and releases them (RELEASEFILES), the
file server's threads look them up. Bounded: at most `MAX_OFFERS` are open (the oldest is
withdrawn beyond it), each at most `MAX_ATTACHMENTS` files, each open `OFFER_LIFETIME`.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from net.files.names import UnsafeName, check_component
from net.ipmsg import codec as c
from net.ipmsg.attachments import MAX_ATTACHMENTS, Attachment

MAX_OFFERS = 64
#: Seconds an offer can be fetched after it was made.
OFFER_LIFETIME = 24 * 60 * 60.0
#: Entries counted when a folder's size is announced (beyond it the size is a lower bound).
MAX_COUNTED_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class OfferedFile:
    """One file or folder of ours, as offered (its path stays on this PC)."""

    attachment: Attachment
    path: Path


@dataclass(frozen=True, slots=True)
class Offer:
    address: str  # "ip:port" of the peer it was sent to
    packet_no: int
    files: tuple[OfferedFile, ...]
    made: float
    encoding: str = "utf-8"  # the peer's: names in a folder's stream are written in it


def host_of(address: str) -> str:
    """The IP part of "ip:port" (or "[v6]:port")."""
    host = address.rsplit(":", 1)[0]
    return host.strip("[]")


def files_of(paths: list[Path]) -> list[OfferedFile]:
    """The offer's entries for `paths` (files and folders, links not followed): ValueError with
    a sentence for a path that cannot be offered."""
    if not paths:
        raise ValueError("no files chosen")
    if len(paths) > MAX_ATTACHMENTS:
        raise ValueError(f"more than {MAX_ATTACHMENTS} files in one offer")
    offered = []
    for file_id, path in enumerate(paths):
        try:
            info = os.lstat(path)
            name = check_component(path.name)
        except OSError as exc:
            raise ValueError(f"{path.name}: {exc.strerror or exc}") from None
        except UnsafeName as exc:
            raise ValueError(str(exc)) from None
        if stat.S_ISDIR(info.st_mode):
            attachment = Attachment(file_id, name, folder_size(path), int(info.st_mtime), c.FILE_DIR)
        elif stat.S_ISREG(info.st_mode):
            attachment = Attachment(file_id, name, info.st_size, int(info.st_mtime), c.FILE_REGULAR)
        else:
            raise ValueError(f"{path.name} is neither a file nor a folder")
        offered.append(OfferedFile(attachment, path))
    return offered


def folder_size(path: Path) -> int:
    """The bytes of the regular files under `path` (links not followed), bounded in entries."""
    total, seen, stack = 0, 0, [path]
    while stack and seen < MAX_COUNTED_ENTRIES:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    seen += 1
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


class OfferBook:
    """Our open offers (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offers: OrderedDict[int, Offer] = OrderedDict()

    def add(self, offer: Offer) -> None:
        with self._lock:
            self._offers[offer.packet_no] = offer
            while len(self._offers) > MAX_OFFERS:
                self._offers.popitem(last=False)

    def find(
        self, packet_no: int, file_id: int, peer_host: str, now: float
    ) -> tuple[Offer, OfferedFile] | None:
        """The offered file asked for, if `peer_host` is who it was offered to and it is open."""
        with self._lock:
            offer = self._offers.get(packet_no)
        if offer is None or host_of(offer.address) != peer_host or now - offer.made > OFFER_LIFETIME:
            return None
        found = next((f for f in offer.files if f.attachment.file_id == file_id), None)
        return (offer, found) if found is not None else None

    def offered_to(self, peer_host: str, now: float) -> bool:
        """Whether an open offer went to `peer_host` (a connection from anyone else is closed
        at once, before it takes a serving thread)."""
        with self._lock:
            offers = list(self._offers.values())
        return any(host_of(o.address) == peer_host and now - o.made <= OFFER_LIFETIME for o in offers)

    def release(self, address: str, packet_no: int) -> bool:
        """The peer is done with it (RELEASEFILES from the address it was offered to)."""
        with self._lock:
            offer = self._offers.get(packet_no)
            if offer is None or host_of(offer.address) != host_of(address):
                return False
            del self._offers[packet_no]
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._offers)
