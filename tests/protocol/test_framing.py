"""The line framer: any chunking gives the same frames, and buffering stays under the cap."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from net.protocol.codec import DecodeError
from net.protocol.framing import LineFramer
from tests.protocol.strategies import split_at


def _feed_all(framer: LineFramer, chunks: list[bytes]) -> list[bytes]:
    frames: list[bytes] = []
    for chunk in chunks:
        frames.extend(framer.feed(chunk))
    return frames


def test_complete_lines_come_out_and_the_rest_waits() -> None:
    framer = LineFramer(100)
    assert framer.feed(b"one\ntwo\nthr") == [b"one", b"two"]
    assert framer.buffered == 3
    assert framer.feed(b"ee") == []
    assert framer.feed(b"\n") == [b"three"]
    assert framer.buffered == 0


def test_crlf_and_blank_lines() -> None:
    framer = LineFramer(100)
    assert framer.feed(b"a\r\n\r\n\n  \nb\r\r\n") == [b"a", b"  ", b"b\r"]


def test_a_multibyte_character_split_across_reads_stays_bytes_until_complete() -> None:
    data = "中文😀\n".encode()
    framer = LineFramer(100)
    assert [framer.feed(data[i : i + 1]) for i in range(len(data))][-1] == ["中文😀".encode()]


def test_a_frame_of_exactly_the_cap_passes_and_one_more_byte_fails() -> None:
    framer = LineFramer(10)
    assert framer.feed(b"x" * 10 + b"\n") == [b"x" * 10]
    with pytest.raises(DecodeError) as info:
        framer.feed(b"y" * 11 + b"\n")
    assert (info.value.code, info.value.text) == ("frame_too_large", "frame exceeds 10 bytes")


def test_a_frame_of_exactly_the_cap_with_crlf_split_between_reads() -> None:
    framer = LineFramer(10)
    assert framer.feed(b"x" * 10 + b"\r") == []
    assert framer.buffered == 11
    assert framer.feed(b"\n") == [b"x" * 10]
    with pytest.raises(DecodeError):
        LineFramer(10).feed(b"x" * 10 + b"\rz")


def test_an_endless_line_fails_as_soon_as_it_passes_the_cap_without_buffering_it_whole() -> None:
    cap = 1000
    framer = LineFramer(cap)
    fed = 0
    with pytest.raises(DecodeError) as info:
        for _ in range(1000):
            framer.feed(b"a" * 64)
            fed += 64
            assert framer.buffered <= cap
    assert info.value.code == "frame_too_large"
    assert fed == 960  # the 16th chunk took it past 1000 bytes
    assert framer.buffered == 0


def test_an_over_long_complete_line_is_refused_even_with_good_lines_around_it() -> None:
    framer = LineFramer(10)
    with pytest.raises(DecodeError) as info:
        framer.feed(b"ok\n" + b"z" * 11 + b"\nok\n")
    assert info.value.code == "frame_too_large"


_frame_bytes = st.binary(min_size=1, max_size=40).filter(lambda b: b"\n" not in b and not b.endswith(b"\r"))


@settings(deadline=None)  # timing varies on a shared machine; pytest-timeout bounds it
@given(
    frames=st.lists(st.tuples(_frame_bytes, st.sampled_from([b"\n", b"\r\n"])), max_size=20),
    cuts=st.lists(st.integers(min_value=0), max_size=30),
)
def test_any_chunking_gives_back_the_same_frames(frames: list[tuple[bytes, bytes]], cuts: list[int]) -> None:
    stream = b"".join(frame + end for frame, end in frames)
    expected = [frame for frame, _ in frames]
    assert _feed_all(LineFramer(40), [stream]) == expected
    assert _feed_all(LineFramer(40), split_at(stream, cuts)) == expected
    assert _feed_all(LineFramer(40), [stream[i : i + 1] for i in range(len(stream))]) == expected


@settings(deadline=None)  # timing varies on a shared machine; pytest-timeout bounds it
@given(st.lists(st.binary(max_size=80), max_size=40))
def test_random_bytes_only_ever_raise_decode_errors_and_buffering_stays_capped(chunks: list[bytes]) -> None:
    framer = LineFramer(50)
    for chunk in chunks:
        try:
            frames = framer.feed(chunk)
        except DecodeError as exc:
            assert exc.code == "frame_too_large"
            framer = LineFramer(50)
            continue
        assert all(0 < len(frame) <= 50 and b"\n" not in frame for frame in frames)
        assert framer.buffered <= 51
