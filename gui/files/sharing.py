"""The window's file transfers: what the user does with files, and what transfers show.

`FileSharing` is wired into the app in three places: `clients` wraps the controller's
client factory (each session's client gets its `SessionFiles`), `tap` wraps the
controller's tap (file events are taken out of each batch and shown here, the rest goes
on to the chat model), and `attach` gives each chat view its part (`gui.files.input`: the
button, /send, Ctrl+V, drag and drop). Events arrive through the session's sink on the
bridge like every other client event, so they are handled on the main thread, and a
finished session's late ones never reach the next.

Offers are made on a worker (hashing takes time); a picture received is decoded and
downscaled on another, then shown as a thumbnail here.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
import tkinter as tk
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from gui.conversation import ConversationPane
from gui.files import rules
from gui.files import wording as words
from gui.files.cards import FileCard, Pictures, add_card
from gui.files.choosers import ask_folder, ask_paths
from gui.files.events import Key, OfferSent, PictureRead, SendFailed, is_file_event
from gui.files.opener import Opener
from gui.files.pausing import Pauses
from gui.files.session import SessionFiles, files_client
from gui.files.states import OWN, Transfer, counts
from gui.files.thumbnails import post_thumbnail
from gui.i18n import tr
from gui.model.values import ROOM, Line
from gui.ports import ClientFactory
from gui.settings import Settings
from net.api import ChatClient, ClientConfig, EventSink, Transport
from net.files import events as fe
from net.files.manifest import ManifestError
from net.protocol import events as ev

if TYPE_CHECKING:
    from gui.chat_view import ChatView
    from gui.controller import Controller

log = logging.getLogger(__name__)

#: Transfers remembered for their buttons; the oldest are forgotten beyond it.
MAX_TRANSFERS = 500
#: Pictures of one offer shown inline (the rest open from the card's buttons).
MAX_PICTURES_PER_OFFER = 4
#: Members' answers named on one of our cards (the rest are counted).
MAX_ANSWERS_SHOWN = 4


class FileSharing:
    """File transfers in the window (see the module docstring). Main thread only."""

    def __init__(self, root: tk.Misc, settings: Settings, controller: Callable[[], Controller]) -> None:
        self.root = root
        self.settings = settings
        self._controller = controller
        self.session: SessionFiles | None = None
        self.view: ChatView | None = None
        self.transfers: OrderedDict[Key, Transfer] = OrderedDict()
        self._made: OrderedDict[str, fe.OfferMade] = OrderedDict()
        self._refused: OrderedDict[str, None] = OrderedDict()  # our offers the host refused
        self.opener = Opener()
        self.pictures = Pictures(self.opener.open)
        self.pauses = Pauses(self)  # pause and resume, both sides (gui.files.pausing)
        self.summary: tk.Widget | None = None  # the status bar's label (gui.files.input)
        # Replaced by tests: the folder chooser and the file chooser.
        self.choose_folder: Callable[[Path], Path | None] = lambda initial: ask_folder(root, initial)
        self.choose_paths: Callable[[bool], list[Path]] = lambda folder: ask_paths(root, folder)

    # -- wiring ----------------------------------------------------------------------------

    def clients(self, make: ClientFactory) -> ClientFactory:
        """`make`, with each client's file transfers attached."""

        def factory(transport: Transport, config: ClientConfig, sink: EventSink) -> ChatClient:
            config = dataclasses.replace(config, files=True)  # the hello says we read file notices
            files = SessionFiles(self._controller().trust.identity(), config, sink)
            client = make(transport, config, files.transfers.deliver)
            self.session, self.transfers = files, OrderedDict()
            return files_client(client, files, self._ended)

        return factory

    def _ended(self, files: SessionFiles) -> None:
        if self.session is files:
            self.session = None
        self.opener.close()

    def tap(
        self, inner: Callable[[object, list[object]], list[object]]
    ) -> Callable[[object, list[object]], list[object]]:
        """The controller's tap `inner`, with file events taken out and shown here."""

        def tap(session: object, batch: list[object]) -> list[object]:
            batch = inner(session, batch)
            files: list[object] = [event for event in batch if is_file_event(event)]
            if not files:
                return batch
            self.handle(files)
            return [event for event in batch if not is_file_event(event)]

        return tap

    def attach(self, view: ChatView) -> None:
        """A chat view opened: give it the file controls."""
        from gui.files.input import attach_input

        self.view = view
        self.transfers = OrderedDict()
        self.summary = attach_input(view, self)

    # -- what the user does -----------------------------------------------------------------

    def send(self, paths: Iterable[Path], conversation: str | None) -> bool:
        """Offer `paths` in `conversation` (the room, or a private one: to that member)."""
        files, controller = self.session, self._controller()
        paths = tuple(Path(path) for path in paths)
        if not paths:
            return False
        to = controller.session.model.peer(conversation) if controller.session else None
        if files is None or not files.serving:
            self._error(conversation, tr("Files cannot be sent now: not connected."))
            return False
        transfers, sink = files.transfers, files.sink

        def offer() -> None:
            try:
                offer_id = transfers.offer(paths, to)
            except (ManifestError, ConnectionError, OSError) as exc:
                sink(SendFailed(to, tr("Not sent: {reason}").format(reason=exc)))
            else:
                sink(OfferSent(offer_id, to, paths))

        if not files.offers.submit(offer):
            self._error(conversation, tr("Too many files are still being prepared; try again in a moment."))
            return False
        return True

    def send_chosen(self, folder: bool, conversation: str | None) -> None:
        paths = self.choose_paths(folder)
        if paths:
            self.send(paths, conversation)

    def accept(self, key: Key) -> None:
        """Ask where, then fetch (the folder chosen becomes the default)."""
        folder = self.choose_folder(rules.download_folder(self.settings.download_folder))
        if folder is None:
            return
        if str(folder) != self.settings.download_folder:
            self.settings.download_folder = str(folder)
            self._controller().shell.save_settings()
        self.fetch(key, folder)

    def fetch(self, key: Key, folder: Path, note: str = "") -> None:
        transfer, files = self.transfers.get(key), self.session
        if transfer is None or files is None:
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            files.transfers.accept(transfer.sender, transfer.offer, folder)
        except (KeyError, ConnectionError, OSError) as exc:
            transfer.card.show(tr("Cannot receive it now: {reason}").format(reason=exc), error=True)
            return
        transfer.state, transfer.folder = "waiting", folder
        status = note or tr("Waiting for {sender}…").format(sender=transfer.sender)
        transfer.card.show(status, self.pauses.receiving_buttons(key))

    def decline(self, key: Key) -> None:
        transfer, files = self.transfers.get(key), self.session
        if transfer is not None and files is not None:
            files.transfers.decline(transfer.sender, transfer.offer)
            transfer.state = "declined"
            transfer.card.show(tr("Declined."), [])

    def cancel(self, key: Key) -> None:
        """Stop receiving and tell the sender no."""
        transfer, files = self.transfers.get(key), self.session
        if transfer is None or files is None:
            return
        files.transfers.stop_fetch(transfer.sender, transfer.offer)
        files.transfers.decline(transfer.sender, transfer.offer, "cancelled")
        transfer.state = "declined"
        transfer.card.show(tr("Cancelled."), [])
        self.refresh_summary()

    def withdraw(self, offer: str) -> None:
        transfer, files = self.transfers.get((OWN, offer)), self.session
        if transfer is not None and files is not None:
            files.transfers.cancel(offer)
            transfer.state = "withdrawn"
            transfer.upload.withdrawn()
            transfer.card.show(tr("You withdrew this offer."), [])
            self.refresh_summary()

    # -- what the transfers say -----------------------------------------------------------------

    def handle(self, events: list[object]) -> None:
        """Show a batch of the transfers' events, in order. Progress needs no coalescing
        here: the bridge keeps one per transfer, never moved past its pause, resume or end
        (`gui.bridge.barrier_key`), so a pause after progress says where the fetch stopped."""
        for event in events:
            try:
                if isinstance(event, fe.TransferProgress):
                    self._progress((event.sender, event.offer), event)
                else:
                    self._handle(event)
            except tk.TclError as exc:  # a card scrolled out and destroyed
                log.debug("a file card is gone: %s", exc)
        self.refresh_summary()

    def _handle(self, event: object) -> None:
        match event:
            case fe.OfferReceived():
                self._offer_received(event)
            case fe.OfferMade(offer=offer):
                self._made[offer] = event
                while len(self._made) > MAX_TRANSFERS:
                    self._made.popitem(last=False)
            case OfferSent():
                self._offer_sent(event)
            case SendFailed(to=to, text=text):
                self._error(self._conversation(to), text)
            case fe.OfferAnswered(offer=offer, member=member):
                self.answer(offer, member, self.pauses.answered(event))
            case fe.TransferServed(offer=offer, member=member):
                self.answer(offer, member, self.pauses.served(event))
            case fe.TransferPaused():
                self.pauses.paused(event)
            case fe.TransferResumed():
                self.pauses.resumed(event)
            case fe.TransferRouted(offer=offer, sender=sender, route=route):
                self._routed(self.transfers.get((sender, offer)), route)
            case ev.Error(ref=str(offer)):  # files_unsupported (`is_file_event`): on our card
                self._refused[offer] = None  # kept until the card is made (the error may come first)
                while len(self._refused) > MAX_TRANSFERS:
                    self._refused.popitem(last=False)
                self._offer_refused(offer)
            case fe.OfferCancelled(offer=offer, sender=sender):
                transfer = self.transfers.get((sender, offer))
                if transfer is not None and transfer.state not in ("done", "declined"):
                    transfer.state = "withdrawn"
                    transfer.card.show(tr("{sender} withdrew this offer.").format(sender=sender), [])
            case fe.TransferFinished():
                self._finished(event)
            case fe.TransferFailed(offer=offer, sender=sender, text=text):
                transfer = self.transfers.get((sender, offer))
                if transfer is not None and transfer.state in ("waiting", "receiving"):
                    transfer.state = "failed"
                    key = (sender, offer)
                    transfer.card.show(
                        tr("Stopped: {reason}").format(reason=text),
                        [
                            (tr("Try again"), lambda: self.pauses.resume(key)),
                            (tr("Cancel"), lambda: self.cancel(key)),
                        ],
                        error=True,
                    )
            case PictureRead(key=key, path=path, image=image):
                self._show_picture(key, path, image)

    def _offer_received(self, offer: fe.OfferReceived) -> None:
        conversation = self._conversation(offer.sender if offer.private else None)
        pane = self._pane(conversation)
        if pane is None:
            return
        key = (offer.sender, offer.offer)
        title = words.offer_received(offer.sender, offer.count, offer.size, offer.private)
        card = FileCard(pane, title, words.names_text(offer.names, offer.count))
        self._remember(key, Transfer(card, offer.sender, offer.offer, "offered"))
        add_card(pane, card)
        # Unread count, bell and desktop notification, as for a message (`gui.notify`).
        self._controller().shell.attention(1, offer.private, [words.offer_notice(offer, conversation)])
        if rules.auto_accepts(offer.names, offer.count, offer.size, self.settings.auto_accept_images_mb):
            self.fetch(
                key, rules.download_folder(self.settings.download_folder), tr("Accepted automatically.")
            )
            return
        card.show(
            tr("Accept to choose where to save it."),
            [(tr("Accept…"), lambda: self.accept(key)), (tr("Decline"), lambda: self.decline(key))],
        )

    def _offer_sent(self, sent: OfferSent) -> None:
        made = self._made.pop(sent.offer, None)
        pane = self._pane(self._conversation(sent.to))
        if pane is None or made is None:
            return
        key = (OWN, sent.offer)
        names = tuple(path.name for path in sent.paths)
        card = FileCard(
            pane, words.offer_made(sent.to, made.count, made.size), words.names_text(names, len(names))
        )
        transfer = Transfer(card, OWN, sent.offer, "offered", files=sent.paths, to=sent.to)
        self._remember(key, transfer)
        add_card(pane, card)
        status = tr("Waiting for an answer.")
        if made.skipped:
            status += " " + tr("Links left out: {names}").format(names=", ".join(made.skipped[:5]))
        card.show(status, self.pauses.own_buttons(sent.offer))
        self._read_pictures(key, [path for path in sent.paths if path.is_file()])
        self._offer_refused(sent.offer)

    def _offer_refused(self, offer: str) -> None:
        """The host refused our offer (its member's LanChat reads no file offers): say so
        on the card once both the refusal and the card are here."""
        transfer = self.transfers.get((OWN, offer))
        if transfer is None or transfer.state != "offered" or offer not in self._refused:
            return
        del self._refused[offer]
        transfer.state = "withdrawn"
        transfer.card.show(words.cannot_receive(transfer.to), [], error=True)

    def answer(self, offer: str, member: str, said: str) -> None:
        """Say on our offer's card what became of `member` (the latest few members shown)."""
        transfer = self.transfers.get((OWN, offer))
        if transfer is None:
            return
        transfer.answers.pop(member, None)
        transfer.answers[member] = said
        shown = list(transfer.answers.values())[-MAX_ANSWERS_SHOWN:]
        hidden = len(transfer.answers) - len(shown)
        text = "; ".join(shown) + (f"; +{hidden}" if hidden else "")
        transfer.card.show(text, self.pauses.own_buttons(offer) if transfer.state == "offered" else [])

    def _progress(self, key: Key, progress: fe.TransferProgress) -> None:
        transfer = self.transfers.get(key)
        if transfer is None or transfer.state not in ("waiting", "receiving"):
            return
        transfer.state, transfer.progress = "receiving", progress
        text = words.progress(progress.done, progress.total, progress.speed, progress.seconds_left)
        transfer.card.show(f"{transfer.note} · {text}" if transfer.note else text)
        self._routed(transfer, progress.route)

    def _finished(self, done: fe.TransferFinished) -> None:
        key = (done.sender, done.offer)
        transfer = self.transfers.get(key)
        if transfer is None:
            return
        transfer.state, transfer.files = "done", done.files
        self._routed(transfer, done.route)
        target = done.files[0] if len(done.files) == 1 else done.folder
        reveal = done.files[0] if done.files else done.folder
        transfer.card.show(
            tr("Saved in {folder}").format(folder=done.folder),
            [
                (tr("Open"), lambda: self.opener.open(target)),
                (tr("Show in folder"), lambda: self.opener.reveal(reveal)),
            ],
        )
        self._read_pictures(key, list(done.files))

    def _routed(self, transfer: Transfer | None, route: str) -> None:
        """Say in the card's details how the bytes go, when that is new."""
        if transfer is not None and route != transfer.route:
            transfer.route = route
            transfer.card.detail(words.route(route))

    def _read_pictures(self, key: Key, paths: list[Path]) -> None:
        files = self.session
        pictures = [path for path in paths if rules.is_image(path)][:MAX_PICTURES_PER_OFFER]
        if files is None:
            return
        for path in pictures:
            files.pictures.submit(functools.partial(post_thumbnail, key, path, files.sink))

    def _show_picture(self, key: Key, path: Path, image: object) -> None:
        transfer = self.transfers.get(key)
        if transfer is None or not transfer.card.winfo_exists():
            return
        from PIL import ImageTk

        photo = ImageTk.PhotoImage(image, master=self.root)  # type: ignore[arg-type]
        self.pictures.add(transfer.card.pane, photo, path)  # type: ignore[arg-type]

    # -- helpers ----------------------------------------------------------------------------------

    def _remember(self, key: Key, transfer: Transfer) -> None:
        self.transfers[key] = transfer
        while len(self.transfers) > MAX_TRANSFERS:
            self.transfers.popitem(last=False)

    def _conversation(self, nick: str | None) -> str | None:
        controller = self._controller()
        if nick is None or controller.session is None:
            return ROOM
        return controller.open_private(nick, focus=False)

    def _pane(self, conversation: str | None) -> ConversationPane | None:
        return self.view.panes.get(conversation) if self.view is not None else None

    def _error(self, conversation: str | None, text: str) -> None:
        pane = self._pane(conversation)
        if pane is not None:
            pane.add_lines([Line("error", text, time.time())])

    def refresh_summary(self) -> None:
        label = self.summary
        if label is not None and label.winfo_exists():
            text = words.running_summary(*counts(self.transfers.values()))
            label.configure(text=text)  # type: ignore[call-arg]
