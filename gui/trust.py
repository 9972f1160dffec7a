"""Trust in rooms, for the window: this PC's identity, the keys of rooms met before, and
what to do when a room shows a key other than the expected one. No Tk.

`Trust` keeps this installation's identity (made once, in the settings folder; hosting
serves TLS with it and the "Invite others" panel shows its code) and the pinned rooms
(`net.secure.pins`, shared with ``main.py join``). `KeyWarning` and `code_to_rejoin` are
the warning dialog's logic as plain values, IDLE-style: the dialog only shows a warning
and reports the button pressed, so the decision is tested without a window.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from net.api import FailureKind, KeyRejected
from net.paths import identity_dir, pins_file
from net.secure.codes import room_code
from net.secure.mailbox_secret import load_or_create_mailbox_secret
from net.secure.pins import PinStore

if TYPE_CHECKING:
    from net.secure.identity import Identity


def pin_key(host: str, port: int) -> str:
    """The address a room's key is pinned under: ``host:port``, as ``main.py join`` writes it."""
    return f"{host}:{port}"


class Trust:
    """This PC's identity and the pinned rooms, both kept in the settings folder. Main thread."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._identity: Identity | None = None
        self._pins: PinStore | None = None
        self._mailbox: str | None = None

    def identity(self) -> Identity:
        """This installation's key and certificate (made the first time); IdentityError if unusable."""
        if self._identity is None:
            from net.secure.identity import load_or_create_identity  # `cryptography`: only to host

            self._identity = load_or_create_identity(identity_dir(self.directory))
        return self._identity

    def mailbox(self) -> str:
        """This installation's lasting mailbox secret (made the first time; "" if it cannot be kept)."""
        if self._mailbox is None:
            self._mailbox = load_or_create_mailbox_secret(identity_dir(self.directory))
        return self._mailbox

    @property
    def pins(self) -> PinStore:
        if self._pins is None:
            self._pins = PinStore(pins_file(self.directory))
        return self._pins

    def pinned(self, where: str, code: str | None) -> bytes | None:
        """The key a join to `where` must see: none when a code says it (an invite, or a
        changed key the user accepted), else the one pinned there (None the first time)."""
        return None if code else self.pins.pinned(where)

    def verified(self, where: str, fingerprint: bytes) -> None:
        """The room at `where` proved this key (first use, the pin or the code): pin it."""
        if self.pins.pinned(where) != fingerprint:
            self.pins.pin(where, fingerprint)


class KeyChoice(enum.Enum):
    """The warning dialog's buttons; `DONT_CONNECT` is the default (Return, Escape, closing)."""

    DONT_CONNECT = "dont_connect"
    CONNECT_ANYWAY = "connect_anyway"


@dataclass(frozen=True, slots=True)
class KeyWarning:
    """A room showed another key than the expected one: what the warning dialog names."""

    address: str  # the address joined, as the user would type it
    expected: str  # the code pinned or invited
    shown: str  # the code of the key the room showed
    invited: bool  # the expected code came from an invite (KEY_MISMATCH), not a pin

    @classmethod
    def of(cls, rejected: KeyRejected, address: str) -> KeyWarning:
        return cls(
            address=address,
            expected=rejected.expected_code,
            shown=room_code(rejected.fingerprint),
            invited=rejected.failure is FailureKind.KEY_MISMATCH,
        )


def code_to_rejoin(choice: KeyChoice | None, warning: KeyWarning) -> str | None:
    """The code to join again with after the warning, or None to stay away.

    Only an explicit "Connect anyway" joins, and then only to the key that was shown (the
    join expects that code, and the key is pinned once the room proves it): anything else,
    closing the dialog included, connects to nothing.
    """
    return warning.shown if choice is KeyChoice.CONNECT_ANYWAY else None
