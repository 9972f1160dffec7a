"""Broadcasting a round of messages to every member with one copy per receiver, not per message.

A broadcast is appended once to a log shared by all receivers of its dialect (JSON frames,
or text lines for `nc` clients). Each receiver only remembers how far into the log it has
been served, plus the stretches it must skip (its own messages) and what it gets in their
place (their acks: spliced in where they belong when its share is copied, so an ack does
not force a copy of the sender's share per message). When the router writes out a round,
or before it queues something private for one receiver (a pong, an error, a bye), it
copies that receiver's share of the log into the receiver's outbound buffer: one or a few
slices, however many messages the round held. Appending each message to
each receiver separately costs a Python call per delivery; under load that was most of
the router's time.

Who receives a broadcast is decided when it is appended, so the receivers must follow
room membership: `add` when a member is welcomed, `remove` when it leaves (its share so
far is delivered first, so it never misses what was said before it left).
"""

from __future__ import annotations

from collections.abc import Iterator

from net.tcp.peer import Peer


class _Log:
    __slots__ = ("data", "skips")

    def __init__(self) -> None:
        self.data = bytearray()
        #: Per receiver: [start, stop, bytes given instead] of the stretches it skips.
        self.skips: dict[Peer, list[list]] = {}


class Fanout:
    """The receivers of broadcasts and what each still has to be given this round."""

    def __init__(self) -> None:
        self._frames = _Log()
        self._lines = _Log()
        self._positions: dict[Peer, int] = {}
        self._text_receivers = 0

    def __len__(self) -> int:
        return len(self._positions)

    def __contains__(self, peer: Peer) -> bool:
        return peer in self._positions

    def __iter__(self) -> Iterator[Peer]:
        return iter(list(self._positions))

    @property
    def wants_text(self) -> bool:
        """True when a plain-text receiver exists (only then are events rendered as text)."""
        return self._text_receivers > 0

    @property
    def round_bytes(self) -> int:
        """Bytes broadcast since the last `catch_up_all`."""
        return len(self._frames.data) + len(self._lines.data)

    def _log(self, peer: Peer) -> _Log:
        return self._lines if peer.is_text else self._frames

    def add(self, peer: Peer) -> None:
        """`peer` receives every broadcast from now on."""
        if peer in self._positions:
            return
        self._positions[peer] = len(self._log(peer).data)
        self._text_receivers += peer.is_text

    def remove(self, peer: Peer, *, deliver: bool = True) -> None:
        """Stop broadcasting to `peer`, after copying its share so far when `deliver`."""
        if peer not in self._positions:
            return
        if deliver:
            self.catch_up(peer)
        self._log(peer).skips.pop(peer, None)
        del self._positions[peer]
        self._text_receivers -= peer.is_text

    def broadcast(self, frame: bytes, line: bytes | None, exclude: object = None) -> None:
        """Append one event, as a JSON `frame` and as a text `line`, for every receiver but `exclude`."""
        self._append(
            self._frames, frame, exclude, exclude_here=exclude in self._positions and not exclude.is_text
        )
        if line:
            self._append(
                self._lines, line, exclude, exclude_here=exclude in self._positions and exclude.is_text
            )

    @staticmethod
    def _append(log: _Log, data: bytes, exclude: object, *, exclude_here: bool) -> None:
        start = len(log.data)
        log.data += data
        if exclude_here:
            skips = log.skips.setdefault(exclude, [])
            if skips and skips[-1][1] == start:
                skips[-1][1] = len(log.data)  # consecutive messages of one sender: one skip
            else:
                skips.append([start, len(log.data), b""])

    def reply(self, peer: Peer, data: bytes) -> bool:
        """Give `peer` alone `data` in place of the broadcast it was just left out of.

        Only right after a broadcast that excluded `peer` (a say and its ack), so the order
        is exactly that of queueing `data` after it. False when that is not the case; the
        caller then queues `data` itself.
        """
        if peer.is_text or peer not in self._positions:
            return False
        skips = self._frames.skips.get(peer)
        if not skips or skips[-1][1] != len(self._frames.data):
            return False
        skips[-1][2] += data
        return True

    def catch_up(self, peer: Peer) -> bool:
        """Copy `peer`'s unserved share of the round into its outbound buffer."""
        position = self._positions.get(peer)
        if position is None:
            return False
        log = self._log(peer)
        end = len(log.data)
        if position >= end and peer not in log.skips:
            return False
        outbound = peer.outbound
        before = len(outbound)
        with memoryview(log.data) as view:
            for start, stop, instead in log.skips.pop(peer, ()):
                if start > position:
                    outbound += view[position:start]
                outbound += instead
                position = stop
            if end > position:
                outbound += view[position:end]
        self._positions[peer] = end
        return len(outbound) > before

    def catch_up_all(self) -> list[Peer]:
        """Serve every receiver its share and start a new round; returns those given bytes."""
        if not self.round_bytes:
            return []
        served = [peer for peer in self._positions if self.catch_up(peer)]
        for log in (self._frames, self._lines):
            log.data.clear()
            log.skips.clear()
        self._positions = dict.fromkeys(self._positions, 0)
        return served
