"""Filling bundles: the fast path of the UDP sender's fragmenting, apart from its rules.

A bundle is one fragment holding whole small messages joined by LF (`net.udp.sender`
states the rules). The straightforward way to fill one is to take queued messages one by
one while they fit; `take_bundle` gives exactly that result, faster, for the host's
fan-out, where every member's queue holds the same broadcasts:

- `Batch`: a run of small messages joined once, shared by every receiver's queue. A
  sender takes as many of its messages as fit with a binary search over their ends and a
  slice, instead of a step per message.
- `_Cut`: a bundle cut from a batch, remembered in the batch so the next queue holding
  the same items reuses it instead of cutting again.

`tests/udp/test_channel.py` proves the equivalence: a batch is cut into datagrams as full
as single messages queued one by one would make, every message arriving once and in
order; and senders sharing batches and reusing each other's cuts produce exactly the
fragments each would cut alone (seeded random runs with LFs, messages that need pieces,
windows of different sizes, members served in any order).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from itertools import accumulate, islice

from net.udp.wire import BUNDLE_PAYLOAD, FRAGMENT_PAYLOAD


class Batch:
    """Small messages joined by LF once, to be queued on many channels (the host's fan-out).

    Each sender takes from it as many messages as fit its next datagram, finding the cut
    with a binary search over the message ends and slicing the joined bytes: no work per
    member and message, and bundles as full as if the messages had been queued one by one.
    """

    __slots__ = ("cuts", "ends", "payload", "whole")

    def __init__(self, messages: list[bytes]) -> None:
        self.payload = b"\n".join(messages)
        #: Offset just past each message in `payload` (where its LF is, or the end).
        self.ends = [end - 1 for end in accumulate(len(message) + 1 for message in messages)]
        self.whole = len(messages)
        #: Bundles cut so far that start a datagram in this batch, by the index of their first
        #: message; see `_Cut`. The receivers of a round's broadcasts have mostly the same
        #: batches queued in the same order, so most of them reuse the cuts of the first.
        self.cuts: dict[int, _Cut] = {}


class _Cut:
    """A bundle cut from the front of a queue, for other queues that hold the same items.

    `items` are the queue items after the first that the cut looked at, in order (each taken
    whole, or partly, or the one that did not fit); the cut is valid for another queue
    whose front is the same batch, at the same message, followed by the same items (the same
    objects, or equal messages: the cut depends only on their bytes).
    """

    __slots__ = ("head_taken", "items", "payload", "popped", "total", "whole")

    def __init__(
        self, items: tuple[object, ...], popped: int, head_taken: int, payload: bytes, whole: int, total: int
    ) -> None:
        self.items = items
        self.popped = popped  # items taken off the queue
        self.head_taken = head_taken  # messages of the new front batch already cut
        self.payload = payload
        self.whole = whole
        self.total = total


def batch_messages(messages: list[bytes], *, single: bool = False) -> list[bytes | Batch]:
    """`messages` (none empty), with each run of two or more that can share bundles (at most
    FRAGMENT_PAYLOAD bytes, no LF) replaced by one `Batch`; with `single`, runs of one too
    (a message queued on many channels as a `Batch` lets them share cuts, see `Batch.cuts`)."""
    out: list[bytes | Batch] = []
    run: list[bytes] = []
    for message in messages:
        if len(message) <= FRAGMENT_PAYLOAD and b"\n" not in message:
            run.append(message)
            continue
        if run:
            out.append(Batch(run) if single or len(run) > 1 else run[0])
            run = []
        out.append(message)
    if run:
        out.append(Batch(run) if single or len(run) > 1 else run[0])
    return out


def take_bundle(unsent: deque[bytes | Batch], head_taken: int) -> tuple[bytes, int, int, int]:
    """Take one bundle's messages off the front of `unsent` (whose first item fits a bundle).

    `head_taken` counts the messages of the front `Batch` already taken. Returns the
    bundle's payload, how many whole messages it holds, their bytes, and the new
    `head_taken`. A bundle that starts in a batch is remembered there (`Batch.cuts`) for
    the next queue that holds the same items, as the other receivers of a broadcast do.
    """
    data = unsent[0]
    front = data if type(data) is Batch else None  # a batch at the front: remember the cut in it
    examined: list[bytes | Batch] | None = None
    first_taken = head_taken
    if front is not None:
        cut = front.cuts.get(head_taken)
        if cut is not None:
            items = cut.items  # mostly none (the bundle ends inside this batch) or one
            if not items or (
                len(unsent) > len(items)
                and (
                    unsent[1] is items[0]
                    if len(items) == 1
                    else tuple(islice(unsent, 1, len(items) + 1)) == items
                )
            ):
                popped = cut.popped  # mostly 0 or 1
                while popped:
                    unsent.popleft()
                    popped -= 1
                return cut.payload, cut.whole, cut.total, cut.head_taken
        examined = []  # the items after the first, for `Batch.cuts`
    parts: list[bytes] = []
    whole = total = popped = 0
    room = BUNDLE_PAYLOAD  # bytes left in the bundle
    separator = 0  # the LF before every part but the first
    stopped = False  # by an item that does not fit (not by the end of the queue)
    while unsent:
        item = unsent[0]
        if examined is not None and (popped or parts):
            examined.append(item)
        if isinstance(item, Batch):
            ends = item.ends
            taken = head_taken
            start = ends[taken - 1] + 1 if taken else 0
            last = bisect_right(ends, start + room - separator, taken) - 1
            if last < taken:
                stopped = True
                break
            end = ends[last]
            payload = item.payload
            parts.append(payload if start == 0 and end == len(payload) else payload[start:end])
            count = last - taken + 1
            whole += count
            total += end - start - count + 1
            room -= end - start + separator
            separator = 1
            if last + 1 < item.whole:
                head_taken = last + 1
                stopped = True
                break  # the next message of the batch does not fit
            head_taken = 0
            unsent.popleft()
            popped += 1
            continue
        size = len(item)
        if size + separator > room or (parts and b"\n" in item):
            stopped = True
            break
        parts.append(item)
        whole += 1
        total += size
        room -= size + separator
        separator = 1
        unsent.popleft()
        popped += 1
    payload = parts[0] if len(parts) == 1 else b"\n".join(parts)
    if front is not None and examined is not None and stopped:
        front.cuts[first_taken] = _Cut(tuple(examined), popped, head_taken, payload, whole, total)
    return payload, whole, total, head_taken
