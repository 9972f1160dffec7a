"""How a benchmark member speaks to each relay: greeting, "joined" test, message framing.

Four dialects share one load generator:

- `native`: our JSON protocol (hello, wait for welcome, then ``say`` frames; pings answered);
- `text`: our plain-text mode, as `nc` would speak it (first line the nickname, then lines);
- `plain`: the tutorial relay, which only copies bytes (no greeting at all);
- `redis`: Redis pub/sub, one SUBSCRIBE connection and one PUBLISH connection per member
  (a subscribed RESP2 connection may not publish), RESP written by hand.
"""

from __future__ import annotations

import json

from net.protocol.limits import PROTOCOL_VERSION

CHANNEL = b"room"


class Dialect:
    """Base: a dialect that needs no greeting and frames a message as one line."""

    name = "plain"
    #: Redis needs a second connection to publish on.
    separate_publisher = False
    #: The relay only relays bytes, so the generator must check that everyone is in the room.
    needs_sync_probe = True
    #: Substring of a reply that means the relay refused or reported an error.
    error_marker: bytes | None = None
    #: Our protocol pings idle members; they must answer or be dropped.
    answers_pings = False
    #: The relay sends a member its own messages back (Redis pub/sub does; the others must
    #: not, and the smoke tests check it through the "extra" count).
    echoes_own = False

    def greeting(self, member: int) -> bytes:
        return b""

    def is_joined(self, received: bytes) -> bool:
        return True

    def refusal(self, received: bytes) -> str | None:
        return None

    def frame(self, seq: int, text: str) -> bytes:
        return text.encode("ascii") + b"\n"

    def replies_to(self, data: bytes) -> bytes:
        """What to write back for control frames in `data` (pings), usually nothing."""
        return b""


def nickname(member: int) -> str:
    return f"bench{member:04d}"


class NativeDialect(Dialect):
    name = "native"
    needs_sync_probe = False
    error_marker = b'"type":"error"'
    answers_pings = True

    def greeting(self, member: int) -> bytes:
        hello = {
            "type": "hello",
            "version": PROTOCOL_VERSION,
            "nick": nickname(member),
            "client_id": f"bench-{member:06d}",
        }
        return json.dumps(hello, separators=(",", ":")).encode() + b"\n"

    def is_joined(self, received: bytes) -> bool:
        return b'"type":"welcome"' in received

    def refusal(self, received: bytes) -> str | None:
        start = received.find(b'{"type":"refuse"')
        if start < 0:
            return None
        return received[start : received.find(b"\n", start)].decode("utf-8", "replace")

    def frame(self, seq: int, text: str) -> bytes:
        return b'{"type":"say","id":"m%d","text":"%s"}\n' % (seq, text.encode("ascii"))

    def replies_to(self, data: bytes) -> bytes:
        if b'"type":"ping"' not in data:
            return b""
        pongs = []
        for line in data.split(b"\n"):
            if b'"type":"ping"' in line and line.startswith(b"{"):
                token = json.loads(line).get("token")
                pong = {"type": "pong"} if token is None else {"type": "pong", "token": token}
                pongs.append(json.dumps(pong, separators=(",", ":")).encode() + b"\n")
        return b"".join(pongs)


class TextDialect(Dialect):
    name = "text"
    needs_sync_probe = False
    error_marker = b"Error: "

    def greeting(self, member: int) -> bytes:
        return nickname(member).encode() + b"\n"

    def is_joined(self, received: bytes) -> bool:
        return b"Welcome" in received

    def refusal(self, received: bytes) -> str | None:
        start = received.find(b"Cannot join")
        return None if start < 0 else received[start:].split(b"\n")[0].decode("utf-8", "replace")


def _resp(*parts: bytes) -> bytes:
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in parts)


class RedisDialect(Dialect):
    name = "redis"
    separate_publisher = True
    echoes_own = True
    needs_sync_probe = False
    error_marker = b"\r\n-ERR"

    def greeting(self, member: int) -> bytes:
        return _resp(b"SUBSCRIBE", CHANNEL)

    def is_joined(self, received: bytes) -> bool:
        return b"subscribe" in received

    def frame(self, seq: int, text: str) -> bytes:
        return _resp(b"PUBLISH", CHANNEL, text.encode("ascii"))


DIALECTS: dict[str, Dialect] = {
    dialect.name: dialect for dialect in (NativeDialect(), TextDialect(), Dialect(), RedisDialect())
}
