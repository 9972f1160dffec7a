"""The asyncio load generator: members that connect, join, send and count deliveries.

It must never be the bottleneck, so receiving does no per-message Python work: a member
counts message heads with `bytes.count`, parses send timestamps only from sampled messages
(found with `memchr`, see `bench.payload`),
and keeps raw bytes only when it is one of the audited members (checked after the timed
phase). Its CPU time is measured so that the report can show it was not the limit.

"As fast as allowed" is a window, the same for every relay: a member keeps at most W of its
messages on their way (written but not yet received by the probe member, the last one to
join), and writes as many as the window allows in one write. W = ceil(budget / (C - 1)),
so each member has about `budget` deliveries outstanding whatever the room size, as a TCP
window bounds bytes in flight. Latency is measured from the moment a message is written to
the moment the relay's bytes carrying it arrive in a receiver's socket (the kernel's time,
see `bench.stream`), queueing inside the relay included; the time the generator then took
to read them (all members share one event loop) is kept beside it as "at read".

Over TLS (`tls_client()`) members run OpenSSL over memory BIOs on plain sockets
(`bench.stream`), one `recvmsg` and one decryption per read. The client checks nothing
about the relay's certificate (LanChat's clients compare its fingerprint with a pin, which
is no cost the relay pays); the same context is used for our host and for Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import time
from dataclasses import dataclass, field

from bench import payload
from bench.dialects import Dialect
from bench.stream import StreamEndpoint

_CONNECT_CONCURRENCY = 32
_JOIN_TIMEOUT = 30.0
_SYNC_LINE = b"~sync~\n"


class Window:
    """Per-sender credit: how many of each member's messages the probe has received."""

    def __init__(self, members: int, budget: int) -> None:
        self.size = max(2, -(-budget // max(1, members - 1)))
        self.confirmed = [0] * members
        self._waiters: dict[int, asyncio.Future] = {}

    def observe(
        self, data: bytes, start: int, end: int, *, skip: int | None = None, only: int | None = None
    ) -> None:
        """Credit every sender whose message heads appear in `data[start:end]`."""
        find = data.find
        confirmed = self.confirmed
        credited: set[int] = set()
        pos = find(payload.HEAD, start, end)
        while pos >= 0:
            digits = data[pos + 1 : pos + 5]
            if digits.isdigit():
                sender = int(digits)
                if sender != skip and (only is None or sender == only) and sender < len(confirmed):
                    confirmed[sender] += 1
                    credited.add(sender)
            pos = find(payload.HEAD, pos + 5, end)
        for sender in credited:
            waiter = self._waiters.pop(sender, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def room(self, sender: int, sent: int) -> int:
        """How many more messages `sender` may write now (waits until at least one)."""
        while sent - self.confirmed[sender] >= self.size:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters[sender] = waiter
            await waiter
        return self.size - (sent - self.confirmed[sender])

    def fail(self, error: BaseException) -> None:
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(error)
        self._waiters.clear()


@functools.cache
def tls_client() -> ssl.SSLContext:
    """The members' TLS context: TLS 1.3 only, no client certificate, the relay's certificate
    not checked (see the module's docstring)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class RelayError(RuntimeError):
    """The relay refused a member, reported an error, or dropped a connection."""


@dataclass
class Member:
    """One simulated chat member and what it has received."""

    index: int
    dialect: Dialect
    sampling: bool = True
    audit: list[bytes] | None = None
    received: int = 0  # message heads counted (with its own messages when the relay echoes them)
    received_bytes: int = 0  # (decrypted) bytes read on its receiving connection, since the start
    echoes: int = 0  # of those, its own messages the relay sends back (Redis pub/sub)
    errors: int = 0
    samples: list[float] = field(default_factory=list)  # latency to the relay's bytes arriving
    read_samples: list[float] = field(default_factory=list)  # the same messages, to their reading
    expected: int = 0
    done_at: float | None = None
    last_at: float = 0.0  # when a message from another member last arrived
    lost: bool = False
    closing: bool = False
    joined: asyncio.Future | None = None
    connect_started: float = 0.0  # perf_counter when its first connection was opened
    done: asyncio.Future | None = None
    inbound: StreamEndpoint | None = None
    outbound: StreamEndpoint | None = None
    _pre_join: bytearray = field(default_factory=bytearray)
    _tail: bytes = b""
    sync_seen: bool = False
    _reads: int = 0
    #: Set on the probe members: (window, sender to skip, only sender to credit).
    confirms: tuple[Window, int | None, int | None] | None = None

    def __post_init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.joined = loop.create_future()
        self.done = loop.create_future()

    # -- receiving ----------------------------------------------------------------------

    def on_data(self, data: bytes, now: float | None = None, arrived: float | None = None) -> None:
        """Account for bytes from the relay, read at `now` after arriving at `arrived` (both
        `perf_counter` times; by default the time of the call)."""
        if now is None:
            now = time.perf_counter()
        if arrived is None:
            arrived = now
        self.received_bytes += len(data)
        assert self.joined is not None
        if not self.joined.done():
            self._pre_join += data
            refusal = self.dialect.refusal(bytes(self._pre_join))
            if refusal:
                self.joined.set_exception(RelayError(f"member {self.index} refused: {refusal}"))
                return
            if not self.dialect.is_joined(bytes(self._pre_join)):
                return
            self.joined.set_result(now)
            data = bytes(self._pre_join)
            self._pre_join.clear()
        start = 0
        if self._tail:
            # Finish the line split by the previous read on its own, without copying `data`.
            first_end = data.find(b"\n") + 1
            if not first_end:
                self._tail += data
                return
            self._scan(self._tail + data[:first_end], 0, first_end + len(self._tail), now, arrived)
            self._tail = b""
            start = first_end
        end = data.rfind(b"\n") + 1
        if end < len(data):
            self._tail = data[max(end, start) :]
        if end > start:
            self._scan(data, start, end, now, arrived)
        assert self.done is not None
        if self.expected and self.received >= self.expected and not self.done.done():
            self.done_at = now
            self.done.set_result(now)

    def _scan(self, data: bytes, start: int, end: int, now: float, arrived: float) -> None:
        """Account for the complete lines in `data[start:end]`."""
        count = data.count(payload.HEAD, start, end)
        if count:
            self.received += count
            self.last_at = now
            if self.sampling:
                first = len(self.samples)
                payload.parse_samples(data, start, end, self.index, arrived, self.samples)
                if len(self.samples) > first:
                    waited = now - arrived  # in the member's socket, until the generator read it
                    self.read_samples += [sample + waited for sample in self.samples[first:]]
            if self.confirms is not None:
                window, skip, only = self.confirms
                window.observe(data, start, end, skip=skip, only=only)
            if self.audit is not None:
                self.audit.append(data[start:end] if (start, end) != (0, len(data)) else data)
        elif not self.sync_seen and data.find(_SYNC_LINE, start, end) >= 0:
            self.sync_seen = True
        # Control frames (errors, pings) are rare and come alone or in small reads; a large
        # read full of messages is searched for them only now and then, to save passes.
        self._reads += 1
        if count and end - start > 4096 and self._reads % 8:
            return
        marker = self.dialect.error_marker
        if marker is not None and data.find(marker, start, end) >= 0:
            self.errors += data.count(marker, start, end)
        if self.dialect.answers_pings and data.find(b'"type":"ping"', start, end) >= 0:
            reply = self.dialect.replies_to(data[start:end])
            if reply and self.inbound is not None:
                self.inbound.write(reply)

    def on_lost(self, exc: Exception | None) -> None:
        if self.closing:
            return
        self.lost = True
        error = RelayError(f"member {self.index} lost its connection ({exc or 'closed by the relay'})")
        for future in (self.joined, self.done):
            if future is not None and not future.done():
                future.set_exception(error)
        if self.confirms is not None:
            self.confirms[0].fail(error)

    def expect(self, count: int, own: int = 0) -> None:
        """Start waiting for `count` messages from others (counted since the start).

        `own` is how many the member itself will send: a relay that echoes them (Redis)
        delivers those too. They are counted with the rest and taken off in `from_others`,
        which costs nothing per message, unlike telling them apart on arrival.
        """
        assert self.done is not None
        self.echoes = own if self.dialect.echoes_own else 0
        count += self.echoes
        self.expected = count
        if self.received >= count and not self.done.done():
            self.done_at = time.perf_counter()
            self.done.set_result(self.done_at)

    @property
    def from_others(self) -> int:
        """Messages received from the other members."""
        return self.received - self.echoes

    # -- sending ------------------------------------------------------------------------

    @property
    def writer(self) -> StreamEndpoint:
        endpoint = self.outbound or self.inbound
        assert endpoint is not None
        return endpoint

    async def send(
        self,
        count: int,
        size: int,
        sample_every: int,
        window: Window | None = None,
        interval: float = 0.0,
        members: int = 1,
    ) -> None:
        """Write `count` messages: as the window allows, or one per `interval` seconds.

        Every `sample_every`-th message of the room is sampled, counting message n of member
        m as the room's message n * members + m: the samples are spread over every member
        and the whole run (counting only n + m sampled just a member or two's first or last
        messages once `sample_every` exceeded the messages per member).
        """
        endpoint = self.writer
        write = endpoint.write
        frame = self.dialect.frame
        text = payload.message_text
        me = self.index
        start = time.perf_counter() + (interval * (me % 97) / 97 if interval else 0.0)
        seq = 0
        while seq < count:
            if interval:
                delay = start + seq * interval - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                batch = 1
            elif window is not None:
                batch = min(count - seq, await window.room(me, seq))
            else:
                batch = count - seq
            now = time.perf_counter()
            write(
                b"".join(
                    frame(n, text(me, n, (n * members + me) % sample_every == 0, now, size))
                    for n in range(seq, seq + batch)
                )
            )
            seq += batch
            if endpoint.paused:
                await endpoint.writable()

    def close(self) -> None:
        self.closing = True
        for endpoint in (self.inbound, self.outbound):
            if endpoint is not None:
                endpoint.close()


async def connect_member(
    member: Member,
    port: int,
    limiter: asyncio.Semaphore,
    tls: ssl.SSLContext | None = None,
    *,
    publisher: bool = True,
) -> None:
    """Open the member's connection(s) (over TLS with `tls`), greet the relay and wait until
    it has joined. `publisher=False`: not the second connection a Redis member publishes on."""
    async with limiter:
        member.connect_started = time.perf_counter()
        member.inbound = await StreamEndpoint.open(port, member.on_data, member.on_lost, tls)
        if member.dialect.separate_publisher and publisher:
            member.outbound = await StreamEndpoint.open(port, _discard, member.on_lost, tls)
        greeting = member.dialect.greeting(member.index)
        if greeting:
            member.inbound.write(greeting)
        assert member.joined is not None
        if member.dialect.is_joined(b"") and not member.joined.done():
            member.joined.set_result(time.perf_counter())
        await asyncio.wait_for(member.joined, _JOIN_TIMEOUT)


def _discard(data: bytes, now: float, arrived: float) -> None:
    """Publisher replies (Redis' subscriber counts) carry nothing the benchmark needs."""


def make_window(members: list[Member], budget: int) -> Window:
    """A window over `members`: the last one confirms everybody else, the one before it the last."""
    window = Window(len(members), budget)
    if len(members) >= 2:
        members[-1].confirms = (window, members[-1].index, None)
        members[-2].confirms = (window, None, members[-1].index)
    return window


async def join_all(members: list[Member], port: int, tls: ssl.SSLContext | None = None) -> None:
    """Connect every member (over TLS with `tls`), then make sure the relay will deliver to
    all of them."""
    limiter = asyncio.Semaphore(_CONNECT_CONCURRENCY)
    await asyncio.gather(*(connect_member(member, port, limiter, tls) for member in members))
    if members and members[0].dialect.needs_sync_probe:
        await _sync_probe(members)


async def _sync_probe(members: list[Member]) -> None:
    """A relay that only copies bytes says nothing on joining: one member sends probe lines
    until everybody else has seen one. (Connections opened concurrently may be accepted in
    any order, so one probe could reach the relay before a member was registered.)"""
    prober = members[-1]
    deadline = time.monotonic() + _JOIN_TIMEOUT
    next_probe = 0.0
    while not all(member.sync_seen for member in members[:-1]):
        now = time.monotonic()
        if now > deadline:
            raise RelayError("the relay did not pass the sync probe to every member")
        if now >= next_probe:
            prober.writer.write(_SYNC_LINE)
            next_probe = now + 0.25
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.3)  # probes still on their way arrive before the first message


def close_all(members: list[Member]) -> None:
    for member in members:
        member.close()


async def wait_delivered(members: list[Member], timeout: float, idle: float = 3.0) -> bool:
    """True when every member got what it expects; False after `timeout` seconds, or once
    nothing new has arrived for `idle` seconds (a relay that mangled message heads, such as
    the tutorial relay splicing lines, never completes)."""
    futures = [member.done for member in members if member.done is not None]
    deadline = time.monotonic() + timeout
    last_total, last_change = -1, time.monotonic()
    while True:
        done, pending = await asyncio.wait(futures, timeout=0.1)
        for future in done:
            exc = future.exception()
            if exc is not None:
                raise exc
        if not pending:
            return True
        now = time.monotonic()
        total = sum(member.received for member in members)
        if total != last_total:
            last_total, last_change = total, now
        if now > deadline or now - last_change > idle:
            return False


async def settle(seconds: float) -> None:
    """Let the loop run (answering pings, reading notices) for `seconds`."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(seconds)
