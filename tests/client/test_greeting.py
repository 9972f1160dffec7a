"""The lines a host wrote for a person at `nc`, skipped before its first TLS record."""

from __future__ import annotations

from net.client.greeting import MAX_GREETING_BYTES, GreetingSkipper
from net.protocol.textmode import NICKNAME_PROMPT

SERVER_HELLO = b"\x16\x03\x03\x00\x7a\x02rest of the record"


def test_a_prompt_before_the_first_record_is_dropped_whole_or_in_pieces() -> None:
    skipper = GreetingSkipper()
    assert skipper.feed(NICKNAME_PROMPT + SERVER_HELLO) == SERVER_HELLO
    assert skipper.feed(b"\n\x15more") == b"\n\x15more"  # past the greeting: everything passes
    pieces = GreetingSkipper()
    stream = NICKNAME_PROMPT + b"Cannot join: two\n        | lines\n" + SERVER_HELLO
    out = b"".join(pieces.feed(stream[i : i + 3]) for i in range(0, len(stream), 3))
    assert out == SERVER_HELLO


def test_a_host_that_opens_with_tls_is_untouched() -> None:
    assert GreetingSkipper().feed(SERVER_HELLO) == SERVER_HELLO
    assert GreetingSkipper().feed(b"\x15\x03\x03\x00\x02\x02\x28") == b"\x15\x03\x03\x00\x02\x02\x28"


def test_endless_text_goes_to_tls_after_the_bound() -> None:
    skipper = GreetingSkipper()
    line = b"x" * 99 + b"\n"
    passed = b"".join(skipper.feed(line) for _ in range(MAX_GREETING_BYTES // len(line) + 2))
    assert passed and skipper.done  # TLS then fails: not a LanChat host
