"""The receiving half of a channel: duplicate suppression, ordering and reassembly, bounded.

Fragments carry per-channel sequence numbers; the fragments of one message are
consecutive. The receiver hands out messages in sequence order, exactly once:

* a fragment below `next_seq` was delivered already: a duplicate (only counted and acked);
* a fragment at or beyond `next_seq + window` is dropped unread (the sender must not send
  it yet; if it does anyway it resends it later);
* anything in between is kept until the gap before it is filled.

So duplicate tracking costs one integer, and reassembly memory is bounded by the window
(fragments waiting behind a gap) plus one partly assembled message, whatever a peer
sends: a sender that sends only first fragments fills at most the window.
"""

from __future__ import annotations

from collections import deque

from net.udp.wire import BUNDLE_PAYLOAD, FRAGMENT_PAYLOAD, MAX_SACK_BYTES, SEQ_MODULO, unwrap

#: The selective-ack bitmap covers this many fragments after the cumulative ack.
MAX_WINDOW = 8 * MAX_SACK_BYTES
_SEQ_MASK = SEQ_MODULO - 1


class ReceiveError(Exception):
    """The peer sent fragments that cannot be part of one valid stream (fatal for the channel)."""


class Receiver:
    """In-order, exactly-once reassembly of the messages one peer sends on one channel."""

    __slots__ = (
        "_buffer",
        "_buffered_bytes",
        "_max_fragments",
        "_partial",
        "_partial_bytes",
        "_partial_count",
        "_ready",
        "_sack_cache",
        "duplicates",
        "max_message_bytes",
        "messages",
        "next_seq",
        "out_of_window",
        "window",
    )

    def __init__(self, *, window: int, max_message_bytes: int) -> None:
        self.next_seq = 0
        self._buffer: dict[int, tuple[int, int, bytes]] = {}  # seq -> (index, count, payload)
        self._buffered_bytes = 0
        self._partial: list[bytes] = []
        self._partial_count = 0
        self._partial_bytes = 0
        # Complete messages in order, as chunks: (bytes, bundled). A bundle's chunk is its
        # payload as received, several messages joined by LF: it is split only if a caller
        # asks for single messages (`take_stream` hands it on whole, with no per-message work).
        self._ready: deque[tuple[bytes, bool]] = deque()
        self._sack_cache: bytes | None = b""
        self.duplicates = 0
        self.out_of_window = 0
        self.messages = 0
        self.window = 1
        self.max_message_bytes = 1
        self._max_fragments = 1
        self.set_limits(window=window, max_message_bytes=max_message_bytes)

    def set_limits(self, *, window: int, max_message_bytes: int) -> None:
        """Change the window (fragments) and largest message (bytes), e.g. once a peer has joined.

        Shrinking only affects fragments that arrive later; fragments already held stay.
        """
        self.window = max(1, min(MAX_WINDOW, window))
        self.max_message_bytes = max(1, max_message_bytes)
        self._max_fragments = -(-self.max_message_bytes // FRAGMENT_PAYLOAD)

    @property
    def buffered_bytes(self) -> int:
        """Payload bytes held for reassembly (out-of-order fragments + the partial message)."""
        return self._buffered_bytes + self._partial_bytes

    @property
    def memory_bound(self) -> int:
        """The most `buffered_bytes` can ever reach with the current limits."""
        return (self.window - 1) * BUNDLE_PAYLOAD + self.max_message_bytes

    def accept(self, seq_wire: int, index: int, count: int, payload: bytes) -> bool:
        """Take one fragment; True when it was new. Raises ReceiveError for impossible fragments."""
        next_seq = self.next_seq
        seq = next_seq if seq_wire == next_seq & _SEQ_MASK else unwrap(seq_wire, next_seq)  # in order: most
        if seq == next_seq and count == 0 and not self._buffer:
            self._unbundle(payload)  # the common case: the next bundle, nothing held behind a gap
            self.next_seq = next_seq + 1
            return True
        if seq < next_seq:
            self.duplicates += 1
            return False
        if seq >= self.next_seq + self.window:
            self.out_of_window += 1
            return False
        if count > self._max_fragments:
            raise ReceiveError(f"a message of {count} fragments exceeds the limit of {self._max_fragments}")
        if seq in self._buffer:
            self.duplicates += 1
            return False
        if seq != self.next_seq:
            self._buffer[seq] = (index, count, payload)
            self._buffered_bytes += len(payload)
            self._sack_cache = None
            return True
        self._append(index, count, payload)
        while (item := self._buffer.pop(self.next_seq, None)) is not None:
            self._buffered_bytes -= len(item[2])
            self._append(*item)
        self._sack_cache = None if self._buffer else b""
        return True

    def _append(self, index: int, count: int, payload: bytes) -> None:
        """Add the fragment at `next_seq` to the message being assembled."""
        if count == 0:
            self._unbundle(payload)
            self.next_seq += 1
            return
        if self._partial_count == 0:
            if index != 0:
                raise ReceiveError("a message does not start with its first fragment")
            self._partial_count = count
        elif index != len(self._partial) or count != self._partial_count:
            raise ReceiveError("fragments of one message disagree about their position or count")
        if self._partial_bytes + len(payload) > self.max_message_bytes:
            raise ReceiveError(f"a message exceeds {self.max_message_bytes} bytes")
        self._partial.append(payload)
        self._partial_bytes += len(payload)
        self.next_seq += 1
        if len(self._partial) == self._partial_count:
            self._ready.append((b"".join(self._partial), False))
            self.messages += 1
            self._partial = []
            self._partial_count = 0
            self._partial_bytes = 0

    def _unbundle(self, payload: bytes) -> None:
        """Deliver the whole messages of a bundle (LF-separated) without looking at each one.

        Senders never bundle an empty message; one that arrives anyway (two LFs in a row, or
        one at either end) carries nothing and is skipped: it is a blank line in the stream,
        which line decoders skip, and `take_messages` drops it. Not searching for it saves
        a two-byte search over every bundle.
        """
        if self._partial_count:
            raise ReceiveError("a bundle inside a fragmented message")
        if not payload or payload[-1] == 10:  # ends with an LF (as an int: twice as fast as endswith)
            payload = payload.rstrip(b"\n")  # padding (see net.udp.burst)
            if not payload:
                return
        if (
            len(payload) > self.max_message_bytes
            and max(map(len, payload.split(b"\n"))) > self.max_message_bytes
        ):
            raise ReceiveError(f"a message exceeds {self.max_message_bytes} bytes")
        self._ready.append((payload, True))
        self.messages += payload.count(b"\n") + 1

    def take_messages(self) -> list[bytes]:
        """Complete messages in order, each exactly once."""
        messages: list[bytes] = []
        for chunk, bundled in self._ready:
            if bundled:
                messages.extend(message for message in chunk.split(b"\n") if message)
            else:
                messages.append(chunk)
        self._ready.clear()
        return messages

    def take_stream(self) -> bytes:
        """Complete messages in order, each exactly once, each followed by LF, as one byte string.

        The same bytes as joining `take_messages()` with LF terminators, without splitting
        bundles (for receivers that feed a line decoder or count lines anyway).
        """
        ready = self._ready
        if not ready:
            return b""
        chunks = [chunk for chunk, _ in ready]
        chunks.append(b"")  # the last message's LF, in the same join (no second copy of the stream)
        ready.clear()
        return b"\n".join(chunks)

    def sack(self) -> bytes:
        """Bitmap of held fragments after `next_seq`: bit i (LSB first) is next_seq + 1 + i."""
        if self._sack_cache is None:
            bits = 0
            base = self.next_seq + 1
            for seq in self._buffer:
                offset = seq - base
                if offset < MAX_WINDOW:
                    bits |= 1 << offset
            self._sack_cache = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
        return self._sack_cache
