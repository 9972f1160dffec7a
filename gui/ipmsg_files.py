"""Files with IP Messenger users in the window: their offers as cards, ours from "Send files…".

An IP Messenger user's offer (SENDMSG with attachments) shows in their tab as a card in the
look of LanChat's own (`gui.files.cards`): what is offered, Accept… (the folder chooser of
`FileSharing`, then every file is fetched by the bridge) and Decline (RELEASEFILES),
progress, then Open / Show in folder, or why it stopped and Try again (a file resumes from
its `.part`). What the user sends in an IP Messenger tab (the "Send files…" menu, /send,
Ctrl+V, drag and drop: `FileSharing.send`, routed here by `route`) is offered to that user
through the bridge, whose file server serves it; the card says who received what.

Main thread only; the bridge's events come through `IpmsgLink.handle`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gui.files import rules
from gui.files import wording as words
from gui.files.cards import FileCard, add_card
from gui.i18n import tr
from net.ipmsg.attachments import Attachment
from net.ipmsg.events import (
    IpmsgFilesReleased,
    IpmsgMessage,
    IpmsgOfferSent,
    IpmsgTransferDone,
    IpmsgTransferFailed,
    IpmsgTransferProgress,
)

if TYPE_CHECKING:
    from gui.files.sharing import FileSharing
    from gui.ipmsg_link import IpmsgLink

log = logging.getLogger(__name__)

FILE_EVENTS = (
    IpmsgOfferSent,
    IpmsgFilesReleased,
    IpmsgTransferProgress,
    IpmsgTransferDone,
    IpmsgTransferFailed,
)
#: Offers remembered for their cards (the oldest are forgotten beyond it).
MAX_OFFERS = 200


@dataclass
class OfferCard:
    """One offer, theirs (`incoming`) or ours, and its card."""

    card: FileCard
    address: str
    packet_no: int
    incoming: bool
    attachments: tuple[Attachment, ...] = ()
    folder: Path | None = None
    done: dict[int, int] = field(default_factory=dict)  # file id -> bytes so far
    saved: dict[int, Path] = field(default_factory=dict)  # file id -> where it arrived
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(a.size for a in self.attachments)


class IpmsgFiles:
    def __init__(self, link: IpmsgLink, sharing: FileSharing | None) -> None:
        self.link = link
        self.sharing = sharing
        self.offers: OrderedDict[tuple[str, int], OfferCard] = OrderedDict()
        self._pending: dict[str, str] = {}  # our offer's message id -> the conversation key

    def route(self) -> None:
        """`FileSharing.send` (every way the window sends files) sends to the IP Messenger
        user in an IP Messenger tab, instead of to the LanChat room."""
        sharing = self.sharing
        if sharing is None:
            return
        lanchat_send = sharing.send

        def send(paths: Iterable[Path], conversation: str | None) -> bool:
            from gui.ipmsg_link import address_of

            if address_of(conversation) is None:
                return lanchat_send(paths, conversation)
            return self.offer([Path(p) for p in paths], conversation or "")

        sharing.send = send  # type: ignore[method-assign]

    # -- ours ---------------------------------------------------------------------------------

    def offer(self, paths: list[Path], key: str) -> bool:
        from gui.ipmsg_link import address_of

        address, bridge = address_of(key), self.link.bridge
        if not paths or address is None:
            return False
        if bridge is None or address not in self.link.users:
            self.link._error(key, tr("This IP Messenger user is no longer online."))
            return False
        try:
            message_id = bridge.offer_files(address, paths)
        except ValueError as exc:
            self.link._error(key, tr("Not sent: {reason}").format(reason=exc))
            return False
        self._pending[message_id] = key
        return True

    def unsent(self, message_id: str) -> str | None:
        """Our offer `message_id` could not be sent: the tab it was made in, if it was one."""
        return self._pending.pop(message_id, None)

    def _offer_sent(self, sent: IpmsgOfferSent) -> None:
        key = self._pending.pop(sent.message_id, None)
        pane = self._pane(key)
        if pane is None:
            return
        user = self.link.users.get(sent.address)
        title = words.offer_made(user.nick if user else sent.address, len(sent.names), sent.size)
        card = FileCard(pane, title, words.names_text(sent.names, len(sent.names)))
        self._remember(OfferCard(card, sent.address, sent.packet_no, False))
        add_card(pane, card)
        card.show(tr("Waiting for an answer."), [])

    # -- theirs -------------------------------------------------------------------------------

    def offered(self, message: IpmsgMessage, key: str, nick: str) -> None:
        """An offer in a message from `nick` (its tab `key` is open): its card."""
        pane = self._pane(key)
        if pane is None:
            return
        found = message.attachments
        names = tuple(a.name for a in found)
        title = words.offer_received(nick, len(found), sum(a.size for a in found), True)
        card = FileCard(pane, title, words.names_text(names, len(names)))
        offer = OfferCard(card, message.address, message.packet_no, True, found)
        self._remember(offer)
        add_card(pane, card)
        if not found:
            card.show(tr("Nothing here can be received (unsafe names or sizes)."), [], error=True)
            return
        status = tr("Accept to choose where to save it.")
        if message.refused:
            status += " " + tr("{count} refused (unsafe names or sizes).").format(count=message.refused)
        card.show(
            status,
            [(tr("Accept…"), lambda: self.accept(offer)), (tr("Decline"), lambda: self.decline(offer))],
        )

    def accept(self, offer: OfferCard) -> None:
        sharing = self.sharing
        initial = rules.download_folder(self.link.settings.download_folder)
        folder = sharing.choose_folder(initial) if sharing is not None else initial
        if folder is None:
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            offer.card.show(tr("Cannot receive it now: {reason}").format(reason=exc), error=True)
            return
        offer.folder = folder
        self._fetch(offer)

    def _fetch(self, offer: OfferCard) -> None:
        bridge = self.link.bridge
        if bridge is None or offer.folder is None:
            offer.card.show(tr("This IP Messenger user is no longer online."), error=True)
            return
        offer.failed.clear()
        wanted = [a for a in offer.attachments if a.file_id not in offer.saved]
        if not bridge.fetch(offer.address, offer.packet_no, wanted, offer.folder):
            offer.card.show(tr("Too many transfers at once; try again in a moment."), error=True)
            return
        user = self.link.users.get(offer.address)
        waiting = tr("Waiting for {sender}…").format(sender=user.nick if user else offer.address)
        offer.card.show(waiting, [(tr("Cancel"), lambda: self.cancel(offer))])

    def decline(self, offer: OfferCard) -> None:
        if self.link.bridge is not None:
            self.link.bridge.release(offer.address, offer.packet_no)
        offer.card.show(tr("Declined."), [])

    def cancel(self, offer: OfferCard) -> None:
        bridge = self.link.bridge
        if bridge is not None:
            bridge.cancel_fetch(offer.address, offer.packet_no)
            bridge.release(offer.address, offer.packet_no)
        offer.card.show(tr("Cancelled."), [])

    # -- events -------------------------------------------------------------------------------

    def handle(self, event: object) -> None:
        match event:
            case IpmsgOfferSent():
                self._offer_sent(event)
            case IpmsgTransferProgress(address=address, packet_no=number, sending=False):
                offer = self.offers.get((address, number))
                if offer is not None:
                    offer.done[event.file_id] = event.done
                    self._show_progress(offer)
            case IpmsgTransferDone(address=address, packet_no=number, sending=False, path=path):
                offer = self.offers.get((address, number))
                if offer is not None and path is not None:
                    offer.saved[event.file_id] = path
                    offer.done[event.file_id] = event.size
                    self._settle(offer)
            case IpmsgTransferFailed(address=address, packet_no=number, sending=False, reason=reason):
                offer = self.offers.get((address, number))
                if offer is not None and reason != "cancelled":
                    offer.failed[event.file_id] = reason
                    self._settle(offer)
            case IpmsgTransferProgress(address=address, packet_no=number, sending=True):
                offer = self.offers.get((address, number))
                if offer is not None:  # they are fetching one of our files
                    done = tr("{done} of {total}").format(
                        done=words.size_text(event.done), total=words.size_text(event.total)
                    )
                    offer.card.show(done)
            case IpmsgTransferDone(address=address, packet_no=number, sending=True, size=size):
                offer = self.offers.get((address, number))
                if offer is not None:
                    user = self.link.users.get(address)
                    said = tr("{nick} received {size}").format(
                        nick=user.nick if user else address, size=words.size_text(size)
                    )
                    offer.card.show(said, [])
            case IpmsgTransferFailed(address=address, packet_no=number, sending=True, reason=reason):
                offer = self.offers.get((address, number))
                if offer is not None:
                    user = self.link.users.get(address)
                    said = tr("{nick} stopped ({error})").format(
                        nick=user.nick if user else address, error=reason
                    )
                    offer.card.show(said, [], error=True)

    def _show_progress(self, offer: OfferCard) -> None:
        done = tr("{done} of {total}").format(
            done=words.size_text(sum(offer.done.values())), total=words.size_text(offer.total)
        )
        offer.card.show(done)

    def _settle(self, offer: OfferCard) -> None:
        """All files ended: saved (Open, Show in folder) or why not (Try again)."""
        if len(offer.saved) + len(offer.failed) < len(offer.attachments):
            self._show_progress(offer)
            return
        if offer.failed:
            reason = next(iter(offer.failed.values()))
            offer.card.show(
                tr("Stopped: {reason}").format(reason=reason),
                [(tr("Try again"), lambda: self._fetch(offer)), (tr("Cancel"), lambda: self.cancel(offer))],
                error=True,
            )
            return
        if self.link.bridge is not None:
            self.link.bridge.release(offer.address, offer.packet_no)  # received: the sender may forget it
        paths = list(offer.saved.values())
        target = paths[0] if len(paths) == 1 else offer.folder
        buttons: list[tuple[str, Callable[[], object]]] = []
        opener = self.sharing.opener if self.sharing is not None else None
        if opener is not None and target is not None:
            buttons = [
                (tr("Open"), lambda: opener.open(target)),
                (tr("Show in folder"), lambda: opener.reveal(paths[0])),
            ]
        offer.card.show(tr("Saved in {folder}").format(folder=offer.folder), buttons)

    # -- helpers --------------------------------------------------------------------------------

    def _remember(self, offer: OfferCard) -> None:
        self.offers[(offer.address, offer.packet_no)] = offer
        while len(self.offers) > MAX_OFFERS:
            self.offers.popitem(last=False)

    def _pane(self, key: str | None) -> Any:
        view = self.link.view
        panes = getattr(view, "panes", None)
        return panes.get(key) if panes is not None and key is not None else None
