"""Pinned rooms: kept per address, saved owner-only, bounded, and a corrupt file set aside."""

from __future__ import annotations

import json
import os
import stat

from net.secure import pins
from net.secure.pins import PinStore


def test_pins_survive_a_restart_and_a_new_key_replaces_the_old(tmp_path) -> None:
    path = tmp_path / "pins.json"
    store = PinStore(path)
    store.pin("10.0.0.5:47800", b"\x01" * 32)
    again = PinStore(path)
    assert again.pinned("10.0.0.5:47800") == b"\x01" * 32 and again.known(b"\x01" * 32)
    assert again.pinned("10.0.0.6:47800") is None and not again.known(b"\x02" * 32)
    again.pin("10.0.0.5:47800", b"\x02" * 32)
    assert PinStore(path).pinned("10.0.0.5:47800") == b"\x02" * 32
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_corrupt_or_foreign_file_is_set_aside_and_pinning_goes_on(tmp_path) -> None:
    path = tmp_path / "pins.json"
    path.write_text('{"10.0.0.5:1": ["not hex", "x"]}')
    store = PinStore(path)
    assert store.pinned("10.0.0.5:1") is None
    assert list(tmp_path.glob("pins.json.corrupt-*"))
    store.pin("a:1", b"\x03" * 32)
    assert json.loads(path.read_text())["a:1"][0] == "03" * 32


def test_the_store_keeps_the_most_recently_used_addresses(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(pins, "MAX_PINS", 3)
    store = PinStore(tmp_path / "pins.json")
    for number in range(5):
        store.pin(f"host{number}:1", bytes([number]) * 32)
    kept = PinStore(tmp_path / "pins.json")
    assert [kept.pinned(f"host{n}:1") is not None for n in range(5)] == [False, False, True, True, True]
