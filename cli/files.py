"""File transfers in the terminal client: `/send`, `/sendto`, `/accept`, `/decline`,
`/pause`, `/resume`.

    /send PATH            offer a file or folder to the room
    /sendto NICK PATH     offer it to one member
    /accept [ID]          fetch an offer (the last one by default) into the downloads folder;
                          again after a failure: it resumes
    /decline [ID]         say no
    /pause [ID]           pause a fetch (its .part files stay); /resume [ID] goes on from them

Offers, progress (at most one line every 2 s per transfer), results, a change of route
(through the host's relay when the sender's port refuses), and pauses and resumes (ours,
or the sender's) are printed as `***` lines. The transfer port listens on every interface (loopback only under
LANCHAT_LOOPBACK_ONLY).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from net.discovery.destinations import loopback_only
from net.files import events as fe
from net.files.manifest import ManifestError
from net.files.transfers import FileTransfers
from net.paths import identity_dir
from net.secure.identity import load_or_create_identity

#: Seconds between two progress lines of one transfer.
PROGRESS_EVERY = 2.0
COMMANDS = "/send PATH, /sendto NICK PATH, /accept [ID], /decline [ID], /pause [ID], /resume [ID]"


def default_downloads() -> Path:
    return Path.home() / "Downloads" / "LanChat"


class TerminalFiles:
    """The terminal client's file transfers: its commands and its lines."""

    def __init__(
        self, client: object, on_event: Callable[[object], None], host: str, downloads: Path
    ) -> None:
        self.downloads = downloads
        self._offers: dict[str, str] = {}  # offer id -> sender, in arrival order
        self._last_line: dict[str, float] = {}
        self.transfers = FileTransfers(
            load_or_create_identity(identity_dir()),
            client.send_file_step,  # type: ignore[attr-defined]
            on_event,
            own_nick=lambda: client.nick,  # type: ignore[attr-defined]
            host_address=host,
            bind="127.0.0.1" if loopback_only() else "",
        )
        self.transfers.start()

    def close(self) -> None:
        self.transfers.close()

    def command(self, word: str, rest: str) -> str | None:
        """Run a file command; the line to print (None: `word` is not one of them)."""
        try:
            if word == "/send" and rest:
                return self._offered(self.transfers.offer([Path(rest).expanduser()]))
            if word == "/sendto" and " " in rest:
                nick, path = rest.split(" ", 1)
                return self._offered(self.transfers.offer([Path(path.strip()).expanduser()], to=nick))
            if word in ("/accept", "/decline", "/pause", "/resume"):
                offer = rest or next(reversed(self._offers), "")
                sender = self._offers.get(offer)
                if sender is None:
                    return "*** no such offer"
                if word == "/decline":
                    self.transfers.decline(sender, offer)
                    return f"*** declined {offer}"
                if word == "/pause":
                    self.transfers.pause_fetch(sender, offer)
                    return f"*** pausing {offer}"
                if word == "/resume":
                    self.transfers.resume_fetch(sender, offer)
                    return f"*** resuming {offer}"
                self.transfers.accept(sender, offer, self.downloads)
                return f"*** fetching {offer} from {sender} into {self.downloads}"
        except KeyError:
            return f"*** not done: nothing to {word[1:]} there"
        except (ManifestError, ConnectionError) as exc:
            return f"*** not done: {exc}"
        return None

    @staticmethod
    def _offered(offer: str) -> str:
        return f"*** offered ({offer})"

    def render(self, event: object) -> str | None:
        """The line for a file event (None: not one, or a progress line too soon)."""
        match event:
            case fe.OfferReceived(offer=offer, sender=sender, names=names, count=count, size=size):
                self._offers[offer] = sender
                shown = ", ".join(names)
                return f"*** {sender} offers {count} file(s), {size:,} bytes: {shown} (/accept {offer})"
            case fe.OfferMade(skipped=skipped) if skipped:
                return f"*** links left out: {', '.join(skipped)}"
            case fe.OfferAnswered(member=member, accepted=accepted, offer=offer):
                return f"*** {member} {'accepted' if accepted else 'declined'} {offer}"
            case fe.OfferCancelled(sender=sender, offer=offer):
                self._offers.pop(offer, None)
                return f"*** {sender} withdrew {offer}"
            case fe.TransferProgress(offer=offer, done=done, total=total, speed=speed):
                now = time.monotonic()
                if now - self._last_line.get(offer, 0.0) < PROGRESS_EVERY:
                    return None
                self._last_line[offer] = now
                return f"*** {offer}: {done:,} of {total:,} bytes, {speed / 1e6:.1f} MB/s"
            case fe.TransferFinished(offer=offer, files=files, folder=folder, received=received):
                return f"*** received {offer}: {len(files)} file(s), {received:,} bytes, in {folder}"
            case fe.TransferFailed(offer=offer, text=text):
                return f"*** transfer {offer} failed: {text}"
            case fe.TransferServed(member=member, offer=offer, sent=sent, error=error, route=route):
                failed = f" ({error})" if error else ""
                if route == "cache":  # a small room-wide offer: one upload, members fetch the host's copy
                    return f"*** sent {offer} to the host once for the whole room: {sent:,} bytes{failed}"
                how = " through the host" if route == "host" else ""
                return f"*** sent {offer} to {member}{how}: {sent:,} bytes{failed}"
            case fe.TransferRouted(offer=offer, sender=sender, route=route, text=text):
                how = "through the host" if route == "host" else "directly"
                return f"*** {offer} from {sender} goes {how} now: {text}"
            case fe.TransferPaused(offer=offer, sender=sender, by="me"):
                return f"*** paused {offer} from {sender} (/resume {offer} goes on)"
            case fe.TransferPaused(offer=offer, sender=sender):
                return f"*** {sender} paused {offer}; it goes on when they resume it"
            case fe.TransferResumed(offer=offer, sender=sender, by="me"):
                return f"*** resumed {offer} from {sender}"
            case fe.TransferResumed(offer=offer, sender=sender):
                return f"*** {sender} resumed {offer}"
        return None
