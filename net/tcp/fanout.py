"""Broadcasting a round of messages to every member with one copy per receiver, not per message.

A broadcast is appended once to a log shared by all receivers of its dialect (JSON frames,
or text lines for `nc` clients). Each receiver only remembers how far into the log it has
been served, plus the stretches it must skip (its own messages) and what it gets in their
place (their acks: spliced in where they belong when its share is taken, so an ack does
not force a copy of the sender's share per message). When the router writes out a round
(`take_round`) each receiver's share is one or a few slices of a single copy of the round,
written with one `send`/`sendmsg` and copied only if the socket does not take it all.
Before the router queues something private for one receiver (a pong, an error, a bye), it
copies that receiver's share so far into the receiver's outbound buffer (`catch_up`), so
the order holds. Appending each message to each receiver separately costs a Python call
per delivery; under load that was most of the router's time, and copying each share into
a per-receiver buffer was the next largest cost.

Who receives a broadcast is decided when it is appended, so the receivers must follow
room membership: `add` when a member is welcomed, `remove` when it leaves (its share so
far is delivered first, so it never misses what was said before it left).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from net.tcp.peer import Peer


class _Log:
    __slots__ = ("data", "skips")

    def __init__(self) -> None:
        self.data = bytearray()
        #: Per receiver: [start, stop, bytes given instead] of the stretches it skips.
        self.skips: dict[Peer, list[list[Any]]] = {}


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
    def wants_frames(self) -> bool:
        """True when a JSON receiver exists (only then are events encoded as frames)."""
        return len(self._positions) > self._text_receivers

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

    def broadcast(self, frame: bytes | None, line: bytes | None, exclude: object = None) -> None:
        """Append one event, as a JSON `frame` and as a text `line`, for every receiver but `exclude`."""
        if frame:
            self._append(
                self._frames, frame, exclude, exclude_here=exclude in self._positions and not exclude.is_text
            )
        if line:
            self._append(
                self._lines, line, exclude, exclude_here=exclude in self._positions and exclude.is_text
            )

    def relay(self, frame: bytes, line: bytes | None, sender: Peer, reply: bytes) -> bool:
        """Append a message from `sender` for every other receiver, with `reply` (its ack) for
        `sender` alone in its place: `broadcast` then `reply` in one step. False, with
        nothing done, when `sender` is not a JSON receiver."""
        if sender.is_text or sender not in self._positions:
            return False
        self._append(self._frames, frame, sender, exclude_here=True, instead=reply)
        if line:
            self._append(self._lines, line, sender, exclude_here=False)
        return True

    @staticmethod
    def _append(log: _Log, data: bytes, exclude: Any, *, exclude_here: bool, instead: bytes = b"") -> None:
        """Append `data`; when `exclude_here`, `exclude` skips it and gets `instead` in its place."""
        start = len(log.data)
        log.data += data
        if exclude_here:
            skips = log.skips.setdefault(exclude, [])
            if skips and skips[-1][1] == start:
                last = skips[-1]  # consecutive messages of one sender: one skip, what replaces them together
                last[1] = len(log.data)
                last[2] += instead
            else:
                skips.append([start, len(log.data), bytearray(instead)])

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

    def take_round(self) -> list[tuple[Peer, list[bytes | memoryview]]]:
        """Every receiver's unserved share of the round, as slices to write in order; starts a
        new round. The round is copied once (into bytes the slices share): a receiver that
        skips nothing gets that copy itself, the others a few slices around their skips."""
        if not self.round_bytes:
            return []
        shares: list[tuple[Peer, list[bytes | memoryview]]] = []
        rounds = {}
        for log in (self._frames, self._lines):
            if log.data:
                whole = bytes(log.data)
                rounds[id(log)] = (whole, memoryview(whole), log.skips)
        for peer, position in self._positions.items():
            log = self._lines if peer.is_text else self._frames
            taken = rounds.get(id(log))
            if taken is None:
                continue
            whole, view, skips_by_peer = taken
            skips = skips_by_peer.get(peer)
            if not skips:
                if position == 0:
                    shares.append((peer, [whole]))
                elif position < len(whole):
                    shares.append((peer, [view[position:]]))
                continue
            segments: list[bytes | memoryview] = []
            for start, stop, instead in skips:
                if start > position:
                    segments.append(view[position:start])
                if instead:
                    segments.append(instead)
                position = stop
            if position < len(whole):
                segments.append(view[position:])
            if segments:
                shares.append((peer, segments))
        for log in (self._frames, self._lines):
            log.data.clear()
            log.skips.clear()
        self._positions = dict.fromkeys(self._positions, 0)
        return shares
