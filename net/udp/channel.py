"""One reliable, ordered message channel between two UDP endpoints, as pure code.

A `Channel` joins a `Sender` and a `Receiver` under one connection id and turns them
into datagrams: every datagram carries the cumulative ack, the selective-ack bitmap and
the receive window, so acks ride on data whenever there is data to send and a bare ACK is
sent otherwise. No sockets, threads or clocks: the shell passes `now` in, feeds parsed
datagrams to `receive`, sends what `poll` returns, and calls `poll` again by
`next_deadline`.

Opening: the side that opens a connection (the client) probes with OPEN (a bare ACK with
the OPEN flag and a token field) until it has heard anything back on this connection id,
like a TCP SYN, and holds its DATA until then. The host creates a channel only for an OPEN
that echoes a valid address-validation token; it answers an OPEN without one with a RETRY
carrying a token (`net.udp.retry`), which the opener puts into its next OPENs (the first
RETRY is answered at once). So a restarted host answers everything else with a RESET and
the client knows to start over, and an address that has not shown it receives there gets
nothing from a host but a RETRY or a RESET, each no larger than the datagram it answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from net.protocol.limits import MAX_FRAME_BYTES
from net.udp.bundles import Batch
from net.udp.burst import burst_calls, plan
from net.udp.fragments import Fragment
from net.udp.receiver import MAX_WINDOW, ReceiveError, Receiver
from net.udp.sender import Sender, SenderConfig
from net.udp.wire import (
    ACK_KIND,
    DATA_FIELDS,
    DATA_KIND,
    FIXED_HEADER_BYTES,
    MAX_DATAGRAM_BYTES,
    MAX_SACK_BYTES,
    NO_TOKEN,
    RESET_KIND,
    RETRY_KIND,
    SEQ_MODULO,
    Datagram,
    Kind,
    ResetReason,
    WireError,
    elapsed_since,
    encode_header,
    parse,
    parse_fragment,
    timestamp,
    unwrap,
)

#: Open probes: the first is repeated after this many seconds, each later one after twice the
#: previous wait, up to the maximum (a LAN answers in a millisecond; a lost probe should cost
#: little, and a connect timeout of a few seconds should still see several probes).
PROBE_FIRST_INTERVAL = 0.2
PROBE_MAX_INTERVAL = 1.0
_SEQ_MASK = SEQ_MODULO - 1


#: A byte stream carried over a channel (TLS) goes in messages of at most this many bytes:
#: what a host accepts from a connection before its hello (`net.udp.tuning.HELLO_MAX_BYTES`).
STREAM_PIECE_BYTES = 4096


@dataclass(slots=True)
class ChannelConfig:
    receive_window: int = MAX_WINDOW  # fragments buffered beyond the next expected one
    max_message_bytes: int = MAX_FRAME_BYTES
    sender: SenderConfig = field(default_factory=SenderConfig)


@dataclass(frozen=True, slots=True)
class ChannelFailure:
    """Why a channel stopped, and the tags of the messages it could not deliver (oldest first)."""

    reason: str
    undelivered: tuple[object, ...] = ()
    reset: ResetReason | None = None  # set when the peer reset the connection
    broken: bool = False  # the peer sent fragments that break the rules


@dataclass(slots=True)
class ChannelStats:
    messages_sent: int
    messages_acked: int
    messages_received: int
    fragments_sent: int
    retransmissions: int
    timeouts: int
    duplicates_dropped: int
    out_of_window_dropped: int
    probes: int
    srtt: float | None
    rto: float
    buffered_bytes: int
    buffer_bound: int
    backlog_bytes: int


class Channel:
    """Reliable ordered delivery of messages (bytes) to one peer over one connection id."""

    def __init__(
        self, conn_id: int, *, now: float, opener: bool, config: ChannelConfig | None = None
    ) -> None:
        self.config = config or ChannelConfig()
        self.conn_id = conn_id
        self.opening = opener  # we probe with OPEN and hold our data until we hear from the peer
        self.token = NO_TOKEN  # the host's address-validation token, echoed in our OPENs
        self.retries = 0  # RETRYs received while opening
        self.sender = Sender(self.config.sender)
        self.receiver = Receiver(
            window=self.config.receive_window, max_message_bytes=self.config.max_message_bytes
        )
        self.last_heard = now
        self.heard = False
        self.failure: ChannelFailure | None = None
        self._ack_pending = False
        self._probe_at = now if opener else float("inf")
        self._probe_interval = PROBE_FIRST_INTERVAL
        self._echo = 0  # wire timestamp to echo: the newest DATA datagram received
        self._echo_fresh = False  # set once a DATA datagram arrived since we last sent
        self._now = now

    # -- queries ----------------------------------------------------------------------------

    @property
    def failed(self) -> bool:
        return self.failure is not None

    @property
    def idle(self) -> bool:
        """Everything sent has been acknowledged and no ack is owed."""
        return self.sender.idle and not self._ack_pending

    @property
    def buffered_bytes(self) -> int:
        """Receive-side memory: fragments waiting for reassembly."""
        return self.receiver.buffered_bytes

    def stats(self) -> ChannelStats:
        s, r = self.sender, self.receiver
        return ChannelStats(
            messages_sent=s.messages_sent,
            messages_acked=s.messages_acked,
            messages_received=r.messages,
            fragments_sent=s.fragments_sent,
            retransmissions=s.retransmissions,
            timeouts=s.timeouts,
            duplicates_dropped=r.duplicates,
            out_of_window_dropped=r.out_of_window,
            probes=s.probes,
            srtt=s.rtt.srtt,
            rto=s.rtt.rto,
            buffered_bytes=r.buffered_bytes,
            buffer_bound=r.memory_bound,
            backlog_bytes=s.backlog_bytes,
        )

    def set_receive_limits(self, *, window: int, max_message_bytes: int) -> None:
        self.receiver.set_limits(window=window, max_message_bytes=max_message_bytes)
        self._ack_pending = True  # tell the peer about the new window

    # -- input ------------------------------------------------------------------------------

    def send(self, message: bytes, tag: object = None) -> None:
        """Queue one message; `tag` comes back in `failure.undelivered` if it is never acked."""
        if self.failure is None:
            self.sender.queue(message, tag)

    def send_stream(self, data: bytes) -> None:
        """Queue pieces of a byte stream (TLS records) as messages no larger than a peer still
        saying hello accepts (`STREAM_PIECE_BYTES`), so any of them is always deliverable."""
        for start in range(0, len(data), STREAM_PIECE_BYTES):
            self.send(data[start : start + STREAM_PIECE_BYTES])

    def send_many(self, messages: list[bytes] | list[bytes | Batch]) -> None:
        """Queue several untagged messages at once, in order (`Batch` items: see `batch_messages`)."""
        if self.failure is None:
            self.sender.queue_many(messages)

    def receive(self, datagram: Datagram, now: float) -> None:
        """Apply one parsed datagram addressed to this channel."""
        if self.failure is not None or datagram.conn_id != self.conn_id:
            return
        kind = datagram.kind
        if kind is RETRY_KIND:
            self._on_retry(datagram.token, now)
            return
        self.last_heard = now
        self.heard = True
        if self.opening and not datagram.opening:
            self.opening = False  # the peer knows this connection now
            self._probe_at = float("inf")
            probe_rtt = elapsed_since(datagram.ts_echo, now)
            if probe_rtt is not None and self.sender.rtt.samples == 0:
                self.sender.rtt.sample(probe_rtt)  # the answer to our probe: a first round trip
        if kind is RESET_KIND:
            self._fail(f"the peer reset the connection ({datagram.reason.name.lower()})", datagram.reason)
            return
        sender = self.sender
        if datagram.sack or datagram.ack != sender.base & _SEQ_MASK:
            sender.on_ack(
                datagram.ack, datagram.sack, datagram.window, now, elapsed_since(datagram.ts_echo, now)
            )
        else:
            sender.peer_window = max(1, datagram.window)  # acknowledges nothing new (most data in fan-out)
        if datagram.opening:
            self._ack_pending = True  # answer a probe even when it carries no data
            if kind is ACK_KIND:
                self._echo = datagram.ts  # so the prober can time its probe
        if kind is DATA_KIND:
            self._ack_pending = True  # acknowledge new fragments and repeats alike (the ack was lost)
            if not self._echo_fresh or unwrap(datagram.ts, self._echo) > self._echo:
                self._echo = datagram.ts  # echo the newest transmission seen since our last datagram
                self._echo_fresh = True
            try:
                self.receiver.accept(datagram.seq, datagram.index, datagram.count, datagram.payload)
            except ReceiveError as exc:
                self._fail(f"invalid fragments: {exc}", None, broken=True)

    def receive_segments(self, data: bytes, segment: int, now: float) -> int:
        """Apply the datagrams of one coalesced read: `data` cut every `segment` bytes (the last
        piece may be shorter). Returns how many were valid; invalid ones are skipped.

        A burst's datagrams share one header (`poll_burst` makes them so): a datagram that
        repeats, byte for byte, the header of the DATA datagram before it would change nothing
        in `receive` but its fragment, so only its fragment fields are parsed and checked, and
        the fragment goes straight to the receiver.
        """
        size = len(data)
        valid = 0
        accept = self.receiver.accept
        header = b""  # the header (bitmap included) of the DATA datagram just applied
        for start in range(0, size, segment):
            end = start + segment
            if end > size:
                end = size
            if header and data.startswith(header, start):
                try:
                    seq, index, count, payload = parse_fragment(data, start, end, start + len(header))
                except WireError:
                    continue
                valid += 1
                if self.failure is None:
                    try:
                        accept(seq, index, count, payload)
                    except ReceiveError as exc:
                        self._fail(f"invalid fragments: {exc}", None, broken=True)
                continue
            try:
                datagram = parse(data, start, end)
            except WireError:
                header = b""
                continue
            valid += 1
            self.receive(datagram, now)
            if datagram.kind is DATA_KIND and datagram.conn_id == self.conn_id:
                header = data[start : start + FIXED_HEADER_BYTES + len(datagram.sack)]
            else:
                header = b""
        return valid

    def _on_retry(self, token: bytes, now: float) -> None:
        """The host wants its token echoed before it opens the connection: OPEN again with it.

        Only an opener listens (a RETRY changes nothing once the connection is open). The
        first RETRY is answered at once; a later one (the token expired while our OPENs got
        lost) waits for the probe timer, so a host and a client can never bounce RETRYs and
        OPENs at each other faster than the probe backoff.
        """
        if not self.opening:
            return
        if self.retries == 0:
            self._probe_at = now
        self.retries += 1
        self.token = token

    def take_messages(self) -> list[bytes]:
        return self.receiver.take_messages()

    def take_stream(self) -> bytes:
        """The completed messages, each followed by LF, as one byte string (see `Receiver.take_stream`)."""
        return self.receiver.take_stream()

    # -- output -----------------------------------------------------------------------------

    def poll(self, now: float) -> list[bytes]:
        """Datagrams to send now (data, retransmissions, an ack or an open probe)."""
        fragments = self._due(now)
        if fragments is None:
            return []
        if not fragments:
            return self._controls(now, sent_data=False)
        return self._data_datagrams(fragments) + self._controls(now, sent_data=True)

    def poll_burst(self, now: float) -> list[tuple[int, bytes]]:
        """What `poll` returns, as send calls for `net.udp.burst.BurstSender.send_calls`.

        Each call is (0, one datagram) or (segment size, several datagrams of that size
        joined, the last one possibly shorter): a run of bundles, each but the last padded
        with LF to the largest of the run. Building the joined buffer here, from the header
        and the fragments' payloads, costs one copy per datagram; `poll` followed by
        `burst.plan` copies each datagram three times and reads its kind back from its bytes.
        """
        fragments = self._due(now)
        if fragments is None:
            return []
        if not fragments:
            return [(0, datagram) for datagram in self._controls(now, sent_data=False)]
        header = self._header(DATA_KIND)
        if len(header) == FIXED_HEADER_BYTES:
            calls = burst_calls(header, fragments)
        else:  # a sack: a large bundle may need a shorter one (see `_data_datagrams`)
            calls = [(size, b"".join(batch)) for size, batch in plan(self._data_datagrams(fragments, header))]
        calls.extend((0, datagram) for datagram in self._controls(now, sent_data=True))
        return calls

    def _due(self, now: float) -> list[Fragment] | None:
        """The sender's fragments due now; None when the channel has failed (or fails now).

        Nothing while opening: data waits until the peer has answered an OPEN.
        """
        if self.failure is not None:
            return None
        self._now = now
        if self.opening:
            return []
        sender = self.sender
        fragments = sender.due(now)
        if sender.gave_up:
            self._fail("no acknowledgement within the retry budget", None)
            return None
        if sender.overloaded:
            self._fail("the peer does not keep up (too much unacknowledged data)", None)
            return None
        return fragments

    def _data_datagrams(self, fragments: list[Fragment], header: bytes | None = None) -> list[bytes]:
        if header is None:
            header = self._header(DATA_KIND)  # the same ack fields for every fragment of this batch
        # The sender cuts only valid fragments: packed here without encode_fragment's checks
        # (this runs once per datagram the host sends).
        pack = DATA_FIELDS.pack
        out = [header + pack(f.seq & _SEQ_MASK, f.index, f.count) + f.payload for f in fragments]
        if len(header) > FIXED_HEADER_BYTES:
            # A bundle may be larger than FRAGMENT_PAYLOAD: its datagram carries only as
            # much of the sack as fits MAX_DATAGRAM_BYTES (a shorter bitmap acks less).
            for i, datagram in enumerate(out):
                if len(datagram) > MAX_DATAGRAM_BYTES:
                    f = fragments[i]
                    room = MAX_DATAGRAM_BYTES - FIXED_HEADER_BYTES - DATA_FIELDS.size - len(f.payload)
                    short = self._header(Kind.DATA, room)
                    out[i] = short + pack(f.seq & _SEQ_MASK, f.index, f.count) + f.payload
        return out

    def _controls(self, now: float, *, sent_data: bool) -> list[bytes]:
        """An open probe or a bare ack when one is owed (data datagrams just sent carry the ack)."""
        out: list[bytes] = []
        if sent_data:
            self._ack_pending = False
        if self.opening and now >= self._probe_at:
            # A bare OPEN ack asks the peer to answer. Unanswered probes wait longer each
            # time, like a TCP SYN.
            out.append(self._control(ACK_KIND))
            self._ack_pending = False
            self._probe_at = now + self._probe_interval
            self._probe_interval = min(PROBE_MAX_INTERVAL, self._probe_interval * 2)
        if self._ack_pending:
            self._ack_pending = False
            out.append(self._control(ACK_KIND))
        if out or sent_data:
            self._echo_fresh = False
        return out

    def next_deadline(self) -> float | None:
        """When `poll` must run next (None: only when something arrives or is queued)."""
        if self.failure is not None:
            return None
        if self._ack_pending:
            return float("-inf")
        if self.opening:
            return self._probe_at  # nothing is sent but probes until the peer answers
        return self.sender.next_deadline()

    def reset_datagram(self, reason: ResetReason) -> bytes:
        """A RESET for this connection (sent when closing it or refusing its datagrams)."""
        return self._control(Kind.RESET, reason)

    def fail(self, reason: str) -> None:
        """Stop the channel from outside (e.g. the peer went silent); keeps the undelivered list."""
        self._fail(reason, None)

    # -- internals --------------------------------------------------------------------------

    def _fail(self, reason: str, reset: ResetReason | None, *, broken: bool = False) -> None:
        if self.failure is None:
            self.failure = ChannelFailure(reason, tuple(self.sender.undelivered()), reset, broken)

    def _header(self, kind: Kind, sack_room: int = MAX_SACK_BYTES) -> bytes:
        receiver = self.receiver
        return encode_header(
            kind,
            self.conn_id,
            receiver.next_seq,
            receiver.window,
            receiver.sack()[:sack_room],
            self.opening and kind is ACK_KIND,  # only a probe is OPEN
            timestamp(self._now),
            self._echo,
            self.token,
        )

    def _control(self, kind: Kind, reason: ResetReason = ResetReason.UNKNOWN_CONNECTION) -> bytes:
        header = self._header(kind)
        return header + bytes((reason,)) if kind is RESET_KIND else header
