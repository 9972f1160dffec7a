"""The discovery datagram format: round trips, limits, and refusal of anything malformed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from net.api import Transport
from net.discovery.wire import (
    MAGIC,
    MAX_DATAGRAM_BYTES,
    Announcement,
    DiscoveryDecodeError,
    Goodbye,
    Probe,
    RoomInfo,
    decode_datagram,
    encode_datagram,
    handle_discovery_datagram,
    is_discovery_datagram,
)

KEY = bytes(range(32))
INFO = RoomInfo("Café 咖啡", "alice", Transport.UDP, 47801, "abcd1234", KEY, members=3, password=True)


def raw(obj: object) -> bytes:
    return MAGIC + json.dumps(obj).encode()


def announce_obj(**changes: object) -> dict:
    obj = {
        "v": 1,
        "type": "announce",
        "room": "R",
        "nick": "n",
        "transport": "tcp",
        "port": 47800,
        "protocol": 1,
        "members": 0,
        "password": False,
        "host_id": "h1",
        "key": KEY.hex(),
        "interval": 5,
        "ttl": 16,
    }
    obj.update(changes)
    return {k: v for k, v in obj.items() if v is not None}


@pytest.mark.parametrize(
    "message",
    [
        Probe("p1"),
        Probe("p2", max_delay=0.25),
        Announcement(INFO),
        Announcement(INFO, answer_to="p1"),
        Goodbye("abcd1234", Transport.TCP, 47800, KEY),
    ],
)
def test_round_trip(message: object) -> None:
    data = encode_datagram(message)
    assert is_discovery_datagram(data)
    assert len(data) <= MAX_DATAGRAM_BYTES
    assert decode_datagram(data) == message


def test_longest_room_and_nick_fit_in_one_datagram() -> None:
    info = RoomInfo("語" * 48, "名" * 96, Transport.TCP, 65535, "x" * 64, b"\xff" * 32, members=1_000_000)
    assert len(encode_datagram(Announcement(info, answer_to="y" * 64))) <= MAX_DATAGRAM_BYTES


def test_newer_versions_with_extra_fields_are_read() -> None:
    message = decode_datagram(raw(announce_obj(v=3, colour="blue")))
    assert isinstance(message, Announcement)
    assert message.info.room == "R"


def test_the_room_key_is_read_in_either_case_and_written_in_lower_case() -> None:
    message = decode_datagram(raw(announce_obj(key=KEY.hex().upper())))
    assert isinstance(message, Announcement) and message.info.key == KEY
    assert f'"key":"{KEY.hex()}"'.encode() in encode_datagram(message)
    assert decode_datagram(encode_datagram(message)) == message


@pytest.mark.parametrize(
    "obj",
    [
        announce_obj(key=None, v=1),
        announce_obj(key=None, type="answer", probe="p1"),
        {"v": 1, "type": "goodbye", "host_id": "h1", "transport": "tcp", "port": 47800},
    ],
)
def test_datagrams_without_a_room_key_are_refused(obj: dict) -> None:
    """Discovery version 1 had no key: such a room cannot be told apart from a copy of it."""
    with pytest.raises(DiscoveryDecodeError, match="no room key"):
        decode_datagram(raw(obj))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"LCUD\x01\x01\x00\x00",  # a UDP chat datagram
        b"LANCHAT/DISCOVERY",  # magic without newline and payload
        MAGIC + b"\xff\xfe{}",  # not UTF-8
        MAGIC + b"{not json",
        MAGIC + b"[1, 2]",
        MAGIC + b'{"v": 1, "type": "probe", "id": "a", "mx": NaN}',
        MAGIC + b"[" * 100_000,  # deep nesting is refused by size first
        MAGIC + b" " * MAX_DATAGRAM_BYTES + b"{}",
        raw({"type": "probe", "id": "a"}),  # no version
        raw({"v": "1", "type": "probe", "id": "a"}),
        raw({"v": 1, "type": "probe"}),
        raw({"v": 1, "type": "probe", "id": "has space"}),
        raw({"v": 1, "type": "probe", "id": "a" * 65}),
        raw({"v": 1, "type": "probe", "id": "a", "mx": -1}),
        raw({"v": 1, "type": "shout"}),
        raw({"v": 1, "type": 7}),
        raw(announce_obj(port=0)),
        raw(announce_obj(port=65536)),
        raw(announce_obj(port=True)),
        raw(announce_obj(port="47800")),
        raw(announce_obj(transport="sctp")),
        raw(announce_obj(members=-1)),
        raw(announce_obj(room="x" * 49)),
        raw(announce_obj(room="bad\nname")),
        raw(announce_obj(nick="\u202e\x07")),
        raw(announce_obj(password="yes")),
        raw(announce_obj(host_id=None)),
        raw(announce_obj(key=KEY.hex()[:-1])),  # 63 hex digits
        raw(announce_obj(key=KEY.hex() + "0")),  # 65
        raw(announce_obj(key="g" * 64)),
        raw(announce_obj(key=" " + KEY.hex()[1:])),
        raw(announce_obj(key=KEY.hex()[:-1] + "\n")),
        raw(announce_obj(key=7)),
        raw(announce_obj(key=list(KEY))),
        raw({"v": 2, "type": "goodbye", "host_id": "h1", "transport": "tcp", "port": 1, "key": "ab" * 31}),
        raw(announce_obj(interval=0)),
        raw(announce_obj(ttl=1, interval=5)),
        raw(announce_obj(ttl=float("inf"))),
        raw(announce_obj(type="answer")),  # an answer names its probe
    ],
)
def test_malformed_datagrams_are_refused(data: bytes) -> None:
    with pytest.raises(DiscoveryDecodeError):
        decode_datagram(data)


@given(st.binary(max_size=1300))
def test_decoding_random_bytes_raises_only_decode_errors(data: bytes) -> None:
    for candidate in (data, MAGIC + data):
        try:
            decode_datagram(candidate)
        except DiscoveryDecodeError:
            pass


@given(
    st.dictionaries(st.sampled_from(list(announce_obj())), st.none() | st.integers() | st.text(max_size=5))
)
def test_decoding_random_objects_raises_only_decode_errors(obj: dict) -> None:
    try:
        decode_datagram(raw(obj))
    except DiscoveryDecodeError:
        pass


def test_encoding_refuses_what_browsers_would_refuse() -> None:
    with pytest.raises(ValueError):
        encode_datagram(Announcement(RoomInfo("x" * 49, "n", Transport.TCP, 1, "h", KEY)))
    with pytest.raises(ValueError):
        encode_datagram(Announcement(RoomInfo("r", "n", Transport.TCP, 0, "h", KEY)))
    with pytest.raises(ValueError):
        encode_datagram(Announcement(RoomInfo("r", "n", Transport.TCP, 1, "h", KEY[:31])))


def test_udp_host_helper_answers_probes_only() -> None:
    answer = handle_discovery_datagram(encode_datagram(Probe("p9")), INFO)
    assert answer is not None
    assert decode_datagram(answer) == Announcement(INFO, answer_to="p9")
    assert handle_discovery_datagram(encode_datagram(Probe("p9")), lambda: INFO) == answer
    assert handle_discovery_datagram(encode_datagram(Announcement(INFO)), INFO) is None
    assert handle_discovery_datagram(b"LANCHAT/DISCOVERY\ngarbage", INFO) is None
    assert not is_discovery_datagram(b"LCUD\x01")
