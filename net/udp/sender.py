"""The sending half of a channel: fragmenting, the send window, acks and retransmission.

Rules (also in `docs/PROTOCOL.md`, "UDP transport"):

* A message is cut into fragments of at most `FRAGMENT_PAYLOAD` bytes with consecutive
  sequence numbers, when it is first sent. Small messages queued back to back travel
  together in one fragment of up to `BUNDLE_PAYLOAD` bytes, a bundle (count 0: the
  messages joined by LF, so a message holding an LF travels on its own), so a burst of
  chat lines costs a few datagrams, not one each.
* A fragment is first sent only while its number is below the cumulative ack plus the
  window (the smaller of our send window and the window the peer advertises), so what is
  in flight, and what the receiver must buffer, stays bounded.
* An ack acknowledges every fragment below its cumulative number and, through the
  bitmap, single fragments above it. Receivers never discard a fragment they reported.
* One retransmission timer (the RTO of `rtt.py`) runs from the oldest unacknowledged
  transmission, restarted whenever an ack acknowledges new data. When it expires, only
  the first unacknowledged fragment is resent and the RTO doubles. A fragment is resent earlier when a
  fragment sent after it has been acknowledged (it was probably lost: RACK-style fast
  retransmission), and the newest one is resent once as a probe when acks stop coming
  (tail loss probe).
* Round trips are measured with echoed timestamps: every datagram carries the sender's
  clock and echoes the newest DATA timestamp it received, so even an ack of a resent
  fragment gives an unambiguous sample. Without an echo, only fragments sent once count
  (Karn's rule).
* When a fragment stays unacknowledged for `give_up_after` seconds despite at least
  `min_retransmits` resends, the channel gives up and reports every message not fully
  acknowledged, in order.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import cast

from net.udp.bundles import Batch, take_bundle
from net.udp.fragments import Fragment, LargeMessage
from net.udp.rtt import RttConfig, RttEstimator
from net.udp.wire import FRAGMENT_PAYLOAD, unwrap


@dataclass(slots=True)
class SenderConfig:
    send_window: int = 128  # fragments in flight at most (the peer's window may lower it)
    give_up_after: float = 30.0
    min_retransmits: int = 4
    max_backlog_bytes: int = 8 * 1024 * 1024  # queued + in flight; beyond it the peer is too slow
    rtt: RttConfig = field(default_factory=RttConfig)


class Sender:
    """Reliable, ordered sending of messages to one peer. Pure: time is passed in."""

    def __init__(self, config: SenderConfig | None = None, *, peer_window: int = 4) -> None:
        self.config = config or SenderConfig()
        self.rtt = RttEstimator(self.config.rtt)
        self.base = 0  # lowest sequence number not yet cumulatively acknowledged
        self._next_new = 0  # number of the next fragment to send for the first time
        # Messages not (completely) cut into fragments yet: only their bytes, no object per
        # message for the garbage collector to track. Messages are numbered from 1 in queueing
        # order; `_next_cut` is the number of the first one here. A large message at the front
        # may be partly cut: `_head_cut` bytes of it, tracked by `_head_large`.
        self._unsent: deque[bytes | Batch] = deque()
        self._next_cut = 1
        self._tags: dict[int, object] = {}  # message number -> tag, for the tags that are not None
        self._head_cut = 0
        self._head_large: LargeMessage | None = None
        self._head_taken = 0  # messages of the `Batch` at the front already cut
        self._in_flight: dict[int, Fragment] = {}  # in sequence order (inserted when first sent)
        self._unacked_messages = 0  # queued and not fully acknowledged
        self._message_numbers = 0
        self._backlog_bytes = 0
        # Retransmissions in time order: (sent at, seq, transmission); see `_oldest_transmission`.
        self._timeline: deque[tuple[float, int, int]] = deque()
        self._rack_sent_at = float("-inf")  # send time of the newest fragment known delivered
        self._lost: list[Fragment] = []
        self._tail_probe_armed = False
        self._last_activity = 0.0
        self._timer_base = float("-inf")  # when the retransmission timer was last restarted
        self.probes = 0
        self.peer_window = max(1, peer_window)
        self.gave_up = False
        self.messages_sent = 0
        self.messages_acked = 0
        self.fragments_sent = 0
        self.retransmissions = 0
        self.timeouts = 0

    # -- queries --------------------------------------------------------------------------

    @property
    def backlog_bytes(self) -> int:
        """Payload bytes queued or in flight."""
        return self._backlog_bytes

    @property
    def overloaded(self) -> bool:
        return self._backlog_bytes > self.config.max_backlog_bytes

    @property
    def in_flight(self) -> int:
        """Fragments sent and not yet acknowledged."""
        return len(self._in_flight)

    @property
    def idle(self) -> bool:
        """Everything queued has been acknowledged."""
        return not self._unacked_messages

    @property
    def window(self) -> int:
        return max(1, min(self.config.send_window, self.peer_window))

    def undelivered(self) -> list[object]:
        """Tags of the messages not fully acknowledged, oldest first."""
        numbers: list[int] = []
        last: LargeMessage | None = None
        for fragment in self._in_flight.values():
            if fragment.large is None:
                numbers.extend(range(fragment.first, fragment.first + fragment.whole))
            elif fragment.large is not last:
                last = fragment.large
                numbers.append(last.number)
        start = self._next_cut
        if self._head_large is not None and self._head_large is last:
            start += 1  # the partly cut message at the front is listed already
        numbers.extend(range(start, self._message_numbers + 1))
        tags = self._tags
        return [tags.get(number) for number in numbers]

    def next_deadline(self) -> float | None:
        """When `due` must run next for a retransmission (None: no timer running)."""
        if self._lost or self._can_send_new():
            return float("-inf")
        oldest = self._oldest_transmission()
        if oldest is None:
            return None
        deadline = max(oldest.sent_at, self._timer_base) + self.rtt.rto
        probe = self._tail_probe_time()
        return deadline if probe is None else min(deadline, probe)

    def _tail_probe_time(self) -> float | None:
        """When to probe the tail of the flight (None: no probe pending).

        A lost last fragment (or a lost ack for it) leaves nothing after it whose ack could
        reveal the loss, so without a probe only the full RTO would recover it. Resending the
        newest fragment after two smoothed round trips of silence draws an ack whose bitmap
        shows what is missing (tail loss probe, RFC 8985 section 7); it does not back off.
        """
        if not self._tail_probe_armed or not self._in_flight or self.rtt.srtt is None:
            return None
        return self._last_activity + max(2 * self.rtt.srtt, 0.01)

    def _oldest_transmission(self) -> Fragment | None:
        """The in-flight fragment whose latest transmission is the oldest (its timer runs out first).

        Fragments sent once went out in sequence order, which is `_in_flight`'s order, so the
        first of them there is the oldest of them: first sends need no timeline entry (the host
        sends dozens per member and round). `_timeline` lists retransmissions in time order;
        entries of fragments acknowledged or sent again since are dropped here as they reach
        the front, so this is amortised O(1) (plus a scan past resent fragments under loss).
        """
        in_flight = self._in_flight
        oldest: Fragment | None = None
        for fragment in in_flight.values():
            if fragment.transmissions == 1:
                oldest = fragment
                break
        timeline = self._timeline
        while timeline:
            sent_at, seq, transmissions = timeline[0]
            resent = in_flight.get(seq)
            if resent is not None and resent.transmissions == transmissions:
                return resent if oldest is None or sent_at < oldest.sent_at else oldest
            timeline.popleft()
        return oldest

    # -- sending --------------------------------------------------------------------------

    def queue(self, message: bytes, tag: object = None) -> int:
        """Queue one message (non-empty); returns its number on this channel."""
        if not message:
            raise ValueError("empty message")
        self._message_numbers += 1
        self._unsent.append(message)
        if tag is not None:
            self._tags[self._message_numbers] = tag
        self._backlog_bytes += len(message)
        self.messages_sent += 1
        self._unacked_messages += 1
        return self._message_numbers

    def queue_many(self, messages: list[bytes] | list[bytes | Batch]) -> None:
        """Queue several untagged messages at once, in order (the host's fan-out: one call per
        member and round); `Batch` items stand for the messages they hold."""
        count = size = 0
        for item in messages:
            if isinstance(item, Batch):
                count += item.whole
                size += len(item.payload) - item.whole + 1
            elif item:
                count += 1
                size += len(item)
            else:
                raise ValueError("empty message")
        self._unsent.extend(messages)
        self._message_numbers += count
        self._backlog_bytes += size
        self.messages_sent += count
        self._unacked_messages += count

    def due(self, now: float) -> list[Fragment]:
        """Fragments to transmit now: losses and expired timers first, then new ones."""
        out = self._retransmissions(now) if self._in_flight or self._lost else []
        # `_can_send_new` and `window` inlined: this runs for every member and round.
        limit = self.base + (min(self.config.send_window, self.peer_window) or 1)
        if not self._unsent or self.gave_up or self._next_new >= limit:
            return out
        in_flight, unsent = self._in_flight, self._unsent
        first = len(out)
        while unsent and self._next_new < limit:
            fragment = self._cut(now)  # sent now: `_transmit` inlined for first sends
            in_flight[fragment.seq] = fragment
            out.append(fragment)
        self.fragments_sent += len(out) - first
        self._tail_probe_armed = True
        self._last_activity = now
        return out

    def _can_send_new(self) -> bool:
        return bool(self._unsent) and not self.gave_up and self._next_new < self.base + self.window

    def _cut(self, now: float) -> Fragment:
        """The next new fragment: a piece of a large message, one message, or a bundle
        (`net.udp.bundles.take_bundle` fills it from the front of the queue)."""
        unsent = self._unsent
        number = self._next_cut
        data = unsent[0]
        seq = self._next_new
        self._next_new += 1
        first_is_message = type(data) is not Batch
        if first_is_message:
            data = cast(bytes, data)
            size = len(data)
            if size > FRAGMENT_PAYLOAD:
                return self._cut_piece(seq, number, data, size, now)
            if b"\n" in data:  # it cannot share a bundle: it travels alone
                unsent.popleft()
                self._next_cut = number + 1
                return Fragment(seq, 0, 1, data, number, 1, None, size, now)
        payload, whole, total, self._head_taken = take_bundle(unsent, self._head_taken)
        self._next_cut = number + whole
        if whole == 1 and first_is_message:
            return Fragment(seq, 0, 1, cast(bytes, data), number, 1, None, total, now)
        return Fragment(seq, 0, 0, payload, number, whole, None, total, now)

    def _cut_piece(self, seq: int, number: int, data: bytes, size: int, now: float) -> Fragment:
        """The next piece of the large message at the front of the queue."""
        large = self._head_large
        if large is None:
            large = self._head_large = LargeMessage(number)
        start = self._head_cut
        payload = data[start : start + FRAGMENT_PAYLOAD]
        self._head_cut = start + len(payload)
        large.unacked += 1
        if self._head_cut == size:
            self._unsent.popleft()
            self._next_cut += 1
            large.cut = True
            self._head_cut = 0
            self._head_large = None
        count = -(-size // FRAGMENT_PAYLOAD)
        return Fragment(seq, start // FRAGMENT_PAYLOAD, count, payload, number, 0, large, len(payload), now)

    def _retransmissions(self, now: float) -> list[Fragment]:
        if self.gave_up:
            return []
        out: list[Fragment] = []
        lost, self._lost = self._lost, []
        for fragment in lost:
            if fragment.seq not in self._in_flight:
                continue  # acknowledged meanwhile
            if self._exhausted(fragment, now):
                return []
            self._transmit(fragment, now)
            out.append(fragment)
        probe = self._tail_probe_time()
        if probe is not None and now >= probe:
            self._tail_probe_armed = False
            tail = self._in_flight[next(reversed(self._in_flight))]
            self._transmit(tail, now)
            self.probes += 1
            out.append(tail)
        oldest = self._oldest_transmission()
        if oldest is not None and max(oldest.sent_at, self._timer_base) + self.rtt.rto <= now:
            # The timer ran out: resend only the first unacknowledged fragment, back off and
            # restart the timer (RFC 6298 sections 5.4-5.6). The acks this draws show what else
            # is missing; resending the whole window would flood a peer that was only slow.
            self.timeouts += 1
            self.rtt.back_off()
            first = self._in_flight[next(iter(self._in_flight))]  # the lowest number holds up delivery
            if self._exhausted(first, now):
                return []
            self._transmit(first, now)
            self._timer_base = now
            out.append(first)
        return out

    def _exhausted(self, fragment: Fragment, now: float) -> bool:
        retransmits = fragment.transmissions - 1
        if (
            retransmits >= self.config.min_retransmits
            and now - fragment.first_sent >= self.config.give_up_after
        ):
            self.gave_up = True
            self._lost.clear()
            return True
        return False

    def _transmit(self, fragment: Fragment, now: float) -> None:
        """Send `fragment` again (its first send is counted where it is made)."""
        self.retransmissions += 1
        fragment.transmissions += 1
        fragment.sent_at = now
        self._timeline.append((now, fragment.seq, fragment.transmissions))
        if len(self._timeline) > 4 * self.config.send_window + 64:
            self._compact_timeline()
        self.fragments_sent += 1

    def _compact_timeline(self) -> None:
        """Drop stale entries behind a long-lived front one (keeps the timeline bounded)."""
        live = sorted((f for f in self._in_flight.values() if f.transmissions > 1), key=lambda f: f.sent_at)
        self._timeline = deque((f.sent_at, f.seq, f.transmissions) for f in live)

    # -- acknowledgements -----------------------------------------------------------------

    def on_ack(self, ack_wire: int, sack: bytes, window: int, now: float, rtt: float | None = None) -> int:
        """Apply an ack from the peer; returns how many fragments it newly acknowledged.

        `rtt` is the round trip measured by the echoed timestamp of the datagram that
        triggered the ack, when there is one.
        """
        ack = unwrap(ack_wire, self.base)
        if not self.base <= ack <= self._next_new:
            return 0  # stale (reordered) or acknowledging what was never sent: ignore it
        self.peer_window = max(1, window)
        acked: list[Fragment] = []
        in_flight = self._in_flight
        for seq in range(self.base, ack):
            fragment = in_flight.pop(seq, None)
            if fragment is not None:
                acked.append(fragment)
        self.base = ack
        if sack:
            bits = int.from_bytes(sack, "little")
            while bits:
                low = bits & -bits
                fragment = in_flight.pop(ack + low.bit_length(), None)
                if fragment is not None:
                    acked.append(fragment)
                bits ^= low
        if acked:
            self._tail_probe_armed = True
            self._last_activity = now
            self._timer_base = now  # new data acknowledged: the timer restarts (RFC 6298 5.3)
            self._acknowledge(acked, now, rtt)
        return len(acked)

    def _acknowledge(self, acked: list[Fragment], now: float, rtt: float | None) -> None:
        # Totals in locals, written back once: an ack in a fan-out acknowledges dozens of fragments.
        newest_clean: Fragment | None = None
        newest_clean_at = float("-inf")
        first_sent = float("inf")
        freed = messages = 0
        tags = self._tags
        for fragment in acked:
            freed += fragment.size
            large = fragment.large
            if large is None:
                whole = fragment.whole
                if tags:
                    for number in range(fragment.first, fragment.first + whole):
                        tags.pop(number, None)
            else:
                large.unacked -= 1
                whole = 1 if large.unacked == 0 and large.cut else 0
                if whole and tags:
                    tags.pop(large.number, None)
            messages += whole
            if fragment.first_sent < first_sent:
                first_sent = fragment.first_sent
            if fragment.transmissions == 1 and fragment.sent_at > newest_clean_at:
                newest_clean, newest_clean_at = fragment, fragment.sent_at
        self._backlog_bytes -= freed
        self._unacked_messages -= messages
        self.messages_acked += messages
        if rtt is not None and rtt <= now - first_sent:
            delivered_sent_at = now - rtt  # the echo names one delivered transmission exactly
        elif newest_clean is not None:
            delivered_sent_at = newest_clean.sent_at  # sent once, so the ack can only be for it (Karn)
            rtt = now - delivered_sent_at
        else:
            return  # only ambiguous acks of resent fragments: no measurement
        self.rtt.sample(rtt)
        if delivered_sent_at > self._rack_sent_at:
            self._rack_sent_at = delivered_sent_at
            self._detect_losses()

    def _detect_losses(self) -> None:
        """Anything sent noticeably before a delivered transmission is presumed lost (RACK)."""
        srtt = self.rtt.srtt or 0.0
        reorder_window = min(0.05, max(0.002, srtt / 4))
        cutoff = self._rack_sent_at - reorder_window
        queued = {fragment.seq for fragment in self._lost}
        # In-flight fragments are in first-send order, and a fragment is never resent before
        # its first sending: once first sends reach the cutoff, no later fragment can be late.
        for fragment in self._in_flight.values():
            if fragment.first_sent >= cutoff:
                break
            if fragment.sent_at < cutoff and fragment.seq not in queued:
                self._lost.append(fragment)
