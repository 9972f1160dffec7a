"""The member's side of trust on first use: is this the host's key we expect?

Pure: given the fingerprint the host presented in the TLS handshake, the one pinned for
the room (at an earlier join, or earlier in this session) and an invite's code, say whether
to go on (and whether this is a first meeting to pin) or to refuse, with a sentence naming
both codes. The session sends nothing to the host before this says yes.
"""

from __future__ import annotations

from dataclasses import dataclass

from net.api import FailureKind
from net.secure.codes import matches_code, room_code


@dataclass(frozen=True, slots=True)
class KeyVerdict:
    failure: FailureKind | None  # None: the key is the expected one
    first_use: bool = False  # nothing was expected: the owner pins it now
    expected_code: str = ""  # the code that was expected (for the warning)
    text: str = ""


def check_host_key(fingerprint: bytes, *, pinned: bytes | None, expected_code: str | None) -> KeyVerdict:
    """Whether `fingerprint` is the host's key as far as this member knows it."""
    if pinned is not None and fingerprint != pinned:
        old = room_code(pinned)
        return KeyVerdict(
            FailureKind.KEY_CHANGED,
            expected_code=old,
            text=(
                f"the room's code changed from {old} to {room_code(fingerprint)}: "
                "someone may be posing as the host; nothing was sent"
            ),
        )
    if expected_code and not matches_code(fingerprint, expected_code):
        return KeyVerdict(
            FailureKind.KEY_MISMATCH,
            expected_code=expected_code,
            text=(
                f"the host's code is {room_code(fingerprint)}, not {expected_code} as the invite says: "
                "someone may be posing as the host; nothing was sent"
            ),
        )
    return KeyVerdict(None, first_use=pinned is None and not expected_code)
