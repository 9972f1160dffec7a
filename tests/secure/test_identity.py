"""This installation's identity: made once, owner-only, stable, and refused when broken."""

from __future__ import annotations

import os
import stat

import pytest

from net.secure import IdentityError
from net.secure.codes import matches_code, normalize_code, room_code
from net.secure.identity import load_or_create_identity


def test_an_identity_is_made_once_with_owner_only_files_and_stays_the_same(tmp_path) -> None:
    first = load_or_create_identity(tmp_path / "id")
    again = load_or_create_identity(tmp_path / "id")
    assert first.fingerprint == again.fingerprint and len(first.fingerprint) == 32
    if os.name == "posix":
        assert stat.S_IMODE(first.key_path.stat().st_mode) == 0o600
    other = load_or_create_identity(tmp_path / "other")
    assert other.fingerprint != first.fingerprint


def test_codes_are_five_groups_of_four_and_read_back_however_typed(tmp_path) -> None:
    identity = load_or_create_identity(tmp_path)
    code = identity.code
    assert len(code) == 24 and code.count("-") == 4 and code == room_code(identity.fingerprint)
    typed = code.lower().replace("-", " ")
    assert normalize_code(typed) == code and matches_code(identity.fingerprint, typed)
    assert normalize_code("7F3A-91C2") is None and normalize_code("ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ") is None
    assert not matches_code(load_or_create_identity(tmp_path / "x").fingerprint, code)


def test_a_broken_or_mismatched_identity_is_refused_not_replaced(tmp_path) -> None:
    identity = load_or_create_identity(tmp_path / "a")
    other = load_or_create_identity(tmp_path / "b")
    other.cert_path.replace(identity.cert_path)  # a certificate that is not the key's
    with pytest.raises(IdentityError, match="do not belong together"):
        load_or_create_identity(tmp_path / "a")
    identity.key_path.write_text("garbage")
    with pytest.raises(IdentityError, match="cannot be read"):
        load_or_create_identity(tmp_path / "a")
