"""Invites carry the address, the transport and the room code; plain addresses still work."""

from __future__ import annotations

import pytest

from net.addresses import AddressError
from net.api import Transport
from net.invite import Invite, parse_invite


def test_an_invite_round_trips_with_its_code_and_transport() -> None:
    invite = Invite("192.168.1.5", 47801, Transport.UDP, "7F3A-91C2-4B8D-E01F-2A6C")
    assert str(invite) == "lanchat://192.168.1.5:47801/udp#7F3A-91C2-4B8D-E01F-2A6C"
    assert parse_invite(str(invite), 47800) == invite
    assert parse_invite("LANCHAT://[fe80::1]:5#7f3a 91c2 4b8d e01f 2a6c", 47800) == Invite(
        "fe80::1", 5, None, "7F3A-91C2-4B8D-E01F-2A6C"
    )
    assert parse_invite("pc-of-bob", 47800) == Invite("pc-of-bob", 47800)


@pytest.mark.parametrize(
    "text", ["lanchat://host:1/smtp#7F3A-91C2-4B8D-E01F-2A6C", "lanchat://host:1#7F3A", "lanchat://:1#x", ""]
)
def test_a_broken_invite_is_a_clear_error(text: str) -> None:
    with pytest.raises(AddressError):
        parse_invite(text, 47800)
