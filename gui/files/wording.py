"""What the window says about transfers: sizes, speeds, time left, offers, progress. No Tk.

Every sentence is translated when it is made (`tr`); numbers use binary units with one
decimal, as file managers show them.
"""

from __future__ import annotations

from collections.abc import Sequence

from gui.i18n import N_, ntr, tr
from gui.model.changes import Incoming
from net.files import events as fe

_UNITS = (N_("{n} B"), N_("{n} KB"), N_("{n} MB"), N_("{n} GB"), N_("{n} TB"))
#: Names of an offer shown in its card; the rest are counted.
NAMES_SHOWN = 5


def size_text(size: int) -> str:
    """`size` bytes for a person: 512 B, 1.5 KB, 23.4 MB, 1.2 GB."""
    value = float(max(0, size))
    unit = 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    number = str(int(value)) if unit == 0 else f"{value:.1f}"
    return tr(_UNITS[unit]).format(n=number)


def speed_text(bytes_per_second: float) -> str:
    return tr("{size}/s").format(size=size_text(int(bytes_per_second)))


def time_left_text(seconds: float | None) -> str:
    """About how long is left: "12 s left", "3 min left", "2 h 5 min left"; "" when unknown."""
    if seconds is None or seconds < 0:
        return ""
    whole = int(seconds + 0.5)
    if whole < 60:
        return tr("{s} s left").format(s=max(1, whole))
    minutes = (whole + 30) // 60
    if minutes < 60:
        return tr("{m} min left").format(m=minutes)
    return tr("{h} h {m} min left").format(h=minutes // 60, m=minutes % 60)


def names_text(names: tuple[str, ...], count: int) -> str:
    """The first names of an offer, and how many more it holds."""
    shown = ", ".join(names[:NAMES_SHOWN])
    more = count - min(len(names), NAMES_SHOWN)
    if more > 0:
        shown += " " + ntr("and {n} more", "and {n} more", more).format(n=more)
    return shown


def files_text(count: int, size: int) -> str:
    return ntr("{n} file, {size}", "{n} files, {size}", count).format(n=count, size=size_text(size))


def offer_received(sender: str, count: int, size: int, private: bool) -> str:
    text = tr("{sender} sends you {files}") if private else tr("{sender} sends the room {files}")
    return text.format(sender=sender, files=files_text(count, size))


def offer_made(to: str | None, count: int, size: int) -> str:
    text = tr("You offer the room {files}") if to is None else tr("You offer {nick} {files}")
    return text.format(nick=to, files=files_text(count, size))


def progress(done: int, total: int, speed: float, seconds_left: float | None) -> str:
    """One transfer's progress: 1.2 MB of 4.0 MB · 3.1 MB/s · 1 s left."""
    parts = [tr("{done} of {total}").format(done=size_text(done), total=size_text(total))]
    if speed > 0:
        parts.append(speed_text(speed))
    left = time_left_text(seconds_left)
    if left:
        parts.append(left)
    return " · ".join(parts)


def summary(count: int, speed: float, seconds_left: float | None) -> str:
    """The status bar's line while transfers run: how many, how fast in all, time left."""
    parts = [ntr("{n} transfer", "{n} transfers", count).format(n=count)]
    if speed > 0:
        parts.append(speed_text(speed))
    left = time_left_text(seconds_left)
    if left:
        parts.append(left)
    return " · ".join(parts)


def running_summary(running: Sequence[fe.TransferProgress], paused: int = 0) -> str:
    """`summary` of the transfers running now ("" when none): their speeds added up, and
    the longest time left (unknown when one of them does not know); then how many are
    paused (by either side), which count as paused, not as running."""
    parts = []
    if running:
        lefts = [p.seconds_left for p in running]
        left = None if None in lefts else max(x for x in lefts if x is not None)
        parts.append(summary(len(running), sum(p.speed for p in running), left))
    if paused and running:
        parts.append(ntr("{n} paused", "{n} paused", paused).format(n=paused))
    elif paused:
        parts.append(ntr("{n} transfer paused", "{n} transfers paused", paused).format(n=paused))
    return " · ".join(parts)


def paused(progress: fe.TransferProgress | None, by: str = "") -> str:
    """A paused fetch's status: where it stopped, when known, and who paused it when it
    was the sender (`by`: its name; "" for our own Pause)."""
    if progress is None:
        return tr("Paused by {nick}.").format(nick=by) if by else tr("Paused.")
    done = tr("{done} of {total}").format(done=size_text(progress.done), total=size_text(progress.total))
    if by:
        return tr("Paused by {nick} at {done}; it goes on when they resume.").format(nick=by, done=done)
    return tr("Paused at {done}.").format(done=done)


def resumed(nick: str) -> str:
    """Said before the progress of a fetch the sender `nick` paused and resumed."""
    return tr("{nick} resumed").format(nick=nick)


def upload_paused(member: str) -> str:
    """Our offer's card: we paused `member`'s fetch."""
    return tr("Paused for {nick}").format(nick=member)


def upload_resumed(member: str) -> str:
    return tr("Resumed for {nick}").format(nick=member)


def route(how: str) -> str:
    """How a transfer's bytes go, for its card's details: straight between the two
    computers, relayed by the host (the direct connection was refused), or from the copy
    the host keeps of a small room-wide offer (uploaded to it once)."""
    if how == "host":
        return tr("Route: through the host (the direct connection was refused)")
    if how == "cache":
        return tr("Route: from the host's copy (sent to the host once for the whole room)")
    return tr("Route: direct, between the two computers")


def served(member: str, sent: int, error: str | None, how: str) -> str:
    """What became of a member's fetch of our offer, and by which route."""
    if error is not None:
        return tr("{nick} stopped ({error})").format(nick=member, error=error)
    if how == "host":
        return tr("{nick} received {size} through the host").format(nick=member, size=size_text(sent))
    if how == "cache":  # our one upload to the host, which members then fetch from it
        return tr("Sent {size} to the host once for the whole room").format(size=size_text(sent))
    return tr("{nick} received {size} directly").format(nick=member, size=size_text(sent))


def cannot_receive(nick: str | None) -> str:
    """Our offer to `nick` was refused by the host: its LanChat reads no file offers."""
    text = tr("Not offered: {nick}'s LanChat cannot receive files (an older version); ask them to update.")
    return text.format(nick=nick or "?")


def offer_notice(offer: fe.OfferReceived, conversation: str | None) -> Incoming:
    """A desktop notification's material for `offer` (shown in `conversation`): the names
    and the size, worded as an offer by `gui.notify.wording`, and handled by the same rules
    as a message (a private offer is written to us alone)."""
    text = f"{names_text(offer.names, offer.count)} · {files_text(offer.count, offer.size)}"
    return Incoming(conversation, offer.sender, text, private=offer.private, offer=True)
