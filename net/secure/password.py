"""Room passwords, kept only as a salted hash.

The host needs the password only to compare it with what a joining member sends (inside
TLS). It keeps scrypt of it with a random salt; the cost is small (about 3 ms a check
here) because every check runs on the host's service thread, and a room password guards
a LAN chat, not a vault.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

_SCRYPT = {"n": 2**10, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True, slots=True)
class PasswordHash:
    salt: bytes
    digest: bytes

    @classmethod
    def of(cls, password: str) -> PasswordHash:
        salt = os.urandom(16)
        return cls(salt, _hash(password, salt))

    def matches(self, password: str | None) -> bool:
        """True when `password` is the one hashed (in constant time)."""
        if password is None:
            return False
        return hmac.compare_digest(self.digest, _hash(password, self.salt))


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)


def secret_digest(secret: str | None) -> bytes | None:
    """What a host keeps of a session's resume secret (compared with `hmac.compare_digest`)."""
    return None if secret is None else hashlib.sha256(secret.encode("utf-8")).digest()
