"""Fingerprints and room codes: what people compare, without any cryptography library.

The fingerprint of a room is the SHA-256 of its host's certificate (DER bytes); the room
code is its first 80 bits as five groups of four hex digits (`7F3A-91C2-4B8D-E01F-2A6C`):
hard to forge by grinding keys on a LAN, short enough to read over the phone. Kept apart
from `identity.py` so that checking a code costs no import of `cryptography` (~90 ms).
"""

from __future__ import annotations

import hashlib
import re
import secrets

#: Hex digits of the fingerprint shown as the room code (80 bits), in groups of four.
CODE_HEX_DIGITS = 20
_CODE = re.compile(r"^[0-9A-F]{4}(?:-[0-9A-F]{4}){4}$")


def fingerprint_of(der_certificate: bytes) -> bytes:
    """The SHA-256 of a certificate's DER bytes: what a room is known and pinned by."""
    return hashlib.sha256(der_certificate).digest()


def room_code(fingerprint: bytes) -> str:
    """The readable code of a fingerprint: ``7F3A-91C2-4B8D-E01F-2A6C``."""
    digits = fingerprint.hex().upper()[:CODE_HEX_DIGITS]
    return "-".join(digits[i : i + 4] for i in range(0, CODE_HEX_DIGITS, 4))


def normalize_code(text: str) -> str | None:
    """A code as typed (any case, spaces or dashes anywhere) in its canonical form, or None."""
    digits = re.sub(r"[\s-]", "", text).upper()
    if len(digits) != CODE_HEX_DIGITS:
        return None
    code = "-".join(digits[i : i + 4] for i in range(0, CODE_HEX_DIGITS, 4))
    return code if _CODE.match(code) else None


def matches_code(fingerprint: bytes, code: str) -> bool:
    """True when `fingerprint` is the one `code` names (compared in constant time)."""
    canonical = normalize_code(code)
    return canonical is not None and secrets.compare_digest(room_code(fingerprint), canonical)
