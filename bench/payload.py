"""The benchmark's message text, and reading it back cheaply from a byte stream.

Every message text looks like ``<<0007/s/00042/123.456789/xxxx…/0007>>``: sender number,
sample flag (``s`` sampled, ``n`` not), sequence number, the sender's `perf_counter()` at
the moment of writing, padding, and the sender number again. The same text travels inside
our JSON frames, our plain-text lines, the tutorial relay's raw lines and Redis' RESP, so
one reader serves every relay:

- deliveries are counted with `bytes.count(b"<<")` (C speed, no per-message Python work);
- latency is parsed only for sampled messages, found with `bytes.find(b"/s/")`;
- a delivery is whole when its line holds exactly one head and one tail naming the same
  sender; anything else carrying a head or a tail is a fragment spliced from two senders.
  That per-line check is too slow to run inline, so it runs after the timed phase over the
  bytes a few "audited" members kept.
"""

from __future__ import annotations

import re

HEAD = b"<<"
TAIL = b">>"
SAMPLE_FLAG = b"/s/"
#: Characters between the sample flag and the timestamp: the sequence number and a slash.
_SEQ_FIELD = 6
_WHOLE = re.compile(rb"<<(\d{4})/[sn]/\d{5}/\d+\.\d{6}/x*/(\d{4})>>")


def message_text(sender: int, seq: int, sampled: bool, timestamp: float, size: int) -> str:
    """The text of message `seq` from member `sender`, padded to `size` characters."""
    head = f"<<{sender:04d}/{'s' if sampled else 'n'}/{seq:05d}/{timestamp:.6f}/"
    tail = f"/{sender:04d}>>"
    return head + "x" * max(0, size - len(head) - len(tail)) + tail


def own_head(member: int) -> bytes:
    """The bytes that open every message `member` itself sent (to discount echoes)."""
    return b"<<%04d/" % member


def parse_samples(data: bytes, start: int, end: int, member: int, now: float, out: list[float]) -> None:
    """Append `now - sent` for every sampled message from another member in `data[start:end]`."""
    find = data.find
    pos = find(SAMPLE_FLAG, start, end)
    while pos >= 0:
        sender = data[pos - 4 : pos]
        stamp_start = pos + 3 + _SEQ_FIELD
        stamp_end = find(b"/", stamp_start, end)
        if stamp_end > stamp_start and pos - 4 >= start and sender.isdigit() and int(sender) != member:
            try:
                out.append(now - float(data[stamp_start:stamp_end]))
            except ValueError:
                pass  # a spliced fragment; the audit counts it
        pos = find(SAMPLE_FLAG, pos + 3, end)


def count_fragments(stream: bytes) -> tuple[int, int]:
    """(whole deliveries, spliced fragments) among the lines of `stream`."""
    whole = fragments = 0
    for line in stream.split(b"\n"):
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
