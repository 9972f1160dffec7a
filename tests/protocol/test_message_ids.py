"""The host's message ids follow the documented rule, and the room and a client derive them alike.

A client recognises its own message in a welcome's history by deriving the id the host gave
it (`net.client.welcome`); that works only while the room relays under exactly that id.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from net.protocol import events as ev
from net.protocol.message_ids import derive_message_id
from net.room import Room, RoomConfig, Send
from tests.room.fakes import hello

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")


def _as_documented(client_id: str, local_id: str) -> str:
    """docs/PROTOCOL.md's rule, written out independently of the code."""
    data = client_id.encode("utf-8") + b"\0" + local_id.encode("utf-8")
    digest = hashlib.blake2b(data, digest_size=9, person=b"lanchat-msg").digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def test_derived_ids_follow_the_documented_rule() -> None:
    for client_id, local_id in [("5b0e8c1f7d3a4e21", "m1"), ("c-2", "1a2b3c4d-17"), ("小明的电脑", "m-ü")]:
        assert derive_message_id(client_id, local_id) == _as_documented(client_id, local_id)
        assert len(derive_message_id(client_id, local_id)) == 12


def test_the_documented_example_is_what_the_rule_gives() -> None:
    found = re.search(r"`client_id` `(\S+)` and `say.id`\s+`(\S+)` give `(\S+)`", DOC)
    assert found is not None, "the example is gone from docs/PROTOCOL.md"
    client_id, local_id, message_id = found.groups()
    assert derive_message_id(client_id, local_id) == message_id


def test_the_room_relays_under_the_derived_id_single_and_in_runs() -> None:
    room = Room(RoomConfig(name="ids", rate_per_second=0))
    room.join("a", hello("alice", "client-a"))
    single = [o for o in room.handle("a", ev.Say(id="x-1", text="one")) if isinstance(o, Send)]
    room.handle_says("a", [ev.Say(id="x-2", text="two"), ev.Say(id="x-3", text="three")])
    assert [m.id for m in room.history()] == [derive_message_id("client-a", f"x-{n}") for n in (1, 2, 3)]
    [ack] = [o.event for o in single if isinstance(o.event, ev.Ack)]
    assert ack.msg_id == derive_message_id("client-a", "x-1")
