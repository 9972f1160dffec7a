"""Rooms met before, and the key each one showed: trust on first use, as SSH's known_hosts.

The first time a member joins a room at an address, the room's fingerprint is pinned for
that address; joining there again expects the same key, and a different one is refused
until the user confirms it (then the new key replaces the old pin). A key already pinned
at another address is the same room moved (a new DHCP lease): no warning, the new
address is pinned too.

The file is small JSON in the config folder, readable by its owner only, bounded to the
most recently used `MAX_PINS` addresses; a corrupt file is set aside, never fatal.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from net.secure.private_files import write_private

log = logging.getLogger(__name__)

MAX_PINS = 1_000


class PinStore:
    """Pinned fingerprints by room address (``host:port``). Not thread-safe: one owner."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pins: dict[str, tuple[str, float]] = self._load()

    def pinned(self, address: str) -> bytes | None:
        """The fingerprint pinned for `address`, if any."""
        entry = self._pins.get(address)
        return None if entry is None else bytes.fromhex(entry[0])

    def known(self, fingerprint: bytes) -> bool:
        """True when some address has this key pinned (the room was met before)."""
        hex_key = fingerprint.hex()
        return any(key == hex_key for key, _ in self._pins.values())

    def pin(self, address: str, fingerprint: bytes) -> None:
        """Remember `fingerprint` for `address` (replacing an older pin) and save."""
        self._pins[address] = (fingerprint.hex(), time.time())
        if len(self._pins) > MAX_PINS:
            oldest = sorted(self._pins, key=lambda a: self._pins[a][1])[: len(self._pins) - MAX_PINS]
            for address_gone in oldest:
                del self._pins[address_gone]
        self._save()

    def _load(self) -> dict[str, tuple[str, float]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            self._set_aside(f"unreadable ({exc})")
            return {}
        pins: dict[str, tuple[str, float]] = {}
        if isinstance(raw, dict):
            for address, entry in raw.items():
                if (
                    isinstance(address, str)
                    and isinstance(entry, list)
                    and len(entry) == 2
                    and isinstance(entry[0], str)
                    and len(entry[0]) == 64
                    and all(c in "0123456789abcdef" for c in entry[0])
                    and isinstance(entry[1], int | float)
                ):
                    pins[address] = (entry[0], float(entry[1]))
        if len(pins) != (len(raw) if isinstance(raw, dict) else -1):
            self._set_aside("not a file of pinned rooms")
        return pins

    def _set_aside(self, why: str) -> None:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        try:
            os.replace(self.path, aside)
            log.warning("the pinned rooms file was %s; kept as %s, starting afresh", why, aside.name)
        except OSError:
            log.warning("the pinned rooms file was %s and could not be set aside", why)

    def _save(self) -> None:
        data = json.dumps({address: list(entry) for address, entry in self._pins.items()}, indent=1)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_private(self.path, data.encode("utf-8"))
        except OSError as exc:
            log.warning("could not save the pinned rooms: %s", exc.strerror or exc)
