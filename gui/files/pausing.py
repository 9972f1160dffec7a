"""Pause and resume on both sides of a transfer, in the window. Main thread only.

Receiving: Pause pauses our fetch (`FileTransfers.pause_fetch`: it stops, its `.part`
files stay) and Resume continues it from them (`resume_fetch`: only the missing bytes
come). Sending: our offer's card pauses every member fetching it at once (`pause_upload`;
a member accepting while it is paused is asked to pause too: one button, however large
the room) and Resume asks them to go on (`resume_upload`); Withdraw works all along.
What the sender does comes as `TransferPaused` / `TransferResumed` (`by` "sender") and is
said on the card: "Paused by zoe", then "zoe resumed" before the progress. A fetch the
sender paused has no Resume of ours: it goes on when the sender says (Cancel still works).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gui.files import wording as words
from gui.files.cards import Buttons
from gui.files.events import Key
from gui.files.states import OWN, Transfer
from gui.i18n import tr
from net.files import events as fe

if TYPE_CHECKING:
    from gui.files.sharing import FileSharing

log = logging.getLogger(__name__)


class Pauses:
    """The pause and resume of `sharing`'s transfers (see the module docstring)."""

    def __init__(self, sharing: FileSharing) -> None:
        self._sharing = sharing

    # -- receiving ----------------------------------------------------------------------------

    def receiving_buttons(self, key: Key) -> Buttons:
        return [(tr("Pause"), lambda: self.pause(key)), (tr("Cancel"), lambda: self._sharing.cancel(key))]

    def pause(self, key: Key) -> None:
        """Pause our fetch; its `.part` files stay, and Resume goes on from them."""
        transfer, files = self._sharing.transfers.get(key), self._sharing.session
        if transfer is None or files is None or transfer.state not in ("waiting", "receiving"):
            return
        try:
            files.transfers.pause_fetch(transfer.sender, transfer.offer)
        except KeyError:
            log.debug("pause: the fetch of %s has ended", transfer.offer)  # its own event says how
            return
        self._show_paused(key, transfer, "me")
        self._sharing.refresh_summary()

    def resume(self, key: Key) -> None:
        """Continue a fetch we paused from its `.part` files; a failed one is accepted
        again (which resumes from them too)."""
        self._resume(key)
        self._sharing.refresh_summary()

    def _resume(self, key: Key) -> None:
        transfer, files = self._sharing.transfers.get(key), self._sharing.session
        if transfer is None or files is None or transfer.folder is None:
            return
        if transfer.state != "paused":
            self._sharing.fetch(key, transfer.folder)
            return
        try:
            files.transfers.resume_fetch(transfer.sender, transfer.offer)
        except KeyError:  # not paused in the engine (the session started again): accept again
            self._sharing.fetch(key, transfer.folder)
            return
        except ConnectionError as exc:
            transfer.card.show(tr("Cannot receive it now: {reason}").format(reason=exc), error=True)
            return
        transfer.state, transfer.paused_by, transfer.note = "waiting", "", ""
        waiting = tr("Waiting for {sender}…").format(sender=transfer.sender)
        transfer.card.show(waiting, self.receiving_buttons(key))

    def paused(self, event: fe.TransferPaused) -> None:
        """Our fetch is paused: by our Pause (already shown) or by its sender."""
        key = (event.sender, event.offer)
        transfer = self._sharing.transfers.get(key)
        if transfer is not None and transfer.state in ("waiting", "receiving", "paused"):
            self._show_paused(key, transfer, event.by)

    def resumed(self, event: fe.TransferResumed) -> None:
        """A paused fetch goes on: by our Resume (already shown) or by its sender's."""
        key = (event.sender, event.offer)
        transfer = self._sharing.transfers.get(key)
        if transfer is None or transfer.state != "paused":
            return
        transfer.state, transfer.paused_by = "waiting", ""
        transfer.note = words.resumed(event.sender) if event.by == "sender" else ""
        status = transfer.note or tr("Waiting for {sender}…").format(sender=event.sender)
        transfer.card.show(status, self.receiving_buttons(key))

    def _show_paused(self, key: Key, transfer: Transfer, by: str) -> None:
        transfer.state, transfer.paused_by, transfer.note = "paused", by, ""
        cancel = (tr("Cancel"), lambda: self._sharing.cancel(key))
        if by == "sender":  # it goes on when the sender says
            transfer.card.show(words.paused(transfer.progress, transfer.sender), [cancel])
        else:
            resume = (tr("Resume"), lambda: self.resume(key))
            transfer.card.show(words.paused(transfer.progress), [resume, cancel])

    # -- sending ------------------------------------------------------------------------------

    def own_buttons(self, offer: str) -> Buttons:
        """Our offer's buttons: Pause while members fetch it (Resume once paused), Withdraw."""
        transfer = self._sharing.transfers.get((OWN, offer))
        buttons: Buttons = []
        if transfer is not None and transfer.upload.paused:
            buttons.append((tr("Resume"), lambda: self.resume_upload(offer)))
        elif transfer is not None and transfer.upload.can_pause:
            buttons.append((tr("Pause"), lambda: self.pause_upload(offer)))
        buttons.append((tr("Withdraw"), lambda: self._sharing.withdraw(offer)))
        return buttons

    def pause_upload(self, offer: str) -> None:
        """Ask every member fetching our offer to pause (their `.part` files stay)."""
        transfer, files = self._sharing.transfers.get((OWN, offer)), self._sharing.session
        if transfer is None or files is None or transfer.state != "offered" or not transfer.upload.can_pause:
            return
        for member in transfer.upload.pause():
            files.transfers.pause_upload(offer, member)
            self._sharing.answer(offer, member, words.upload_paused(member))
        self._sharing.refresh_summary()

    def resume_upload(self, offer: str) -> None:
        """Ask the members we paused to go on from their `.part` files."""
        transfer, files = self._sharing.transfers.get((OWN, offer)), self._sharing.session
        if transfer is None or files is None or transfer.state != "offered":
            return
        members = transfer.upload.resume()
        for member in members:
            files.transfers.resume_upload(offer, member)
            self._sharing.answer(offer, member, words.upload_resumed(member))
        if not members:  # nobody to ask (they finished): the buttons change all the same
            transfer.card.show(transfer.card.status.cget("text"), self.own_buttons(offer))
        self._sharing.refresh_summary()

    def answered(self, event: fe.OfferAnswered) -> str:
        """What our card says of a member's answer; a member accepting our offer while it
        is paused is asked to pause at once."""
        said = tr("{nick} accepted") if event.accepted else tr("{nick} declined")
        transfer, files = self._sharing.transfers.get((OWN, event.offer)), self._sharing.session
        if not event.accepted or transfer is None or files is None:
            return said.format(nick=event.member)
        if transfer.upload.accepted(event.member):
            files.transfers.pause_upload(event.offer, event.member)
            return words.upload_paused(event.member)
        return said.format(nick=event.member)

    def served(self, event: fe.TransferServed) -> str:
        """What our card says when a member's fetch of our offer ends: paused, when we
        paused it (its connection ends with an error then), else how it went."""
        transfer = self._sharing.transfers.get((OWN, event.offer))
        if transfer is not None and transfer.upload.served(event.member, event.error):
            return words.upload_paused(event.member)
        return words.served(event.member, event.sent, event.error, event.route)
