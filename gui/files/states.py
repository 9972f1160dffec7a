"""How each card's transfer stands, without a window: the receiving side's state, and for
our own offers which members are fetching and which we asked to pause. No Tk.

Kept apart from the widgets so the pause rules (who is asked to pause or resume, what
counts as paused in the status bar) are unit-tested on their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from net.files import events as fe

if TYPE_CHECKING:
    from gui.files.cards import FileCard

OWN = ""  # the sender of our own offers in a Key
#: Members remembered per offer of ours (a room of this many fetching it at once is a lot).
MAX_UPLOAD_MEMBERS = 1_000


@dataclass
class Upload:
    """Our offer's fetches as the sender sees them: who accepted and has not finished yet
    (`fetching`), and whom we asked to pause (`asked`). Pause is for the whole offer at once:
    a member accepting while it is paused is asked to pause too."""

    fetching: set[str] = field(default_factory=set)
    asked: set[str] = field(default_factory=set)
    paused: bool = False

    def accepted(self, member: str) -> bool:
        """`member` fetches it (again); True: ask it to pause, the offer being paused."""
        if len(self.fetching) < MAX_UPLOAD_MEMBERS:
            self.fetching.add(member)
        if self.paused:
            self.asked.add(member)
        return self.paused

    def served(self, member: str, error: str | None) -> bool:
        """`member`'s fetch ended (`error` None: it has it all); True: it ended because we
        paused it (it goes on when we resume)."""
        if error is not None and member in self.asked:
            return True
        self.fetching.discard(member)
        self.asked.discard(member)
        return False

    def pause(self) -> list[str]:
        """Pause the offer; the members to ask."""
        self.paused = True
        new = sorted(self.fetching - self.asked)
        self.asked |= self.fetching
        return new

    def resume(self) -> list[str]:
        """Resume the offer; the members to ask to go on."""
        self.paused = False
        asked, self.asked = sorted(self.asked), set()
        return asked

    def withdrawn(self) -> None:
        self.fetching.clear()
        self.asked.clear()
        self.paused = False

    @property
    def can_pause(self) -> bool:
        return bool(self.fetching) and not self.paused


@dataclass
class Transfer:
    """One card's transfer as the window knows it."""

    card: FileCard
    sender: str
    offer: str
    state: str  # offered, waiting, receiving, paused, done, failed, declined, withdrawn
    folder: Path | None = None
    progress: fe.TransferProgress | None = None
    files: tuple[Path, ...] = ()
    answers: dict[str, str] = field(default_factory=dict)
    to: str | None = None  # our offer's member (None: the room)
    route: str = ""  # how the bytes go, once known: "direct" or "host"
    paused_by: str = ""  # a paused fetch: "me" (our Pause) or "sender" (its pause)
    note: str = ""  # said before the progress ("zoe resumed")
    upload: Upload = field(default_factory=Upload)  # our offer's members (sender side)


def counts(transfers: Iterable[Transfer]) -> tuple[list[fe.TransferProgress], int]:
    """The status bar's material: the fetches running (their progress), and how many
    transfers are paused (fetches paused by either side, and offers of ours we paused
    while members were fetching them)."""
    running: list[fe.TransferProgress] = []
    paused = 0
    for transfer in transfers:
        if transfer.state == "receiving" and transfer.progress is not None:
            running.append(transfer.progress)
        elif transfer.state == "paused" or (transfer.upload.paused and transfer.upload.asked):
            paused += 1
    return running, paused
