"""How a member's fetch finds the bytes: from the sender directly, through the host's
relay when the sender's port is refused, or from the host's copy of a room-wide offer
(and from the sender after all when that copy fails) -- and, on the sending side, the
legs a sender opens to the host: relayed fetches and the one upload to its cache.

A part of `FileTransfers` (a mixin: it shares its lock, fetches and server), kept apart
so that each module stays small; docs/PROTOCOL.md "File transfers" tells the routes.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import threading
import time
from collections.abc import Callable

from net.files import events as fe
from net.files.fetch import Fetch, FetchError, Ticket
from net.files.limits import CACHE_MEMBER, RELAY_WAIT
from net.files.relay_leg import RelayRoute
from net.files.server import TransferServer
from net.protocol import events as ev

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (sender's nickname, offer id)
#: A fetch waiting for a notice: the op it waits for, set when it came, the notice.
Waiting = tuple[str, threading.Event, list[ev.FileNotice]]


class Routes:
    """The routes part of `FileTransfers` (which sets these attributes)."""

    _lock: threading.Lock
    _host_address: str
    _server: TransferServer
    _mine: dict[str, str | None]
    _known: dict[Key, ev.FileNotice]
    _fetches: dict[Key, tuple[Fetch, threading.Thread]]
    _relay_waits: dict[Key, Waiting]
    _send_step: Callable[[ev.FileControl], bool]
    _emit: Callable[[object], None]
    _make_fetch: Callable[..., Fetch]

    def _await_notice(
        self, key: Key, step: ev.FileControl, fetch: Fetch, failed: FetchError
    ) -> ev.FileNotice:
        """Send `step` and wait (RELAY_WAIT) for the notice of the same op that answers it
        (raises `failed`, with why, when it does not come)."""
        arrived = threading.Event()
        slot: list[ev.FileNotice] = []
        with self._lock:
            self._relay_waits[key] = (step.op if step.op == "relay" else "grant", arrived, slot)
        if not self._send_step(step):
            raise failed
        deadline = time.monotonic() + RELAY_WAIT
        while not arrived.wait(0.1):
            if fetch.cancelled:
                raise FetchError("cancelled", "the transfer was cancelled")
            if time.monotonic() > deadline:
                raise FetchError(failed.code, f"{failed.text}; no answer came")
        return slot[0]

    def _hand_to_waiter(self, key: Key, notice: ev.FileNotice) -> bool:
        """Give `notice` to a fetch waiting for it; False when none waits for it."""
        with self._lock:
            waiting = self._relay_waits.get(key)
            if waiting is None or waiting[0] != notice.op or waiting[1].is_set():
                return False
        waiting[2].append(notice)
        waiting[1].set()
        return True

    def _switch(self, key: Key, old: Fetch, new: Fetch) -> Fetch:
        with self._lock:
            if key in self._fetches:
                self._fetches[key] = (new, self._fetches[key][1])
        if old.cancelled:
            new.cancel()
        return new

    def _relayed(self, key: Key, fetch: Fetch, refused: FetchError) -> Fetch:
        """The direct connection was refused: ask the host to relay (a `relay` step to the
        sender, through the room), wait for its tickets, and return the relayed fetch."""
        step = ev.FileControl(op="relay", offer=key[1], to=key[0])
        notice = self._await_notice(key, step, fetch, refused)
        if not notice.token or not notice.port:
            raise FetchError(
                refused.code, f"{refused.text}; the host cannot relay ({notice.reason or 'no relay'})"
            )
        route = RelayRoute(self._host_address, notice.port, _hex(notice.key), notice.token)
        relayed = self._make_fetch(key, dataclasses.replace(fetch.ticket, relay=route), fetch.folder)
        log.info("fetch of %s from %s goes through the host: %s", key[1], key[0], refused.code)
        self._emit(fe.TransferRouted(key[1], key[0], "host", f"{refused.text}; relayed by the host instead"))
        return self._switch(key, fetch, relayed)

    def _direct_after_cache(self, key: Key, fetch: Fetch, failed: FetchError) -> Fetch:
        """The host's copy failed us: accept again (the room passes a member's second
        accept on to the sender), and fetch what the sender grants, directly."""
        step = ev.FileControl(op="accept", offer=key[1], to=key[0])
        grant = self._await_notice(key, step, fetch, failed)
        if not grant.token or grant.port:
            raise failed  # the host's copy again, or no token: give up
        with self._lock:
            offer = self._known.get(key)
        if offer is None:
            raise failed
        address = self._fetch_address(offer.address)
        direct = Ticket(address, offer.port or 0, _hex(offer.key), key[1], fetch.ticket.member, grant.token)
        log.info(
            "fetch of %s from %s: the host's copy failed (%s), from the sender", key[1], key[0], failed.code
        )
        self._emit(
            fe.TransferRouted(key[1], key[0], "direct", f"{failed.text}; fetched from the sender instead")
        )
        return self._switch(key, fetch, self._make_fetch(key, direct, fetch.folder))

    def _relay_notice(self, key: Key, notice: ev.FileNotice) -> None:
        """The host paired a relayed fetch: our own fetch waits for it, or (our offer) the
        receiver `notice.sender` cannot reach our port and we connect out to the relay."""
        if self._hand_to_waiter(key, notice):
            return
        with self._lock:
            ours = notice.offer in self._mine
        if ours and notice.token and notice.port:
            route = RelayRoute(self._host_address, notice.port, _hex(notice.key), notice.token)
            if not self._server.serve_relayed(route, notice.sender, notice.offer):
                log.info("relayed transfer of %s to %s refused: too busy", notice.offer, notice.sender)

    def _upload(self, notice: ev.FileNotice) -> None:
        """The host keeps a copy of our room-wide offer: connect out to its relay port with
        the ticket and a token of ours, and serve the offer to it once."""
        with self._lock:
            ours = notice.offer in self._mine
        if not (ours and notice.token and notice.port):
            log.info("offer %s is not kept by the host: %s", notice.offer, notice.reason or "not ours")
            return
        token = self._server.grant(notice.offer, CACHE_MEMBER)
        route = RelayRoute(self._host_address, notice.port, _hex(notice.key), notice.token, token)
        if not self._server.serve_relayed(route, CACHE_MEMBER, notice.offer):
            log.info("upload of %s to the host refused: too busy", notice.offer)

    def _fetch_address(self, address: str | None) -> str:
        """Where the sender is: the address the host saw, or the host's own when that is a
        loopback one (the sender runs on the host's PC) and we are elsewhere."""
        if not address or (_loopback(address) and not _loopback(self._host_address)):
            return self._host_address
        return address


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
