"""TLS 1.3 without a socket: bytes in, bytes out, over any reliable ordered channel.

`TlsSession` wraps `ssl.SSLObject` between two `ssl.MemoryBIO`s, so one security layer
serves the TCP stream and the UDP transport's reliable channel alike, and the protocol
core never sees a socket. The transport feeds what arrived with `receive` (which returns
the plaintext that became available) and writes out `take_output()` after every call;
the application's bytes go in with `send`.

Authentication is by pinned fingerprint, not by certificate authorities (there are none on
a LAN): the host presents this installation's self-signed certificate; the client accepts
any certificate during the handshake and then compares `peer_fingerprint` with what it
expects (a pin or an invite's code) before sending anything. Python's `ssl` has no verify
callback, so that comparison happens right after the handshake, before the hello.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import TYPE_CHECKING

from net.secure.codes import fingerprint_of

if TYPE_CHECKING:  # the type only: making a key needs `cryptography`, TLS does not
    from net.secure.identity import Identity

#: Plaintext taken from the TLS object per read call.
_READ_SIZE = 256 * 1024
#: Plaintext kept while the handshake runs, before it can be encrypted.
MAX_EARLY_PLAINTEXT = 1024 * 1024


class TlsError(Exception):
    """The TLS layer failed (a broken record, a failed handshake); `text` says how."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def server_context(identity: Identity) -> ssl.SSLContext:
    """The host's context: TLS 1.3 only, this installation's certificate, no client certificates."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(str(identity.cert_path), str(identity.key_path))
    context.options |= ssl.OP_NO_TICKET  # sessions are not resumed: no tickets to send
    return context


def client_context() -> ssl.SSLContext:
    """A member's context: TLS 1.3 only; the host's certificate is checked by fingerprint."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # no CA on a LAN: the fingerprint is checked instead
    return context


def looks_like_tls(first_bytes: bytes) -> bool:
    """True when a stream starts with a TLS handshake record (what a ClientHello opens with)."""
    return first_bytes[:1] == b"\x16"


class TlsSession:
    """One end of a TLS connection over a channel the caller drives (not thread-safe)."""

    def __init__(self, context: ssl.SSLContext, *, server: bool) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=server)
        self._early = bytearray()  # plaintext sent before the handshake finished
        self.handshake_done = False
        self.closed = False  # the peer's close_notify or end of stream was seen
        if not server:
            self._advance_handshake()  # the ClientHello, ready in take_output()

    @property
    def peer_fingerprint(self) -> bytes | None:
        """The SHA-256 of the peer's certificate once the handshake is done (hosts have one)."""
        if not self.handshake_done:
            return None
        der = self._tls.getpeercert(binary_form=True)
        return None if der is None else fingerprint_of(der)

    def receive(self, data: bytes) -> bytes:
        """Feed bytes from the channel (``b""``: it ended); returns the plaintext now readable.

        Raises TlsError when the peer breaks TLS (the caller closes the connection)."""
        if self.closed:
            return b""
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()
        if not self.handshake_done and not self._advance_handshake():
            return b""
        chunks: list[bytes] = []
        tls, incoming = self._tls, self._incoming
        while True:
            # At most what is waiting can come out (plaintext is never longer than its
            # records): read no more than that, and stop when nothing waits instead of
            # asking OpenSSL and catching its SSLWantReadError (an exception per read
            # costs more than decrypting a small record).
            waiting = incoming.pending + tls.pending()
            if not waiting and not incoming.eof:
                break
            try:
                chunk = tls.read(min(max(waiting, 1), _READ_SIZE))
            except ssl.SSLWantReadError:
                break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self.closed = True
                break
            except ssl.SSLError as exc:
                raise TlsError(_describe(exc)) from None
            if not chunk:
                self.closed = True
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def send(self, plaintext: bytes | bytearray | memoryview) -> None:
        """Encrypt `plaintext` (kept until the handshake finishes); then call `take_output`."""
        if not plaintext or self.closed:
            return
        if not self.handshake_done:
            if len(self._early) + len(plaintext) > MAX_EARLY_PLAINTEXT:
                raise TlsError("too much to send before the TLS handshake finished")
            self._early += plaintext
            return
        try:
            self._tls.write(plaintext)
        except ssl.SSLError as exc:
            raise TlsError(_describe(exc)) from None

    def seal(self, pieces: Iterable[bytes | bytearray | memoryview]) -> bytes:
        """Encrypt `pieces` in order; returns every byte to put on the channel now: `send` of
        each, then `take_output`, in one call (a host seals each receiver's share of a round,
        a few slices of one buffer, so this runs per receiver and round).

        Each piece goes to OpenSSL as it is: joining them first would copy the round for
        every receiver to save a record or two, and measured neither way was faster. Raises
        TlsError as `send` does (what was sealed before the failure is still in
        `take_output`)."""
        if self.handshake_done and not self.closed:
            write = self._tls.write
            try:
                for piece in pieces:
                    if piece:
                        write(piece)
            except ssl.SSLError as exc:
                raise TlsError(_describe(exc)) from None
        else:
            for piece in pieces:
                self.send(piece)
        return self._outgoing.read() if self._outgoing.pending else b""

    def take_output(self) -> bytes:
        """The bytes to put on the channel now (handshake messages and records)."""
        return self._outgoing.read() if self._outgoing.pending else b""

    @property
    def output_pending(self) -> bool:
        return self._outgoing.pending > 0

    def _advance_handshake(self) -> bool:
        try:
            self._tls.do_handshake()
        except ssl.SSLWantReadError:
            return False
        except ssl.SSLError as exc:
            raise TlsError(_describe(exc)) from None
        self.handshake_done = True
        if self._early:
            early, self._early = bytes(self._early), bytearray()
            self.send(early)
        return True


def _describe(exc: ssl.SSLError) -> str:
    reason = getattr(exc, "reason", None) or exc.__class__.__name__
    return f"TLS failed: {str(reason).replace('_', ' ').lower()}"
