"""File transfers for one chat member: offers out, offers in, fetches, over one client.

`FileTransfers` sits between a chat client and its owner. Give it the client's
`send_file_step` and the owner's event sink, and pass every client event through
`FileTransfers.deliver`: it takes the `file` notices (`ev.FileNotice`) and hands on
everything else. It owns the member's `TransferServer` (its offers) and one thread per
fetch, and `close()` stops and joins them all.

    transfers.offer([path, ...], to=None)     offer files/folders to the room or a member
    transfers.accept(sender, offer, folder)   fetch an offer into a folder (again: resume)
    transfers.decline(sender, offer)          say no
    transfers.cancel(offer)                   withdraw our offer
    transfers.stop_fetch(sender, offer)       stop a fetch (its `.part` files stay)
    transfers.pause_fetch(sender, offer)      pause a fetch; resume_fetch continues it
    transfers.pause_upload(offer, member)     ask a member to pause its fetch of our offer;
                                              resume_upload asks it to continue

`offer` hashes the files on the calling thread (a GUI calls it from a worker).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

from net.files import events as fe
from net.files.fetch import Fetch, FetchError, Progress, Ticket
from net.files.limits import (
    CACHE_OFFER_BYTES,
    MAX_NAMES_IN_OFFER,
    MAX_OPEN_OFFERS,
    MAX_TRANSFER_CONNECTIONS,
)
from net.files.manifest import build_manifest
from net.files.routes import Routes, Waiting, _hex
from net.files.server import Served, TransferServer
from net.files.sockets import lower_priority
from net.protocol import events as ev
from net.secure.identity import Identity

log = logging.getLogger(__name__)

#: Offers from others remembered (to accept later); the oldest are forgotten beyond it.
MAX_KNOWN_OFFERS = 1_000

Key = tuple[str, str]  # (sender's nickname, offer id)


class FileTransfers(Routes):
    """One member's file transfers (see the module docstring). Thread-safe."""

    def __init__(
        self,
        identity: Identity,
        send_step: Callable[[ev.FileControl], bool],
        on_event: Callable[[object], None],
        *,
        own_nick: Callable[[], str],
        host_address: str,
        bind: str = "",
        port: int = 0,
        upload_up_to: int = CACHE_OFFER_BYTES,
    ) -> None:
        self._send_step = send_step
        self._upload_up_to = upload_up_to  # room-wide offers up to this go once to the host
        self._on_event = on_event
        self._own_nick = own_nick
        self._host_address = host_address
        self._server = TransferServer(identity, bind=bind, port=port, on_served=self._served)
        self._lock = threading.Lock()
        self._mine: OrderedDict[str, str | None] = OrderedDict()  # our offers: id -> to
        self._known: OrderedDict[Key, ev.FileNotice] = OrderedDict()  # offers to us
        self._wanted: dict[Key, Path] = {}  # accepted, waiting for the grant
        self._paused: dict[Key, tuple[Path, str]] = {}  # paused fetches: folder, by whom
        self._fetches: dict[Key, tuple[Fetch, threading.Thread]] = {}
        self._relay_waits: dict[Key, Waiting] = {}  # fetches waiting for a relay or a grant
        self._closed = False

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def bytes_sent(self) -> int:
        return self._server.bytes_sent

    def start(self) -> None:
        self._server.start()

    def close(self) -> None:
        """Stop every fetch and the transfer server, and join their threads."""
        with self._lock:
            self._closed = True
            fetches = list(self._fetches.values())
        for fetch, _thread in fetches:
            fetch.cancel()
        for _fetch, thread in fetches:
            thread.join(timeout=5.0)
        self._server.stop()

    # -- our offers -------------------------------------------------------------------------

    def offer(self, paths: Iterable[Path], to: str | None = None) -> str:
        """Offer files and folders to member `to` or to the room; returns the offer id.
        Raises ManifestError (not found, unsafe name, too many entries) or ConnectionError
        when the chat is not connected."""
        manifest = build_manifest(paths)
        offer = secrets.token_hex(8)
        self._server.add_offer(offer, manifest.entries)
        step = ev.FileControl(
            op="offer",
            offer=offer,
            to=to,
            names=tuple(manifest.top_names(MAX_NAMES_IN_OFFER)),
            count=manifest.files,
            size=manifest.total,
            port=self._server.port,
            key=self._server.fingerprint.hex(),
        )
        with self._lock:  # ours before any answer can come back
            self._mine[offer] = to
            while len(self._mine) > MAX_OPEN_OFFERS:
                self._server.remove_offer(self._mine.popitem(last=False)[0])
        if to is None and 0 < manifest.total <= self._upload_up_to:  # before the offer: accepts follow it
            self._send_step(ev.FileControl(op="upload", offer=offer, size=manifest.total))
        if not self._send_step(step):
            with self._lock:
                self._mine.pop(offer, None)
            self._server.remove_offer(offer)
            raise ConnectionError("not connected to the chat: the offer was not sent")
        self._emit(fe.OfferMade(offer, to, manifest.files, manifest.total, tuple(manifest.skipped)))
        return offer

    def cancel(self, offer: str, reason: str = "") -> None:
        """Withdraw our offer: its tokens stop working and its receivers are told."""
        with self._lock:
            to = self._mine.pop(offer, None)
        self._server.remove_offer(offer)
        self._send_step(ev.FileControl(op="cancel", offer=offer, to=to, reason=reason or None))

    # -- offers to us -------------------------------------------------------------------------

    def accept(self, sender: str, offer: str, folder: Path) -> None:
        """Fetch `sender`'s `offer` into `folder` (KeyError: no such offer). Accepting again
        after a failure resumes from the `.part` files."""
        key = (sender, offer)
        with self._lock:
            if key not in self._known:
                raise KeyError(key)
            if key in self._fetches:
                return  # already fetching
            self._wanted[key] = Path(folder)
        if not self._send_step(ev.FileControl(op="accept", offer=offer, to=sender)):
            with self._lock:
                self._wanted.pop(key, None)
            raise ConnectionError("not connected to the chat: cannot accept now")

    def decline(self, sender: str, offer: str, reason: str = "") -> None:
        """Say no (also to an offer we fetched and paused: the sender's resume is then ignored)."""
        with self._lock:
            self._known.pop((sender, offer), None)
            self._paused.pop((sender, offer), None)
        self._send_step(ev.FileControl(op="decline", offer=offer, to=sender, reason=reason or None))

    def stop_fetch(self, sender: str, offer: str) -> None:
        with self._lock:
            running = self._fetches.get((sender, offer))
            self._wanted.pop((sender, offer), None)
        if running is not None:
            running[0].cancel()

    def pause_fetch(self, sender: str, offer: str) -> None:
        """Pause our fetch of `sender`'s `offer`: it stops, its `.part` files stay, and
        `resume_fetch` continues from them (TransferPaused; KeyError: not fetching it)."""
        if not self._pause((sender, offer), "me"):
            raise KeyError((sender, offer))

    def resume_fetch(self, sender: str, offer: str) -> None:
        """Continue a paused fetch from its `.part` files (a new token, only the missing
        bytes are sent; KeyError: not paused)."""
        key = (sender, offer)
        with self._lock:
            paused = self._paused.pop(key, None)
            ending = self._fetches.get(key)
        if paused is None:
            raise KeyError(key)
        if ending is not None and ending[1] is not threading.current_thread():
            ending[1].join(timeout=5.0)  # the paused fetch is still closing its files
        self.accept(sender, offer, paused[0])
        self._emit(fe.TransferResumed(offer, sender, paused[1]))

    def pause_upload(self, offer: str, member: str) -> None:
        """Ask `member` to pause its fetch of our `offer` (only the offer's sender can: the
        host stamps who asks); `resume_upload` asks it to continue."""
        self._send_step(ev.FileControl(op="pause", offer=offer, to=member))

    def resume_upload(self, offer: str, member: str) -> None:
        self._send_step(ev.FileControl(op="resume", offer=offer, to=member))

    def _is_paused(self, key: Key) -> bool:
        with self._lock:
            return key in self._paused

    def _pause(self, key: Key, by: str) -> bool:
        """Stop the fetch of `key` as paused by `by` ("me" or "sender"); False: none."""
        with self._lock:
            running = self._fetches.get(key)
            waiting = self._wanted.pop(key, None)
            if running is None and waiting is None:
                return False
            self._paused[key] = (running[0].folder if running else waiting or Path(), by)
        if running is not None:
            running[0].cancel()  # its thread reports TransferPaused
        else:
            self._emit(fe.TransferPaused(key[1], key[0], by))
        return True

    # -- from the chat -------------------------------------------------------------------------

    def deliver(self, event: object) -> None:
        """The client's event sink: file notices are handled here, the rest handed on."""
        if not isinstance(event, ev.FileNotice):
            self._on_event(event)
            return
        try:
            self._notice(event)
        except Exception:
            log.exception("file notice %s from %s failed", event.op, event.sender)

    def _notice(self, notice: ev.FileNotice) -> None:
        key = (notice.sender, notice.offer)
        if notice.op == "offer":
            with self._lock:
                self._known[key] = notice
                while len(self._known) > MAX_KNOWN_OFFERS:
                    self._known.popitem(last=False)
            self._emit(
                fe.OfferReceived(
                    notice.offer,
                    notice.sender,
                    notice.names,
                    notice.count or 0,
                    notice.size or 0,
                    notice.to is not None,
                )
            )
        elif notice.op == "accept":
            self._granted(notice)
        elif notice.op == "decline":
            self._emit(fe.OfferAnswered(notice.offer, notice.sender, False, notice.reason or ""))
        elif notice.op == "grant":
            if not self._hand_to_waiter(key, notice):  # a fetch waiting for it, or a new one
                self._start_fetch(key, notice)
        elif notice.op == "relay":
            self._relay_notice(key, notice)
        elif notice.op == "upload":
            self._upload(notice)
        elif notice.op == "pause":
            self._pause(key, "sender")
        elif notice.op == "resume":
            with self._lock:
                by_sender = self._paused.get(key, (None, ""))[1] == "sender"
            if by_sender:
                self.resume_fetch(*key)
        elif notice.op == "cancel":
            with self._lock:
                self._known.pop(key, None)
            self.stop_fetch(*key)
            self._emit(fe.OfferCancelled(notice.offer, notice.sender, notice.reason or ""))

    def _granted(self, notice: ev.FileNotice) -> None:
        with self._lock:
            ours = notice.offer in self._mine
        if ours and notice.port:  # the host serves it from its copy: only to be told
            self._emit(fe.OfferAnswered(notice.offer, notice.sender, True))
            return
        if not ours:
            self._send_step(
                ev.FileControl(op="cancel", offer=notice.offer, to=notice.sender, reason="withdrawn")
            )
            return
        token = self._server.grant(notice.offer, notice.sender)
        self._send_step(ev.FileControl(op="grant", offer=notice.offer, to=notice.sender, token=token))
        self._emit(fe.OfferAnswered(notice.offer, notice.sender, True))

    def _start_fetch(self, key: Key, grant: ev.FileNotice) -> None:
        with self._lock:
            offer = self._known.get(key)
            folder = self._wanted.pop(key, None)
            if offer is None or folder is None or not grant.token or self._closed or key in self._fetches:
                return  # a grant we did not ask for (or no longer want)
            busy = len(self._fetches) >= MAX_TRANSFER_CONNECTIONS
            if not busy:
                thread = self._new_fetch(key, offer, folder, grant)
        if busy:
            self._emit(fe.TransferFailed(offer.offer, offer.sender, "busy", "too many transfers at once"))
        else:
            thread.start()

    def _new_fetch(
        self, key: Key, offer: ev.FileNotice, folder: Path, grant: ev.FileNotice
    ) -> threading.Thread:
        """The fetch of `offer`, registered (the caller holds the lock, then starts it)."""
        try:
            fingerprint = bytes.fromhex(offer.key or "")
        except ValueError:
            fingerprint = b""  # matches no certificate: the fetch fails with key_mismatch
        address, port = self._fetch_address(offer.address), offer.port or 0
        if grant.port:  # the host's copy (net.files.host_cache): from the host, its key
            address, port, fingerprint = self._host_address, grant.port, _hex(grant.key)
        ticket = Ticket(address, port, fingerprint, offer.offer, self._own_nick(), grant.token or "")
        fetch = self._make_fetch(key, ticket, folder, "cache" if grant.port else "direct")
        thread = threading.Thread(
            target=self._run_fetch, args=(key, fetch), name=f"fetch {key[1]}", daemon=True
        )
        self._fetches[key] = (fetch, thread)
        return thread

    def _make_fetch(self, key: Key, ticket: Ticket, folder: Path, route: str = "direct") -> Fetch:
        """A fetch whose progress says its route: direct, host (relayed) or cache (the
        host's copy of a room-wide offer)."""
        route = "host" if ticket.relay else route

        def progress(p: Progress) -> None:
            self._emit(
                fe.TransferProgress(p.offer, key[0], p.done, p.total, p.speed, p.files_done, p.files, route)
            )

        fetch = Fetch(ticket, folder, on_progress=progress)
        fetch.route = route
        return fetch

    def _run_fetch(self, key: Key, fetch: Fetch) -> None:
        lower_priority()  # this thread reads the stream: below the chat
        try:
            try:
                result = fetch.run()
            except FetchError as exc:
                if fetch.route == "cache" and exc.code != "cancelled" and not self._is_paused(key):
                    fetch = self._direct_after_cache(key, fetch, exc)  # from the sender after all
                elif exc.code != "unreachable" or fetch.ticket.relay is not None:
                    raise
                else:
                    fetch = self._relayed(key, fetch, exc)  # the direct connection was refused
                result = fetch.run()
        except FetchError as exc:
            with self._lock:
                paused = self._paused.get(key)
                if paused is not None and exc.code not in ("cancelled", "lost"):
                    del self._paused[key]  # it failed for another reason: not resumable as paused
                    paused = None
            if paused is not None:
                self._emit(fe.TransferPaused(key[1], key[0], paused[1]))
            else:
                log.info("fetch of %s from %s failed: %s", key[1], key[0], exc.code)
                self._emit(fe.TransferFailed(key[1], key[0], exc.code, exc.text))
        except Exception:
            log.exception("fetch of %s from %s failed", key[1], key[0])
            self._emit(fe.TransferFailed(key[1], key[0], "internal", "internal error"))
        else:
            with self._lock:
                self._paused.pop(key, None)  # a pause that came too late: it is done
            done = tuple(result.files)
            self._emit(
                fe.TransferFinished(
                    key[1], key[0], fetch.folder, done, result.received, result.resumed, fetch.route
                )
            )
        finally:
            with self._lock:
                self._fetches.pop(key, None)
                self._relay_waits.pop(key, None)

    def _served(self, served: Served) -> None:
        self._emit(fe.TransferServed(served.offer, served.member, served.sent, served.error, served.route))

    def _emit(self, event: object) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("file transfer event handler failed for %r", type(event).__name__)
