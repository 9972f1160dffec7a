"""What a UDP sender keeps per sequence number: the fragment, and the large message it may
be a piece of (acknowledged once all its pieces are)."""

from __future__ import annotations


class LargeMessage:
    """A message cut into several fragments: acknowledged once all of them are."""

    __slots__ = ("cut", "number", "unacked")

    def __init__(self, number: int) -> None:
        self.number = number
        self.unacked = 0  # fragments cut from it and not acknowledged yet
        self.cut = False  # every byte has been cut into fragments


class Fragment:
    """One sequence number: a piece of a large message, one whole message, or a bundle.

    Plain slots and a positional constructor, no dataclass: the host makes one per member
    and datagram, so its construction cost counts.
    """

    __slots__ = ("count", "first", "first_sent", "index", "large", "payload", "sent_at", "seq", "size",
                 "transmissions", "whole")  # fmt: skip

    def __init__(
        self,
        seq: int,
        index: int,
        count: int,  # 0: a bundle of whole messages
        payload: bytes,
        first: int,  # number of the (first) message it carries
        whole: int,  # whole messages it carries (0: a piece of a large message)
        large: LargeMessage | None,  # the message it is a piece of
        size: int,  # message bytes it carries (the backlog it frees when acknowledged)
        sent_at: float,  # when it is first sent (it is made just before)
    ) -> None:
        self.seq = seq
        self.index = index
        self.count = count
        self.payload = payload
        self.first = first
        self.whole = whole
        self.large = large
        self.size = size
        self.first_sent = self.sent_at = sent_at
        self.transmissions = 1
