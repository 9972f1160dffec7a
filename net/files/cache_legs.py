"""The host's two kinds of cache legs on its relay port (`net.files.host_cache`).

- An upload: the sender connected out with an `R` record holding its upload ticket and
  a token of its own; the host fetches the offer over that leg exactly as a member would
  (`Fetch.run_on`: the manifest checked, every file's SHA-256 checked, `.part` first),
  into the offer's folder in the cache, refusing an offer bigger than the upload
  announced (`too_big`) before it writes a byte.
- A fetch: a member opened the leg with an ordinary `Q` request carrying the token the
  room gave it; the host waits (at most the cache's `upload_wait`) for the upload to be
  done and serves the files like a sender (`send_entries`). An unknown, used or expired
  token is refused (`refused`); an upload that failed or is gone is `not_cached` (the
  member then asks the sender directly).
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

from net.files.fetch import Fetch, FetchError, Ticket
from net.files.host_cache import HostCache
from net.files.limits import CACHE_MEMBER, TRANSFER_VERSION
from net.files.sender import SendError
from net.files.server import send_entries, try_send_error
from net.files.stream import StreamError
from net.files.tokens import TokenRefused

log = logging.getLogger(__name__)


def take_upload(tls: ssl.SSLSocket, ticket: Any, token: Any, cache: HostCache) -> None:
    """Fetch the offer an upload ticket opens over `tls` into the cache. Raises
    TokenRefused for a ticket that opens no upload (unknown, used or expired)."""
    cached = cache.take_upload(ticket)
    sender, offer = cached.key
    if not isinstance(token, str):
        cache.fail_upload(cached)
        raise TokenRefused("an upload without the sender's token")
    fetch = Fetch(Ticket("", 0, b"", offer, CACHE_MEMBER, token), cached.folder, max_total=cached.size)
    try:
        result = fetch.run_on(tls)
    except FetchError as exc:
        cache.fail_upload(cached)
        log.info("upload of %s from %s to the cache failed: %s", offer, sender, exc.code)
        return
    kept = cache.finish_upload(cached, list(result.entries))
    log.info(
        "%s's offer %s is in the host's cache (%d bytes)%s",
        sender,
        offer,
        cached.size,
        "" if kept else ", dropped",
    )


def serve_cached(tls: ssl.SSLSocket, request: dict[str, Any], cache: HostCache) -> None:
    """Serve a member's fetch from the cache (the leg's first record was its request)."""
    if request.get("v") != TRANSFER_VERSION:
        try_send_error(tls, "version_mismatch", f"this host speaks transfer version {TRANSFER_VERSION}")
        return
    try:
        cached = cache.redeem(request.get("token"), request.get("offer"), request.get("member"))
    except TokenRefused as exc:
        try_send_error(tls, "refused", f"not allowed to fetch this offer ({exc})")
        return
    entries = cache.wait_ready(cached)
    if entries is None:
        try_send_error(tls, "not_cached", "the host's copy of this offer is gone; ask the sender")
        return
    try:
        sent = send_entries(tls, entries)
    except (SendError, StreamError) as exc:
        try_send_error(tls, exc.code, exc.text)
        return
    log.info("served %s's offer %s from the cache to %s: %d bytes", *cached.key, request.get("member"), sent)
