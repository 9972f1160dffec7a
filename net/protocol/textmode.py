"""Serving people who connect with `nc HOST PORT` or telnet: the plain-text dialect.

The host tells the two dialects apart by the first byte: a protocol client's first frame
is a JSON object (``{``), anything else is a person typing. For such a peer the first line
is the nickname and each further line a room message; a few slash commands work too. What
the room sends back is rendered as readable lines such as ``[12:04] alice: hello``.

`TextConnection` has the same surface as `Connection` (host role), so the transport does
not care which dialect a peer speaks.
"""

from __future__ import annotations

import functools
import itertools
import secrets
import time
from collections import deque

from net.protocol import events as ev
from net.protocol.codec import has_bad_chars
from net.protocol.connection import (
    NEED_DATA,
    ConnectionClosed,
    ConnectionState,
    NeedData,
)
from net.protocol.errors import DecodeError, RemoteProtocolError
from net.protocol.framing import LineFramer
from net.protocol.limits import MAX_FRAME_BYTES, MAX_TEXT_CHARS, PROTOCOL_VERSION

TEXT_HELP = (
    "Commands: /me ACTION, /msg NICK TEXT, /nick NEWNICK, /who, /quit. Anything else is sent to the room."
)


def looks_like_protocol(first_bytes: bytes) -> bool | None:
    """True for a JSON client, False for a person, None while only whitespace has arrived."""
    stripped = first_bytes.lstrip()
    if not stripped:
        return None
    return stripped.startswith(b"{")


@functools.lru_cache(maxsize=1)
def _clock_of_second(second: int) -> str:
    return time.strftime("%H:%M", time.localtime(second))


def _clock(timestamp: float) -> str:
    """ "HH:MM" of a time, formatted once per second at most: a busy host renders every
    message for its plain-text members, and `strftime` cost more than the rest of the line.
    (Keyed by the whole second, floored, which always lies within one local minute.)"""
    return _clock_of_second(int(timestamp // 1))


def render_event(event: ev.Event) -> str | None:
    """One or more readable lines for an event, or None for events a person needn't see."""
    match event:
        case ev.ChatMessage(sender=sender, text=text, time=when, to=to, action=action):
            prefix = f"[{_clock(when)}] " + ("(private) " if to else "")
            return prefix + (f"* {sender} {text}" if action else f"{sender}: {text}")
        case ev.Joined(nick=nick, time=when, plaintext=plaintext):
            return f"[{_clock(when)}] --> {nick} joined" + (" (unencrypted)" if plaintext else "")
        case ev.Left(nick=nick, time=when, reason=reason):
            return f"[{_clock(when)}] <-- {nick} left" + (f" ({reason})" if reason else "")
        case ev.Renamed(old=old, new=new, time=when):
            return f"[{_clock(when)}] *** {old} is now known as {new}"
        case ev.Members(members=members):
            return "Online: " + ", ".join(_member(m) for m in members)
        case ev.Welcome(nick=nick, room=room, members=members, history=history):
            lines = [f"Welcome to {room or 'LanChat'}, {nick}! {TEXT_HELP}"]
            lines.append("Online: " + ", ".join(_member(m) for m in members))
            lines.extend(render_event(message) or "" for message in history)
            return "\n".join(lines)
        case ev.Refuse(text=text):
            return f"Cannot join: {text}"
        case ev.Error(text=text):
            return f"Error: {text}"
        case ev.Bye(reason=reason):
            return "Goodbye" + (f" ({reason})" if reason else "")
    return None


def _member(member: ev.MemberInfo) -> str:
    return member.nick + (" (host)" if member.host else "") + (" (unencrypted)" if member.plaintext else "")


class TextConnection:
    """Host-side connection for a plain-text peer; same surface as `Connection`."""

    def __init__(self, *, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._framer = LineFramer(max_frame_bytes)
        self._lines: deque[bytes] = deque()
        self._state = ConnectionState.HANDSHAKE
        self._eof = False
        self._named = False
        self._message_numbers = itertools.count(1)
        # Unguessable: a hello naming another member's client id replaces that member.
        self.client_id = f"text-{secrets.token_hex(8)}"
        self.remote_errors = 0

    @property
    def state(self) -> ConnectionState:
        return self._state

    def receive_data(self, data: bytes) -> None:
        if not data:
            self._eof = True
            return
        try:
            self._lines.extend(self._framer.feed(data))
        except DecodeError as exc:
            self._state = ConnectionState.CLOSED
            raise RemoteProtocolError(exc.code, "line too long", fatal=True) from None

    def next_event(self) -> ev.Event | NeedData:
        while self._lines:
            event = self._parse(self._lines.popleft())
            if event is not None:
                return event
        if self._eof or self._state is ConnectionState.CLOSED:
            self._state = ConnectionState.CLOSED
            return ConnectionClosed()
        return NEED_DATA

    def events(self) -> list[ev.Event]:
        out: list[ev.Event] = []
        while not isinstance(event := self.next_event(), NeedData):
            out.append(event)
            if isinstance(event, ConnectionClosed):
                break
        return out

    def _parse(self, line: bytes) -> ev.Event | None:
        try:
            # Tabs become spaces: reasons and nicknames may not hold them on the wire.
            text = line.decode("utf-8").replace("\t", " ").strip()
        except UnicodeDecodeError:
            self.remote_errors += 1
            raise RemoteProtocolError("bad_utf8", "please send UTF-8 text", fatal=False) from None
        if not text:
            return None
        if has_bad_chars(text):
            # The same rule as the codec's: protocol clients would refuse what we relay.
            self.remote_errors += 1
            raise RemoteProtocolError("bad_field", "control characters are not allowed", fatal=False)
        if not self._named:
            self._named = True
            return ev.Hello(version=PROTOCOL_VERSION, nick=text[:96], client_id=self.client_id)
        return self._command(text[:MAX_TEXT_CHARS])

    def _command(self, text: str) -> ev.Event | None:
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        match word.lower():
            case "/quit":
                return ev.Bye(reason=rest or "quit")
            case "/nick" if rest:
                return ev.Rename(nick=rest)
            case "/who":
                return ev.Who()
            case "/me" if rest:
                return self._say(rest, action=True)
            case "/msg":
                target, _, message = rest.partition(" ")
                if target and message.strip():
                    return self._say(message.strip(), to=target)
        if word.startswith("/") and not word.startswith("//"):
            raise RemoteProtocolError("unknown_command", f"unknown command {word}. {TEXT_HELP}", fatal=False)
        return self._say(text[1:] if text.startswith("//") else text)

    def _say(self, text: str, *, to: str | None = None, action: bool = False) -> ev.Say:
        return ev.build_say(f"t{next(self._message_numbers)}", text, to, action)

    def send(self, event: ev.Event) -> bytes:
        """Readable lines for `event` (b"" when a person needn't see it); advances the state."""
        if type(event) is ev.Ack:
            return b""  # one per message said: a person sees their line in their terminal
        if isinstance(event, ev.Welcome):
            self._state = ConnectionState.OPEN
        elif isinstance(event, ev.Refuse | ev.Bye):
            self._state = ConnectionState.CLOSED
        rendered = render_event(event)
        return b"" if rendered is None else (rendered + "\n").encode("utf-8")

    def send_error(self, error: RemoteProtocolError | ev.Error) -> bytes:
        event = error.to_event() if isinstance(error, RemoteProtocolError) else error
        return self.send(event)
