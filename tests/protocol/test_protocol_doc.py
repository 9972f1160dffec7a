"""docs/PROTOCOL.md cannot drift from the code: its examples, limits and codes are checked here."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from net.protocol import events as ev
from net.protocol import limits
from net.protocol.codec import CLIENT_SCHEMA, HOST_SCHEMA, decode_frame, encode_event
from net.protocol.connection import MAX_REMOTE_ERRORS
from net.protocol.textmode import render_event
from tests.protocol.samples import ACTION_MESSAGE, ALICE, ROOM_MESSAGE, T0, XIAOMING

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
_BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(info: str) -> list[str]:
    return [body for tag, body in _BLOCK.findall(DOC) if tag.strip() == info]


def _frames(direction: str) -> list[str]:
    return [line for body in _blocks(f"json {direction}") for line in body.splitlines() if line.strip()]


@pytest.mark.parametrize(("direction", "from_host"), [("from-client", False), ("from-host", True)])
def test_every_example_frame_decodes_and_is_exactly_what_the_encoder_writes(
    direction: str, from_host: bool
) -> None:
    frames = _frames(direction)
    assert len(frames) >= 10
    for line in frames:
        event = decode_frame(line.encode("utf-8"), from_host=from_host)
        assert encode_event(event) == (line + "\n").encode("utf-8"), line


def test_every_message_kind_has_an_example_in_each_direction() -> None:
    client_kinds = {type(decode_frame(line.encode(), from_host=False)) for line in _frames("from-client")}
    host_kinds = {type(decode_frame(line.encode(), from_host=True)) for line in _frames("from-host")}
    assert client_kinds == set(CLIENT_SCHEMA)
    assert host_kinds == set(HOST_SCHEMA)


def test_every_message_kind_has_a_section() -> None:
    for cls in (*CLIENT_SCHEMA, *HOST_SCHEMA):
        assert re.search(rf"^#### .*`{cls.TYPE}`", DOC, re.MULTILINE), cls.TYPE


def test_the_limits_table_matches_limits_py() -> None:
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| ([0-9.]+) \|", DOC, re.MULTILINE))
    constants = {name: value for name, value in vars(limits).items() if name.isupper()}
    assert set(rows) == set(constants)
    for name, value in constants.items():
        assert rows[name] == repr(value), name
    assert f"`MAX_REMOTE_ERRORS` ({MAX_REMOTE_ERRORS})" in DOC


def _codes_in_source() -> set[str]:
    pattern = re.compile(r'(?:code=|DecodeError\(|RemoteProtocolError\(|_refuse\(\s*peer,\s*)"([a-z0-9_]+)"')
    codes: set[str] = set()
    for folder in ("net/protocol", "net/room"):
        for path in (ROOT / folder).glob("*.py"):
            codes.update(pattern.findall(path.read_text(encoding="utf-8")))
    return codes


def test_every_error_and_refusal_code_in_the_code_is_documented() -> None:
    codes = _codes_in_source()
    assert {"bad_utf8", "bad_json", "rate_limited", "nick_taken", "room_full", "version_mismatch"} <= codes
    tables = DOC.split("## Error codes", 1)[1].split("## Limits", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", tables, re.MULTILINE))
    assert codes <= documented, codes - documented


def test_the_placeholder_sections_for_other_helpers_exist() -> None:
    assert "\n## UDP transport\n" in DOC
    assert "\n## Discovery\n" in DOC


@pytest.fixture
def utc() -> Iterator[None]:
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "UTC")
    time.tzset()
    try:
        yield
    finally:
        mp.undo()
        time.tzset()


@pytest.mark.usefixtures("utc")
def test_the_plain_text_example_is_what_the_host_renders() -> None:
    bob = ev.MemberInfo(nick="bob", since=T0)
    events = [
        ev.Welcome(
            version=1,
            nick="bob",
            room="LanChat",
            members=(ALICE, XIAOMING, bob),
            history=(ROOM_MESSAGE, ACTION_MESSAGE),
        ),
        ev.ChatMessage(id="x", sender="alice", text="psst", time=T0 + 2, to="bob"),
        ev.ChatMessage(
            id="y",
            sender="mallory",
            text="two lines:\n[05:45] <-- alice left (quit)\u202e",
            time=T0 + 3,
        ),
        ev.Joined(nick="carol", time=T0 + 60),
        ev.Left(nick="carol", time=T0 + 61, reason="quit", cause="quit"),
        ev.Left(nick="dave", time=T0 + 62, reason="connection closed", cause="lost"),
        ev.Left(nick="erin", time=T0 + 63, reason="timed out", cause="timed_out"),
        ev.Renamed(old="小明", new="Xiǎo_Míng", time=T0 + 120),
        ev.Error(code="rate_limited", text="too many messages; wait 0.50 s"),
        ev.Bye(reason="host stopped"),
    ]
    [block] = _blocks("text")
    assert block == "\n".join(render_event(event) for event in events) + "\n"
