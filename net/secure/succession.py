"""Signing a host's successor list with the room's key, and checking such a signature.

Members trust a successor because the host they verified over TLS named it: the host
signs (ECDSA P-256, SHA-256) a canonical encoding of the list with its installation key
(`net.secure.identity`) and sends its certificate beside it. A member checks that the
certificate is the one whose fingerprint it pinned for this room, then the signature.
So a member cannot name itself successor (it has not the host's key), and a list cannot
be replayed into another room or epoch (both are signed).

`cryptography` is imported only here and only when a list is signed or checked.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from net.protocol import events as ev
from net.secure.codes import fingerprint_of

#: Keeps a successor signature from ever being valid as the signature of anything else.
DOMAIN = b"lanchat-succession-1\x00"


def canonical(kind: str, epoch: int, room: str, successors: Sequence[ev.SuccessorEntry]) -> bytes:
    """The bytes signed: compact JSON with sorted keys, UTF-8, after `DOMAIN`."""
    body = {
        "kind": kind,
        "epoch": epoch,
        "room": room,
        "successors": [
            {
                "nick": e.nick,
                "addresses": list(e.addresses),
                "port": e.port,
                "transport": e.transport,
                "key": e.key,
            }
            for e in successors
        ],
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return DOMAIN + text.encode("utf-8")


class Signer:
    """Signs with this installation's key (read once, on the host's thread)."""

    def __init__(self, key_path: Path, cert_path: Path) -> None:
        import ssl

        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the installation key is not an EC key")
        self._key = key
        der = ssl.PEM_cert_to_DER_cert(cert_path.read_text(encoding="ascii"))
        self.cert = base64.b64encode(der).decode("ascii")
        self.fingerprint = fingerprint_of(der)

    def sign(self, message: bytes) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return base64.b64encode(self._key.sign(message, ec.ECDSA(hashes.SHA256()))).decode("ascii")

    def signed(
        self,
        kind: type[ev.Successors] | type[ev.Handover],
        epoch: int,
        room: str,
        successors: Sequence[ev.SuccessorEntry],
    ) -> Any:
        """A `Successors` or `Handover` event, signed."""
        sig = self.sign(canonical(kind.TYPE, epoch, room, successors))
        return kind(epoch=epoch, room=room, successors=tuple(successors), cert=self.cert, sig=sig)


def verify(event: ev.Successors | ev.Handover, expected_fingerprint: bytes) -> bool:
    """True when `event` is signed by the certificate of `expected_fingerprint`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509 import load_der_x509_certificate

    try:
        der = base64.b64decode(event.cert, validate=True)
        signature = base64.b64decode(event.sig, validate=True)
    except (binascii.Error, ValueError):
        return False
    if fingerprint_of(der) != expected_fingerprint:
        return False
    try:
        public = load_der_x509_certificate(der).public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            return False
        public.verify(
            signature,
            canonical(event.TYPE, event.epoch, event.room, event.successors),
            ec.ECDSA(hashes.SHA256()),
        )
    except (InvalidSignature, ValueError):
        return False
    return True
