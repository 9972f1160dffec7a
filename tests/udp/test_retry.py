"""Address-validation tokens, as pure code: who may use one, for what, and for how long."""

from __future__ import annotations

import pytest

from net.udp.retry import TOKEN_LIFETIME, RetryTokens
from net.udp.wire import NO_TOKEN, TOKEN_BYTES

ALICE = ("192.168.1.20", 50123)
CONN = 0x1234_5678_9ABC_DEF1


def test_a_token_is_good_for_its_address_port_and_connection_id_only() -> None:
    tokens = RetryTokens(100.0)
    token = tokens.issue(ALICE, CONN, 100.0)
    assert len(token) == TOKEN_BYTES
    assert tokens.check(token, ALICE, CONN, 100.1)
    assert not tokens.check(token, ("192.168.1.21", 50123), CONN, 100.1)  # another address
    assert not tokens.check(token, ("192.168.1.20", 50124), CONN, 100.1)  # another port
    assert not tokens.check(token, ALICE, CONN ^ 1, 100.1)  # another connection id
    assert not tokens.check(NO_TOKEN, ALICE, CONN, 100.1)
    assert not tokens.check(token[:-1], ALICE, CONN, 100.1)


def test_ipv6_addresses_with_a_scope_are_told_apart() -> None:
    tokens = RetryTokens(0.0)
    token = tokens.issue(("fe80::1%eth0", 5000, 0, 2), CONN, 0.0)
    assert tokens.check(token, ("fe80::1%eth0", 5000, 0, 2), CONN, 0.0)
    assert not tokens.check(token, ("fe80::1%eth1", 5000, 0, 3), CONN, 0.0)


@pytest.mark.parametrize("flipped", range(TOKEN_BYTES))
def test_a_changed_byte_spoils_the_token(flipped: int) -> None:
    tokens = RetryTokens(0.0)
    token = bytearray(tokens.issue(ALICE, CONN, 7.0))
    token[flipped] ^= 0x01
    assert not tokens.check(bytes(token), ALICE, CONN, 7.0)


def test_a_token_expires_after_its_lifetime_and_cannot_come_from_the_future() -> None:
    tokens = RetryTokens(0.0)
    token = tokens.issue(ALICE, CONN, 10.0)
    assert tokens.check(token, ALICE, CONN, 10.0 + TOKEN_LIFETIME - 0.1)
    assert not tokens.check(token, ALICE, CONN, 10.0 + TOKEN_LIFETIME + 0.2)
    assert not tokens.check(token, ALICE, CONN, 9.0)  # issued "later" than now: refused
    short = RetryTokens(0.0, lifetime=0.5)
    assert not short.check(short.issue(ALICE, CONN, 1.0), ALICE, CONN, 1.7)


def test_another_run_of_the_host_refuses_the_tokens_of_the_last_one() -> None:
    token = RetryTokens(0.0).issue(ALICE, CONN, 1.0)
    assert not RetryTokens(0.0).check(token, ALICE, CONN, 1.0)  # a new random secret
    fixed = RetryTokens(0.0, secret=b"s" * 32)
    assert RetryTokens(0.0, secret=b"s" * 32).check(fixed.issue(ALICE, CONN, 1.0), ALICE, CONN, 1.0)
