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

import dataclasses
import ipaddress
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

from net.files import events as fe
from net.files.fetch import Fetch, FetchError, Progress, Ticket
from net.files.limits import MAX_NAMES_IN_OFFER, MAX_OPEN_OFFERS, MAX_TRANSFER_CONNECTIONS, RELAY_WAIT
from net.files.manifest import build_manifest
from net.files.relay_leg import RelayRoute
from net.files.server import Served, TransferServer
from net.files.sockets import lower_priority
from net.protocol import events as ev
from net.secure.identity import Identity

log = logging.getLogger(__name__)

#: Offers from others remembered (to accept later); the oldest are forgotten beyond it.
MAX_KNOWN_OFFERS = 1_000

Key = tuple[str, str]  # (sender's nickname, offer id)


class FileTransfers:
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
    ) -> None:
        self._send_step = send_step
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
        self._relay_waits: dict[Key, tuple[threading.Event, list[ev.FileNotice]]] = {}
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
        if not self._send_step(step):
            self._server.remove_offer(offer)
            raise ConnectionError("not connected to the chat: the offer was not sent")
        with self._lock:
            self._mine[offer] = to
            while len(self._mine) > MAX_OPEN_OFFERS:
                self._server.remove_offer(self._mine.popitem(last=False)[0])
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
        with self._lock:
            self._known.pop((sender, offer), None)
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
            self._start_fetch(key, notice)
        elif notice.op == "relay":
            self._relay_notice(key, notice)
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
                thread = self._new_fetch(key, offer, folder, grant.token)
        if busy:
            self._emit(fe.TransferFailed(offer.offer, offer.sender, "busy", "too many transfers at once"))
        else:
            thread.start()

    def _new_fetch(self, key: Key, offer: ev.FileNotice, folder: Path, token: str) -> threading.Thread:
        """The fetch of `offer`, registered (the caller holds the lock, then starts it)."""
        try:
            fingerprint = bytes.fromhex(offer.key or "")
        except ValueError:
            fingerprint = b""  # matches no certificate: the fetch fails with key_mismatch
        address = self._fetch_address(offer.address)
        ticket = Ticket(address, offer.port or 0, fingerprint, offer.offer, self._own_nick(), token)
        fetch = self._make_fetch(key, ticket, folder)
        thread = threading.Thread(
            target=self._run_fetch, args=(key, fetch), name=f"fetch {key[1]}", daemon=True
        )
        self._fetches[key] = (fetch, thread)
        return thread

    def _make_fetch(self, key: Key, ticket: Ticket, folder: Path) -> Fetch:
        route = "host" if ticket.relay else "direct"

        def progress(p: Progress) -> None:
            self._emit(
                fe.TransferProgress(p.offer, key[0], p.done, p.total, p.speed, p.files_done, p.files, route)
            )

        return Fetch(ticket, folder, on_progress=progress)

    def _run_fetch(self, key: Key, fetch: Fetch) -> None:
        lower_priority()  # this thread reads the stream: below the chat
        try:
            try:
                result = fetch.run()
            except FetchError as exc:
                if exc.code != "unreachable" or fetch.ticket.relay is not None:
                    raise
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

    def _relayed(self, key: Key, fetch: Fetch, refused: FetchError) -> Fetch:
        """The direct connection was refused: ask the host to relay (a `relay` step to the
        sender, through the room), wait for its tickets, and return the relayed fetch."""
        arrived = threading.Event()
        slot: list[ev.FileNotice] = []
        with self._lock:
            self._relay_waits[key] = (arrived, slot)
        if not self._send_step(ev.FileControl(op="relay", offer=key[1], to=key[0])):
            raise refused
        deadline = time.monotonic() + RELAY_WAIT
        while not arrived.wait(0.1):
            if fetch.cancelled:
                raise FetchError("cancelled", "the transfer was cancelled")
            if time.monotonic() > deadline:
                raise FetchError(refused.code, f"{refused.text}; the host did not offer a relay")
        notice = slot[0]
        if not notice.token or not notice.port:
            raise FetchError(
                refused.code, f"{refused.text}; the host cannot relay ({notice.reason or 'no relay'})"
            )
        route = RelayRoute(self._host_address, notice.port, _hex(notice.key), notice.token)
        relayed = self._make_fetch(key, dataclasses.replace(fetch.ticket, relay=route), fetch.folder)
        with self._lock:
            if key in self._fetches:
                self._fetches[key] = (relayed, self._fetches[key][1])
        if fetch.cancelled:
            relayed.cancel()
        log.info("fetch of %s from %s goes through the host: %s", key[1], key[0], refused.code)
        self._emit(fe.TransferRouted(key[1], key[0], "host", f"{refused.text}; relayed by the host instead"))
        return relayed

    def _relay_notice(self, key: Key, notice: ev.FileNotice) -> None:
        """The host paired a relayed fetch: our own fetch waits for it, or (our offer) the
        receiver `notice.sender` cannot reach our port and we connect out to the relay."""
        with self._lock:
            waiting = self._relay_waits.get(key)
            ours = notice.offer in self._mine
        if waiting is not None:
            waiting[1].append(notice)
            waiting[0].set()
        elif ours and notice.token and notice.port:
            route = RelayRoute(self._host_address, notice.port, _hex(notice.key), notice.token)
            if not self._server.serve_relayed(route, notice.sender, notice.offer):
                log.info("relayed transfer of %s to %s refused: too busy", notice.offer, notice.sender)

    def _fetch_address(self, address: str | None) -> str:
        """Where the sender is: the address the host saw, or the host's own when that is a
        loopback one (the sender runs on the host's PC) and we are elsewhere."""
        if not address or (_loopback(address) and not _loopback(self._host_address)):
            return self._host_address
        return address

    def _served(self, served: Served) -> None:
        self._emit(fe.TransferServed(served.offer, served.member, served.sent, served.error, served.route))

    def _emit(self, event: object) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("file transfer event handler failed for %r", type(event).__name__)


def _hex(text: str | None) -> bytes:
    try:
        return bytes.fromhex(text or "")
    except ValueError:
        return b""  # matches no certificate: the leg fails with a key mismatch


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return address == "localhost"
