"""Fast paths of the codec: the same frames as `net.protocol.codec`, made with less work.

Everything here is equivalent to the readable reference in `codec.py`, and exists only
because a busy host decodes and encodes chat messages by the hundred thousand:

- `decode_frame` gives what `codec.decode_frame` gives (event or `DecodeError`); a plain
  room message is read by one regular expression (`plain_say_from_frame`) or, once
  parsed, without the generic field walk (`plain_say`).
- `encode_event` gives the bytes `codec.encode_event` gives; messages and acks are
  written directly instead of through a dict and the schema.
- `encode_messages` / `encode_acks` give the frames of a run of messages (or of their
  acks) in one piece: `encode_event` of each, joined.

`tests/protocol/test_fast_paths.py` proves each equivalence with hypothesis (awkward
text, escapes, control characters, every limit) against the reference, so a change to
the protocol that misses this module fails there. Why each shortcut pays is in the commit
history and docs/ (benchmarks), not here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from net.protocol import codec
from net.protocol import events as ev
from net.protocol.codec import BAD_CHARS, BAD_CHARS_IN_TEXT, check_frame_size, json_number, json_string
from net.protocol.limits import MAX_FRAME_BYTES, MAX_ID_CHARS, MAX_TEXT_CHARS

# --- decoding ------------------------------------------------------------------------------


def plain_say(obj: dict[str, Any]) -> ev.Say | None:
    """The common room message in a parsed frame, validated without the generic field walk.

    Only the plainly valid case is taken here: anything unusual (a private message, a wrong
    type, a limit crossed) returns None and goes through the full checks, which also word
    the error. The result equals what the generic path builds.
    """
    message_id, text, action = obj.get("id"), obj.get("text"), obj.get("action", False)
    if (
        type(message_id) is str
        and type(text) is str
        and type(action) is bool
        and obj.get("to") is None
        and 0 < len(message_id) <= MAX_ID_CHARS
        and 0 < len(text) <= MAX_TEXT_CHARS
        and BAD_CHARS.search(message_id) is None
        and BAD_CHARS_IN_TEXT.search(text) is None
    ):
        return ev.build_say(message_id, text, None, action)
    return None


#: The exact frame our clients send for a room message, with strings holding no escape and
#: no raw control character: its fields can be taken without the JSON parser. Anything
#: else (escapes, other keys or order, spaces) goes through the parser.
_PLAIN_SAY_FRAME = re.compile(
    rb'\{"type":"say","id":"([^"\\\x00-\x1f]{1,%d})","text":"([^"\\\x00-\x1f]+)"\}' % MAX_ID_CHARS
)


def plain_say_from_frame(frame: bytes) -> ev.Say | None:
    """The room message in `frame` when it has the plain shape and is valid, else None.

    A frame that is not plainly valid (bad UTF-8, a forbidden character, too long) returns
    None and gets its error from the full path.
    """
    match = _PLAIN_SAY_FRAME.fullmatch(frame)
    if match is None:
        return None
    try:
        message_id = match[1].decode("utf-8")
        text = match[2].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) > MAX_TEXT_CHARS:
        return None
    # The expression kept out C0 controls and strict UTF-8 has no surrogates: what the
    # character checks can still find is DEL (0x7F) or a C1 control (0xC2 0x80-0x9F), so
    # they only run when one of those bytes occurs at all (looking for an int byte is a
    # memchr; looking for a one-byte string is much slower).
    if (0x7F in frame or 0xC2 in frame) and (
        BAD_CHARS.search(message_id) is not None or BAD_CHARS_IN_TEXT.search(text) is not None
    ):
        return None
    return ev.build_say(message_id, text, None, False)


def decode_frame(frame: bytes, *, from_host: bool) -> ev.Event:
    """What `codec.decode_frame` gives for `frame`, taking the shortcuts for a plain say."""
    if from_host:
        return codec.decode_frame(frame, from_host=True)
    if (say := plain_say_from_frame(frame)) is not None:
        return say
    obj = codec.parse_frame(frame)
    if obj.get("type") == "say" and (say := plain_say(obj)) is not None:
        return say
    return codec.event_from_object(obj, from_host=False)


# --- encoding ------------------------------------------------------------------------------


class _LastTime:
    """The text of the last time encoded: a message and its ack carry the same float object,
    and a busy host would otherwise format it twice per message. One tuple holds the pair,
    so threads encoding at once can only miss the cache, never get another time's text."""

    last: tuple[object, str] = (None, "")

    @classmethod
    def of(cls, value: float) -> str:
        last = cls.last
        if last[0] is value:
            return last[1]
        text = json_number(value)
        cls.last = (value, text)
        return text


def message_frame(message: ev.ChatMessage) -> str:
    """The frame of one chat message, newline included."""
    parts = [
        '{"type":"message","id":',
        json_string(message.id),
        ',"from":',
        json_string(message.sender),
        ',"text":',
        json_string(message.text),
        ',"time":',
        _LastTime.of(message.time),
    ]
    if message.to is not None:
        parts += (',"to":', json_string(message.to))
    if message.action:
        parts.append(',"action":true')
    parts.append("}\n")
    return "".join(parts)


def ack_frame(ack: ev.Ack) -> str:
    """The frame of one ack, newline included."""
    return (
        f'{{"type":"ack","id":{json_string(ack.id)},"msg_id":{json_string(ack.msg_id)},'
        f'"time":{_LastTime.of(ack.time)}}}\n'
    )


_DIRECT_WRITERS: dict[type, Callable[[Any], str]] = {ev.ChatMessage: message_frame, ev.Ack: ack_frame}


def encode_event(event: ev.Event) -> bytes:
    """What `codec.encode_event` gives, written directly for messages and acks."""
    writer = _DIRECT_WRITERS.get(type(event))
    if writer is None:
        return codec.encode_event(event)
    data = writer(event).encode("utf-8")
    check_frame_size(event.TYPE, len(data) - 1)
    return data


def encode_messages(messages: list[ev.ChatMessage]) -> bytes:
    """The frames of `messages` in one piece (`encode_event` of each, joined), with one
    encode for the run instead of one per message. A host relays messages in runs
    (`Room.handle_says`)."""
    frames: list[str] = []
    sender: str | None = None
    when: float | None = None
    from_text = time_text = ""
    for message in messages:
        if message.to is not None or message.action:
            frames.append(message_frame(message))
            continue
        # A run comes from one sender at one time: each is written once for the run. The
        # frame is spelt out here rather than made by `message_frame` per message (a call
        # per message is measurable on the router; the equivalence test keeps them equal).
        if message.sender is not sender:
            sender = message.sender
            from_text = json_string(sender)
        if message.time is not when:
            when = message.time
            time_text = _LastTime.of(when)
        frames.append(
            f'{{"type":"message","id":{json_string(message.id)},"from":{from_text},'
            f'"text":{json_string(message.text)},"time":{time_text}}}\n'
        )
    return _joined(frames, ev.ChatMessage.TYPE)


def encode_acks(acked: list[str], messages: list[ev.ChatMessage]) -> bytes:
    """The ack frames of `messages`, relayed for the says with the ids `acked`, in one piece
    (`encode_event` of each `Ack`, joined)."""
    frames: list[str] = []
    when: float | None = None
    time_text = ""
    for own_id, message in zip(acked, messages, strict=True):
        if message.time is not when:  # a run's messages share one time: written once for the run
            when = message.time
            time_text = _LastTime.of(when)
        frames.append(
            f'{{"type":"ack","id":{json_string(own_id)},"msg_id":{json_string(message.id)},"time":{time_text}}}\n'
        )
    return _joined(frames, ev.Ack.TYPE)


def _joined(frames: list[str], kind: str) -> bytes:
    """`frames` (each newline-terminated) encoded in one piece; raises as `encode_event` does
    when one of them is over the frame limit."""
    data = "".join(frames).encode("utf-8")
    if len(data) > MAX_FRAME_BYTES + 1:  # some frame may be too large: find it
        for frame in frames:
            check_frame_size(kind, len(frame.encode("utf-8")) - 1)
    return data
