"""The connection state machine: which event is legal when, on either side.

A `Connection` is one end of one link, h11 style: `receive_data()` feeds it what the
socket read (``b""`` for end of stream), `next_event()` returns events one at a time (or
`NEED_DATA`), and `send()` turns an event into the bytes to write. All legal moves sit in
one table; anything else raises `LocalProtocolError` (we misused the API) or
`RemoteProtocolError` (the peer broke the protocol).
"""

from __future__ import annotations

import enum
from collections import deque
from typing import Final

from net.protocol import events as ev
from net.protocol.errors import DecodeError, LocalProtocolError, ProtocolError, RemoteProtocolError
from net.protocol.fastcodec import decode_frame, encode_event, plain_say_from_frame
from net.protocol.framing import LineFramer
from net.protocol.limits import MAX_FRAME_BYTES


class Role(enum.Enum):
    HOST = "host"
    CLIENT = "client"


class ConnectionState(enum.Enum):
    HANDSHAKE = "handshake"
    OPEN = "open"
    CLOSED = "closed"


class NeedData:
    """Sentinel type: no complete event is buffered yet."""

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData()


class ConnectionClosed(ev.Event):
    """Pseudo-event (never on the wire): the peer's byte stream ended."""

    TYPE = "<closed>"

    def __repr__(self) -> str:
        return "ConnectionClosed()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConnectionClosed)

    def __hash__(self) -> int:
        return hash(ConnectionClosed)


_H, _O, _C = ConnectionState.HANDSHAKE, ConnectionState.OPEN, ConnectionState.CLOSED
_ALWAYS = (ev.Ping, ev.Pong)

#: (role of the sender, state) -> {event type: state after it}. Bye always closes.
_TRANSITIONS: dict[tuple[Role, ConnectionState], dict[type, ConnectionState]] = {
    (Role.CLIENT, _H): {ev.Hello: _H, ev.Bye: _C, **{t: _H for t in _ALWAYS}},
    (Role.HOST, _H): {
        ev.Welcome: _O,
        ev.Refuse: _C,
        ev.Error: _H,
        ev.Bye: _C,
        ev.Successors: _H,  # the answer to a `look` hello (a host that came back), then a bye
        **{t: _H for t in _ALWAYS},
    },
    (Role.CLIENT, _O): {
        **{t: _O for t in (ev.Say, ev.Rename, ev.Typing, ev.Who, ev.Got, ev.FileControl, *_ALWAYS)},
        ev.Bye: _C,
    },
    (Role.HOST, _O): {
        **{
            t: _O
            for t in (
                ev.ChatMessage,
                ev.Ack,
                ev.Held,
                ev.Mail,
                ev.Delivered,
                ev.Joined,
                ev.Left,
                ev.Renamed,
                ev.Members,
                ev.TypingNotice,
                ev.FileNotice,
                ev.Successors,
                ev.Handover,
                ev.Error,
                *_ALWAYS,
            )
        },
        ev.Bye: _C,
    },
}

#: The kind each side sends most, legal in the open state and leaving it open.
_BULK: dict[Role, type] = {Role.CLIENT: ev.Say, Role.HOST: ev.ChatMessage}
assert all(_TRANSITIONS[(role, _O)][kind] is _O for role, kind in _BULK.items())

#: Non-fatal errors tolerated from one peer before it is cut off.
MAX_REMOTE_ERRORS = 20


class Connection:
    """One end of a LanChat link. Not thread-safe: one owner feeds and drains it."""

    def __init__(self, role: Role, *, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self.role = role
        self.peer_role = Role.CLIENT if role is Role.HOST else Role.HOST
        self._bulk_kind = _BULK[self.peer_role]
        self._state = ConnectionState.HANDSHAKE
        self._framer = LineFramer(max_frame_bytes)
        self._frames: deque[bytes] = deque()
        self._eof = False
        self._hello_seen = False
        self._deferred_error: RemoteProtocolError | None = None
        self.remote_errors = 0

    @property
    def state(self) -> ConnectionState:
        return self._state

    # -- receiving ----------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the peer; ``b""`` means the stream ended.

        Raises `RemoteProtocolError` (fatal) when a frame exceeds the size cap.
        """
        if self._state is ConnectionState.CLOSED:
            return
        if not data:
            self._eof = True
            return
        try:
            self._frames.extend(self._framer.feed(data))
        except DecodeError as exc:
            self._state = ConnectionState.CLOSED
            self._frames.clear()
            raise RemoteProtocolError(exc.code, exc.text, fatal=True) from None

    def next_event(self) -> ev.Event | NeedData:
        """The next event from the peer, `NEED_DATA`, or `ConnectionClosed` at the end.

        Once the connection is closed (a bye or refusal either way, or a fatal error), frames
        still buffered are dropped: the peer said it is done, or we are.
        """
        if self._deferred_error is not None:
            error, self._deferred_error = self._deferred_error, None
            raise error
        if self._state is ConnectionState.CLOSED:
            self._frames.clear()
            return ConnectionClosed()
        if self._frames:
            return self._decode(self._frames.popleft())
        if self._eof:
            self._state = ConnectionState.CLOSED
            return ConnectionClosed()
        return NEED_DATA

    def events(self) -> list[ev.Event]:
        """Every event buffered now (stops before an error, which is raised on the next call).

        On a host, the plain room messages that open the buffer are taken in one loop (the
        same events `next_event` gives, without its steps per frame): a busy host reads
        dozens at a time from each connection."""
        out: list[ev.Event] = []
        frames = self._frames
        if self._bulk_kind is ev.Say and self._state is ConnectionState.OPEN and self._deferred_error is None:
            while frames and (say := plain_say_from_frame(frames[0])) is not None:
                frames.popleft()
                out.append(say)
        while True:
            try:
                event = self.next_event()
            except RemoteProtocolError as exc:
                if not out:
                    raise
                self._deferred_error = exc  # hand out the good events first
                return out
            if isinstance(event, NeedData):
                return out
            out.append(event)
            if isinstance(event, ConnectionClosed):
                return out

    def _decode(self, frame: bytes) -> ev.Event:
        from_host = self.peer_role is Role.HOST
        try:
            event = decode_frame(frame, from_host=from_host)
            # The bulk of the traffic (a say to the host, a message to a client) is legal when
            # open and keeps the state: skip the table (the same answer, found faster).
            if type(event) is not self._bulk_kind or self._state is not ConnectionState.OPEN:
                self._advance(self.peer_role, event, remote=True)
        except DecodeError as exc:
            self._remote_error(exc.code, exc.text)
        return event

    def _remote_error(self, code: str, text: str) -> None:
        self.remote_errors += 1
        fatal = self._state is ConnectionState.HANDSHAKE or self.remote_errors > MAX_REMOTE_ERRORS
        if fatal:
            self._state = ConnectionState.CLOSED
            self._frames.clear()
        raise RemoteProtocolError(code, text, fatal=fatal)

    # -- sending ------------------------------------------------------------------------

    def send(self, event: ev.Event) -> bytes:
        """The bytes that put `event` on the wire; advances the state.

        Encodes first, so an event too large for a frame leaves the state unchanged.
        """
        data = encode_event(event)
        self._advance(self.role, event, remote=False)
        return data

    def send_error(self, error: ProtocolError | ev.Error) -> bytes:
        """An error frame, allowed in every state and leaving it as it is: also once closed,
        so a peer cut off for a fatal error is told why before the connection ends."""
        event = error.to_event() if isinstance(error, ProtocolError) else error
        return encode_event(event)

    # -- state --------------------------------------------------------------------------

    def _advance(self, sender: Role, event: ev.Event, *, remote: bool) -> None:
        allowed = _TRANSITIONS.get((sender, self._state), {})
        next_state = allowed.get(type(event))
        if next_state is None or (isinstance(event, ev.Hello) and self._hello_seen):
            text = f"{event.TYPE!r} is not allowed from the {sender.value} in state {self._state.value}"
            if remote:
                raise DecodeError("not_allowed", text)
            raise LocalProtocolError("not_allowed", text)
        if isinstance(event, ev.Hello):
            self._hello_seen = True
        self._state = next_state
