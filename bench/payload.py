"""The benchmark's message text, and reading it back cheaply from a byte stream.

Every message text looks like ```0007/^/00042/123.456789/xxxx…/0007|``: sender number,
sample flag (``^`` sampled, ``-`` not), sequence number, the sender's `perf_counter()` at
the moment of writing, padding, and the sender number again. The same text travels inside
our JSON frames, our plain-text lines, the tutorial relay's raw lines and Redis' RESP, so
one reader serves every relay. The marks are single bytes that occur nowhere else in any
relay's stream, because the generator must never be the bottleneck and single bytes are
what CPython searches fastest (a two-byte pattern cost about 1 ns per received byte, a
single byte about 0.35 ns to count and 0.01 ns to find with `memchr`):

- deliveries are counted with ``bytes.count(b"`")`` (C speed, no per-message Python work);
- latency is parsed only for sampled messages, found with `bytes.find(b"^")`;
- a delivery is whole when its line holds exactly one head and one tail naming the same
  sender; anything else carrying a head or a tail is a fragment spliced from two senders.
  That per-line check is too slow to run inline, so it runs after the timed phase over the
  bytes a few "audited" members kept.
"""

from __future__ import annotations

import re

from net.protocol.textmode import CONTINUATION

HEAD = b"`"
TAIL = b"|"
SAMPLE_MARK = b"^"
_SAMPLED, _NOT_SAMPLED = "^", "-"
#: Bytes from the sample mark to the timestamp: the mark, a slash, the sequence number, a slash.
_MARK_TO_STAMP = 8
_WHOLE = re.compile(rb"`(\d{4})/[-^]/\d{5}/\d+\.\d{6}/x*/(\d{4})\|")
#: Our plain-text dialect wraps a line wider than 79 columns into rows that start with this
#: (a message text without spaces is cut, nothing dropped): the audit joins them again.
_CONTINUATION_ROW = b"\n" + CONTINUATION.encode()


def message_text(sender: int, seq: int, sampled: bool, timestamp: float, size: int) -> str:
    """The text of message `seq` from member `sender`, padded to `size` characters."""
    head = f"`{sender:04d}/{_SAMPLED if sampled else _NOT_SAMPLED}/{seq:05d}/{timestamp:.6f}/"
    tail = f"/{sender:04d}|"
    return head + "x" * max(0, size - len(head) - len(tail)) + tail


def read_text(text: str) -> tuple[int, int, float | None] | None:
    """(sender, sequence number, send time if sampled) of a whole message text, else None."""
    match = _WHOLE.fullmatch(text.encode("ascii", "replace"))
    if match is None or match.group(1) != match.group(2):
        return None
    sender, flag, seq, stamp = text[1:].split("/", 4)[:4]
    return int(sender), int(seq), float(stamp) if flag == _SAMPLED else None


def parse_samples(data: bytes, start: int, end: int, member: int, now: float, out: list[float]) -> None:
    """Append `now - sent` for every sampled message from another member in `data[start:end]`."""
    find = data.find
    pos = find(SAMPLE_MARK, start, end)
    while pos >= 0:
        sender = data[pos - 5 : pos - 1]
        stamp_start = pos + _MARK_TO_STAMP
        stamp_end = find(b"/", stamp_start, end)
        if (
            stamp_end > stamp_start
            and pos - 6 >= start
            and data[pos - 6 : pos - 5] == HEAD
            and sender.isdigit()
            and int(sender) != member
        ):
            try:
                out.append(now - float(data[stamp_start:stamp_end]))
            except ValueError:
                pass  # a spliced fragment; the audit counts it
        pos = find(SAMPLE_MARK, pos + 1, end)


#: A line holding one whole message text and no other head or tail (the sender named twice).
_WHOLE_LINE = re.compile(rb"(?m)^[^`|\n]*`(\d{4})/[-^]/\d{5}/\d+\.\d{6}/x*/\1\|[^`|\n]*$")


def count_fragments(stream: bytes) -> tuple[int, int]:
    """(whole deliveries, spliced fragments) among the lines of `stream`.

    When every head and every tail in the stream belongs to a whole line (the usual case:
    as many whole lines as heads and as tails), one regular-expression pass over the
    stream says so; otherwise each line is examined.
    """
    whole = len(_WHOLE_LINE.findall(stream))
    if whole == stream.count(HEAD) == stream.count(TAIL):
        return whole, 0
    whole = fragments = 0
    for line in stream.replace(_CONTINUATION_ROW, b"").split(b"\n"):
        heads = line.count(HEAD)
        tails = line.count(TAIL)
        if not heads and not tails:
            continue
        match = _WHOLE.search(line) if heads == 1 and tails == 1 else None
        if match is not None and match.group(1) == match.group(2):
            whole += 1
        else:
            fragments += 1
    return whole, fragments
