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
import re
import secrets
import time
import unicodedata
from bisect import bisect_right
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
#: What a person who connected and has typed nothing for PROMPT_AFTER_SILENCE seconds is
#: shown: one line (the nickname is typed on the next), never sent to anyone who spoke.
NICKNAME_PROMPT = b"LanChat: type your nickname and press Enter to join.\n"
#: LanChat clients speak first, at once (a TLS ClientHello, or an old one's hello), so only
#: a person is silent this long after connecting. (A client that stalls as long anyway skips
#: the line: `net.client.greeting`.)
PROMPT_AFTER_SILENCE = 1.0


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


# --- what reaches a terminal -----------------------------------------------------------------
#
# Everything a member chose (texts, nicknames, reasons, the room name) is shown so that it
# cannot pass for a line of the host's or of another member: a message's later lines, and
# the rows a long line is wrapped into, start with CONTINUATION; rows fit an 80-column
# terminal, so the terminal never starts a row with text the sender placed there; and what
# a terminal would act on is shown as <U+XXXX> (the codec already refuses controls; this
# also covers the bidirectional formatting characters, which it lets through).

#: The start of every row of a message (or other line) after its first.
CONTINUATION = "        | "
#: The widest row sent, in terminal columns: an 80-column terminal never wraps one itself.
ROW_COLUMNS = 79
#: The bidirectional formatting characters: each can make a terminal show text in another
#: order than it was written (ALM, LRM, RLM, the embeddings and overrides, the isolates).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
#: Shown escaped in a single-line field: controls (C0, DEL, C1), the line and paragraph
#: separators, bidi controls and lone surrogates.
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}\ud800-\udfff]")
#: The same within a message's lines, where tab is kept (it cannot move back to column 0).
_UNSAFE_IN_TEXT = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}\ud800-\udfff]")
_CONTINUATION_COLUMNS = len(CONTINUATION)


def _escape(match: re.Match[str]) -> str:
    return f"<U+{ord(match[0]):04X}>"


def _shown(value: str) -> str:
    """`value` (a nickname, reason, room name...) as one line a terminal shows as it is."""
    return value if _UNSAFE.search(value) is None else _UNSAFE.sub(_escape, value)


class _Widths(dict[str, int]):
    """Columns a terminal may give a character, rounded up: a tab 8, wide and ambiguous
    characters 2, others 1 (combining marks too). Counting too many only wraps a little
    early. Looked up in C through `__getitem__`; filled on first use, bounded."""

    def __missing__(self, char: str) -> int:
        if len(self) > 4096:
            self.clear()
        columns = 8 if char == "\t" else 2 if unicodedata.east_asian_width(char) in "WFA" else 1
        self[char] = columns
        return columns


_column_of = _Widths().__getitem__


def _columns(text: str) -> int:
    if text.isascii() and "\t" not in text:
        return len(text)
    return sum(map(_column_of, text))


def _rows(first: str, text: str, rows: list[str]) -> None:
    """Append `first` + `text` to `rows`, wrapped into rows of at most ROW_COLUMNS columns,
    each after the first starting with CONTINUATION. A row breaks at its last space (which
    is dropped), or where it is full when it has none."""
    room = ROW_COLUMNS - _columns(first)
    if room < ROW_COLUMNS // 2:  # a header this wide (a long escaped nickname) wraps too
        first, text, room = "", first + text, ROW_COLUMNS
    if 2 * len(text) <= room:  # the usual case: it fits
        rows.append(first + text)
        return
    # ends[i]: the columns of text[: i + 1]; None when each character takes one column.
    ends = None if text.isascii() and "\t" not in text else list(itertools.accumulate(map(_column_of, text)))
    start = 0
    while True:
        # `over`: the first character that does not fit in the row starting at `start`.
        if ends is None:
            over = start + room
        else:
            over = bisect_right(ends, (ends[start - 1] if start else 0) + room, start)
        if over >= len(text):
            break
        space = text.rfind(" ", start + 1, over + 1)
        end, after = (space, space + 1) if space != -1 else (over, over)
        rows.append(first + text[start:end])
        first, room, start = CONTINUATION, ROW_COLUMNS - _CONTINUATION_COLUMNS, after
    if start < len(text):
        rows.append(first + text[start:])


def _lines(first: str, text: str) -> str:
    """`first` + `text` (a member's message, any number of lines) as rows for a terminal."""
    rows: list[str] = []
    if _UNSAFE_IN_TEXT.search(text) is None:
        _rows(first, text, rows)  # the usual case: one line, nothing to escape
    else:
        for index, line in enumerate(text.split("\n")):
            _rows(first if index == 0 else CONTINUATION, _UNSAFE_IN_TEXT.sub(_escape, line), rows)
    return "\n".join(rows)


def _line(text: str) -> str:
    """One line of the host's, holding fields already made safe, wrapped to fit."""
    return _lines("", text)


def _members(members: tuple[ev.MemberInfo, ...]) -> str:
    return _line("Online: " + ", ".join(_member(m) for m in members))


def _member(member: ev.MemberInfo) -> str:
    marks = (" (host)" if member.host else "") + (" (unencrypted)" if member.plaintext else "")
    return _shown(member.nick) + marks


#: What happened to someone who left, by the `left`'s cause (`ev.LeaveCause`).
_LEFT_WORDS: dict[str, str] = {
    ev.LeaveCause.LOST: "lost connection",
    ev.LeaveCause.TIMED_OUT: "timed out",
    ev.LeaveCause.REMOVED: "was removed by the host",
}


def _why_left(cause: str | None, reason: str) -> str:
    """ "left (their words)" after a goodbye (or from a host before causes), else what
    happened; the host's reason is added only to a removal (it says what for)."""
    words = _LEFT_WORDS.get(cause or "")
    if words is None or cause == ev.LeaveCause.REMOVED:
        words = words or "left"
        return words + (f" ({_shown(reason)})" if reason else "")
    return words


def render_event(event: ev.Event) -> str | None:
    """Readable rows for an event (see above), or None for events a person needn't see."""
    match event:
        case ev.ChatMessage(sender=sender, text=text, time=when, to=to, action=action):
            prefix = f"[{_clock(when)}] " + ("(private) " if to else "")
            sender = _shown(sender)
            return _lines(prefix + (f"* {sender} " if action else f"{sender}: "), text)
        case ev.Joined(nick=nick, time=when, plaintext=plaintext):
            mark = " (unencrypted)" if plaintext else ""
            return _line(f"[{_clock(when)}] --> {_shown(nick)} joined{mark}")
        case ev.Left(nick=nick, time=when, reason=reason, cause=cause):
            return _line(f"[{_clock(when)}] <-- {_shown(nick)} {_why_left(cause, reason)}")
        case ev.Renamed(old=old, new=new, time=when):
            return _line(f"[{_clock(when)}] *** {_shown(old)} is now known as {_shown(new)}")
        case ev.Members(members=members):
            return _members(members)
        case ev.Welcome(nick=nick, room=room, members=members, history=history):
            lines = [_line(f"Welcome to {_shown(room or 'LanChat')}, {_shown(nick)}!"), _line(TEXT_HELP)]
            lines.append(_members(members))
            lines.extend(render_event(message) or "" for message in history)
            return "\n".join(lines)
        case ev.Refuse(text=text):
            return _line(f"Cannot join: {_shown(text)}")
        case ev.Error(text=text):
            return _line(f"Error: {_shown(text)}")
        case ev.Bye(reason=reason):
            return _line("Goodbye" + (f" ({_shown(reason)})" if reason else ""))
    return None


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
