"""What LanChat hosts put on a NATS JetStream backbone, and how they read it back.

Pure (no I/O): names, and the two kinds of payload. A room's messages are its
`ChatMessage` frames, exactly as members receive them, in one JetStream stream per room;
each is published with the LanChat message id as `Nats-Msg-Id`, so JetStream keeps a
message published twice (a retry after a timeout, a member's resend to another host) once.
A host's member list is a presence snapshot on a plain NATS subject (not kept: a snapshot
is worth only its newest copy). A private message for a member of another host is a NATS
request on that host's private subject (not kept either), answered once it was handed to
the member (`DELIVERED`) or not (`NOT_HERE`). Everything read back is checked like any network input
(`net.protocol.codec`): another host, or anyone who can publish on the cluster, may be wrong.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from net.protocol import ProtocolError
from net.protocol import events as ev
from net.protocol.codec import decode_frame, encode_event, event_to_object


class BadPayload(ValueError):
    """What came from the backbone is not what a LanChat host publishes (the text says why)."""


def _decoded(frame: bytes) -> ev.Event:
    try:
        return decode_frame(frame, from_host=True)
    except ProtocolError as exc:
        raise BadPayload(str(exc)) from None


#: Presence snapshots larger than this are ignored (a room of a few thousand members fits).
MAX_PRESENCE_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class RoomNames:
    """The NATS names of one room: the stream, its subject, the presence subject and the
    prefix of each host's private subject (`private_subject`)."""

    stream: str
    subject: str
    presence: str
    private: str

    @classmethod
    def of(cls, room: str) -> RoomNames:
        """Names made from a hash of the room's name: NATS names allow only a few
        characters, and a room name may be any text."""
        digest = hashlib.sha256(room.encode("utf-8")).hexdigest()[:20]
        base = f"lanchat.{digest}"
        return cls(f"LANCHAT_{digest}", f"{base}.messages", f"{base}.presence", f"{base}.private")

    def private_subject(self, host_id: str) -> str:
        """Where host `host_id` takes private messages for its members."""
        return f"{self.private}.{consumer_name(host_id)}"


def consumer_name(host_id: str) -> str:
    """The durable consumer of one host (stable across its restarts: it resumes there)."""
    return "host_" + hashlib.sha256(host_id.encode("utf-8")).hexdigest()[:20]


def message_payload(message: ev.ChatMessage) -> bytes:
    return encode_event(message)


def read_message(payload: bytes) -> ev.ChatMessage:
    """A room message from the stream; raises BadPayload for anything else."""
    event = _decoded(payload.rstrip(b"\n"))
    if type(event) is not ev.ChatMessage or event.to is not None:
        raise BadPayload("not a room message")
    return event


#: The answers to a private message's request.
DELIVERED, NOT_HERE = b"delivered", b"not here"


def read_private(payload: bytes) -> ev.ChatMessage:
    """A private message from another host; raises BadPayload for anything else."""
    event = _decoded(payload.rstrip(b"\n"))
    if type(event) is not ev.ChatMessage or event.to is None:
        raise BadPayload("not a private message")
    return event


@dataclass(frozen=True, slots=True)
class Presence:
    """One host's announcement: where it accepts members and who is there. A host that
    stops sends one with no address and no members (`gone`)."""

    host_id: str
    address: str
    members: tuple[ev.MemberInfo, ...]
    #: Each member's `net.room.remote.member_tag`, in order (empty from a host that sends none).
    tags: tuple[str, ...] = ()

    @property
    def gone(self) -> bool:
        return not self.address and not self.members


def presence_payload(presence: Presence) -> bytes:
    members = event_to_object(ev.Members(members=presence.members))["members"] if presence.members else []
    obj = {
        "v": 1,
        "host": presence.host_id,
        "address": presence.address,
        "members": members,
        "tags": list(presence.tags),
    }
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_presence(payload: bytes) -> Presence:
    """A host's announcement; raises BadPayload when it is not a valid one."""
    if len(payload) > MAX_PRESENCE_BYTES:
        raise BadPayload("presence too large")
    try:
        obj: Any = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"presence is not JSON: {exc}") from None
    if not isinstance(obj, dict) or obj.get("v") != 1:
        raise BadPayload("not a presence announcement")
    host, address, members = obj.get("host"), obj.get("address"), obj.get("members")
    tags = obj.get("tags", [])
    if not isinstance(host, str) or not 0 < len(host) <= 200:
        raise BadPayload("bad host id in presence")
    if not isinstance(address, str) or len(address) > 300:
        raise BadPayload("bad host or address in presence")
    frame = json.dumps({"type": "members", "members": members}).encode("utf-8")
    listed = _decoded(frame)  # each member checked like a host's list
    assert isinstance(listed, ev.Members)
    if not isinstance(tags, list) or (tags and len(tags) != len(listed.members)):  # none: an older host
        raise BadPayload("bad member tags in presence")
    if not all(isinstance(tag, str) and len(tag) <= 64 for tag in tags):
        raise BadPayload("bad member tag in presence")
    return Presence(host, address, listed.members, tuple(tags))
