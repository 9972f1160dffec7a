"""The host's cache of room-wide offers: uploaded once by the sender, fetched by every member.

Why: a picture pasted into a room of 50 would otherwise leave the sender's PC 50 times
(the sender's uplink, often Wi-Fi, is the slowest link of the room). For a room-wide
offer of at most `CACHE_OFFER_BYTES`, the sender asks the room for an upload (a `file`
step `upload`); the room opens an entry here and answers with a one-time upload ticket;
the sender connects out to the host's relay port with it, and the host fetches the offer
over that leg like any receiver (tokens, manifest, SHA-256 checks: `net.files.cache_legs`).
Members who accept get a one-time token from the room instead of from the sender, and
fetch from the host's relay port; a member's second accept of the same offer goes to the
sender (the cache failed it once: the direct route is the fallback).

Bounded: at most `max_offers` offers and `max_bytes` bytes, uploads under way counted at
the size they announced (an upload that turns out bigger is refused before a byte is
written), each kept `lifetime` seconds, and an upload not begun within its ticket's
`TOKEN_LIFETIME` frees its room (so `upload` steps alone cannot fill the cache); a full
cache refuses the upload and the offer goes the direct way. Everything lives in a
temporary folder of the host's own, removed by `close()`. Thread-safe: the room's thread
opens and grants, the relay's threads upload and serve. The clock can be given (tests).
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from net.files.limits import (
    CACHE_LIFETIME,
    CACHE_MAX_BYTES,
    CACHE_MAX_OFFERS,
    CACHE_OFFER_BYTES,
    CACHE_UPLOAD_WAIT,
    MAX_PENDING_TOKENS,
    TOKEN_LIFETIME,
)
from net.files.manifest import Entry
from net.files.tokens import TokenRefused

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (the sender's nickname, its offer id)


class CacheRefused(Exception):
    """The cache cannot take this upload (the text says why: full, too big, ...)."""


@dataclass(eq=False)
class Cached:
    """One offer in the cache: uploading until `ready` is set, then `entries` are served."""

    key: Key
    size: int  # bytes announced (reserved), then bytes held
    folder: Path
    expires: float
    entries: list[Entry] | None = None  # set once uploaded and checked
    failed: bool = False
    granted: set[str] = field(default_factory=set)  # members given a token for it
    ready: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True, slots=True)
class _Token:
    key: Key
    member: str
    expires: float


class HostCache:
    """The host's bounded cache of room-wide offers (see the module docstring)."""

    def __init__(
        self,
        *,
        max_offer_bytes: int = CACHE_OFFER_BYTES,
        max_bytes: int = CACHE_MAX_BYTES,
        max_offers: int = CACHE_MAX_OFFERS,
        lifetime: float = CACHE_LIFETIME,
        upload_wait: float = CACHE_UPLOAD_WAIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_offer_bytes = max_offer_bytes
        self.max_bytes = max_bytes
        self.max_offers = max_offers
        self.lifetime = lifetime
        self.upload_wait = upload_wait
        self._clock = clock
        self._lock = threading.Lock()
        self._root: Path | None = None  # made at the first upload, removed by close()
        self._offers: OrderedDict[Key, Cached] = OrderedDict()
        self._uploads: dict[str, tuple[Key, float]] = {}  # upload ticket -> offer, expiry
        self._tokens: OrderedDict[str, _Token] = OrderedDict()
        self._closed = False
        self.uploads_done = 0
        self.fetches_served = 0

    # -- the room's side ----------------------------------------------------------------

    def open_upload(self, sender: str, offer: str, size: int) -> str:
        """A one-time ticket for `sender` to upload `offer` of `size` bytes; CacheRefused
        when it does not fit (the offer then goes the direct way)."""
        now = self._clock()
        if not 0 <= size <= self.max_offer_bytes:
            raise CacheRefused(f"an offer of {size:,} bytes is more than the cache takes")
        with self._lock:
            if self._closed:
                raise CacheRefused("the host is stopping")
            self._expire(now)
            key = (sender, offer)
            if key in self._offers:
                raise CacheRefused("this offer is in the cache already")
            if len(self._offers) >= self.max_offers:
                raise CacheRefused(f"the cache holds {self.max_offers} offers already")
            if self._used() + size > self.max_bytes:
                raise CacheRefused("the cache is full")
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="lanchat-host-cache-"))
            folder = Path(tempfile.mkdtemp(dir=self._root))
            self._offers[key] = Cached(key, size, folder, now + self.lifetime)
            ticket = secrets.token_urlsafe(24)
            self._uploads[ticket] = (key, now + TOKEN_LIFETIME)
        return ticket

    def grant(self, sender: str, offer: str, member: str) -> str | None:
        """A one-time token for `member` to fetch `sender`'s `offer` from the cache, or None
        when it is not cached (or this member was given one already: its second accept
        goes to the sender)."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            cached = self._offers.get((sender, offer))
            if cached is None or cached.failed or member in cached.granted:
                return None
            cached.granted.add(member)
            token = secrets.token_urlsafe(24)
            self._tokens[token] = _Token(cached.key, member, now + TOKEN_LIFETIME)
            while len(self._tokens) > MAX_PENDING_TOKENS:
                self._tokens.popitem(last=False)
        return token

    def drop(self, sender: str, offer: str) -> None:
        """The sender withdrew `offer`: forget it and delete its files."""
        with self._lock:
            cached = self._offers.pop((sender, offer), None)
        if cached is not None:
            self._discard(cached)

    # -- the relay's side ---------------------------------------------------------------

    def take_upload(self, ticket: object) -> Cached:
        """The offer an upload leg's ticket opens (once); TokenRefused when unknown, used
        or expired."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            found = self._uploads.pop(ticket, None) if isinstance(ticket, str) else None
            cached = self._offers.get(found[0]) if found else None
        if cached is None:
            raise TokenRefused("unknown, used or expired upload ticket")
        return cached

    def finish_upload(self, cached: Cached, entries: list[Entry]) -> bool:
        """The upload arrived whole and checked: serve it from now on (False: the offer
        was dropped or expired meanwhile)."""
        with_sources = [
            dataclasses.replace(entry, source=None if entry.is_dir else cached.folder / entry.path)
            for entry in entries
        ]
        with self._lock:
            current = self._offers.get(cached.key) is cached
            if current:
                cached.entries = with_sources
                cached.size = sum(entry.size for entry in entries)
                self.uploads_done += 1
        if not current:
            self._discard(cached)
        cached.ready.set()
        return current

    def fail_upload(self, cached: Cached) -> None:
        """The upload failed: forget the offer (members who try it fall back to the sender)."""
        cached.failed = True
        with self._lock:
            if self._offers.get(cached.key) is cached:
                del self._offers[cached.key]
        self._discard(cached)

    def redeem(self, token: object, offer: object, member: object) -> Cached:
        """The offer a member's fetch may have (its token, used once); TokenRefused unless
        the token was granted to `member` for `offer` and has not expired."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            found = self._tokens.pop(token, None) if isinstance(token, str) else None
            cached = self._offers.get(found.key) if found else None
        if found is None or cached is None or not isinstance(offer, str) or not isinstance(member, str):
            raise TokenRefused("unknown, used or expired token")
        if not (_same(found.key[1], offer) and _same(found.member, member)):
            raise TokenRefused("the token was granted for another offer or member")
        return cached

    def wait_ready(self, cached: Cached) -> list[Entry] | None:
        """The offer's entries once its upload is done (None: it failed or took too long)."""
        cached.ready.wait(self.upload_wait)
        if cached.failed or cached.entries is None:
            return None
        with self._lock:
            self.fetches_served += 1
        return cached.entries

    # -- life and bounds ----------------------------------------------------------------

    @property
    def bytes_held(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return self._used()

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._offers)

    def close(self) -> None:
        """Forget everything and remove the cache's folder."""
        with self._lock:
            self._closed = True
            offers = list(self._offers.values())
            self._offers.clear()
            self._uploads.clear()
            self._tokens.clear()
            root, self._root = self._root, None
        for cached in offers:
            cached.failed = True
            cached.ready.set()  # a member waiting for it gives up now
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

    def _used(self) -> int:
        return sum(cached.size for cached in self._offers.values())

    def _expire(self, now: float) -> None:
        """Drop expired offers, tickets and tokens (the caller holds the lock)."""
        for key in [key for key, cached in self._offers.items() if cached.expires <= now]:
            cached = self._offers.pop(key)
            cached.failed = True
            cached.ready.set()
            shutil.rmtree(cached.folder, ignore_errors=True)
        for ticket in [t for t, (_, expires) in self._uploads.items() if expires <= now]:
            key, _ = self._uploads.pop(ticket)
            unused = self._offers.get(key)
            if unused is not None and unused.entries is None:  # never uploaded: free its room
                del self._offers[key]
                unused.failed = True
                unused.ready.set()
                shutil.rmtree(unused.folder, ignore_errors=True)
        for token in [t for t, held in self._tokens.items() if held.expires <= now]:
            del self._tokens[token]

    @staticmethod
    def _discard(cached: Cached) -> None:
        cached.ready.set()
        shutil.rmtree(cached.folder, ignore_errors=True)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
