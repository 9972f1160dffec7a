"""The lean UDP load generator: members on one asyncio loop, speaking the real datagram protocol.

Each member is a `bench.loadgen.Member` (the same counting, sampling, window and ping
answers as over TCP) whose byte stream runs over a real `net.udp.channel.Channel` on its
own connected UDP socket instead of a TCP connection. Everything a UDP client does on the
wire happens here too (OPEN probes, echoing the token of the host's RETRY, fragments and
bundles, acks with selective-ack bitmaps, retransmission timers, the receive window; the
channel does all of it, a RETRY is one more datagram `on_readable` feeds it and that marks
the link for the next flush); what is left out is the client's
thread, session and JSON decoding of every delivery, which the TCP generator leaves out as
well. Receiving takes the messages a channel completed as one stream (bundles as they
arrived, LF-separated, not split into messages), and the loadgen's `bytes.count` scan
counts them without parsing.

Sending and acknowledging are coalesced per loop iteration: datagrams read in one go mark
their channels dirty, and one callback per iteration takes every dirty channel's messages
and writes what it has to send (so a member acknowledges a burst with one datagram, as the
threaded client does per `select` wake-up). Timers (retransmission, tail probes) are
checked every few milliseconds.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import sys
import time

from bench import loadgen
from net.udp.channel import Channel
from net.udp.sockets import open_client_socket
from net.udp.tuning import UdpTuning
from net.udp.wire import MAX_DATAGRAM_BYTES

#: How often channels' timers are looked at (a LAN round trip is well under this).
_TIMER_TICK = 0.005
#: Datagrams read from one socket per readiness callback before others get a turn.
_READ_BATCH = 64
#: A member's sending pauses while this many message bytes are queued or in flight.
_BACKLOG_HIGH_WATER = 256 * 1024
_HEARTBEAT_TIMEOUT = 30.0
#: Receive size: above the largest valid datagram, so an oversized one still arrives oversized
#: (and is refused by `parse`), but far below 64 KiB (recv allocates, then shrinks, that much).
_RECEIVE_BYTES = 2 * MAX_DATAGRAM_BYTES
#: Members saying hello at once: fewer than the host's limit of connections still in the handshake.
_JOIN_GROUP = 32
_JOIN_TIMEOUT = 30.0


#: Linux's receive offload for UDP (include/uapi/linux/udp.h; not in Python's socket module).
_UDP_GRO = getattr(socket, "UDP_GRO", 104)
#: A coalesced read holds up to 64 KiB of equal-size datagrams (the last may be shorter).
_COALESCED_BYTES = 65_535
_GRO_ANCILLARY_BYTES = socket.CMSG_SPACE(4) if hasattr(socket, "CMSG_SPACE") else 0


def _receive_coalesced(sock: socket.socket) -> bool:
    """Ask Linux to hand over a burst of datagrams (the host sends bundles in bursts, see
    `net.udp.burst`) in one read, with their size in a control message: the generator then
    pays one system call per burst instead of one per datagram, as it must not be the limit."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        sock.setsockopt(socket.SOL_UDP, _UDP_GRO, 1)
    except OSError:
        return False
    return True


def _segment_size(ancillary: list | tuple) -> int:
    """The size of the datagrams a coalesced read holds (0 when it holds one datagram)."""
    for level, kind, value in ancillary:
        if level == socket.SOL_UDP and kind == _UDP_GRO:
            return int.from_bytes(value[:4].ljust(4, b"\0"), sys.byteorder)
    return 0


class UdpLink:
    """One member's connection: socket, channel, and the endpoint interface `Member` writes to."""

    def __init__(self, hub: Hub, member: loadgen.Member, port: int) -> None:
        self.hub = hub
        self.member = member
        self.sock = open_client_socket(socket.AF_INET, ("127.0.0.1", port))
        self.coalescing = _receive_coalesced(self.sock)
        config = UdpTuning().client_channel_config(give_up_after=_HEARTBEAT_TIMEOUT)
        self.channel = Channel(secrets.randbits(64) | 1, now=time.monotonic(), opener=True, config=config)
        self._writable = asyncio.Event()
        self._writable.set()
        self.broken: str | None = None
        self.datagrams_in = 0  # from the host, of any kind
        self.reads = 0  # system calls that read them (fewer when bursts arrive coalesced)
        self.datagrams_out = 0

    # -- the endpoint interface of bench.loadgen ----------------------------------------------

    def write(self, data: bytes) -> None:
        """Frames (newline-terminated) from the member: each becomes one channel message."""
        send = self.channel.send
        for frame in data.split(b"\n"):
            if frame:
                send(frame)
        self.hub.dirty(self)
        if self.channel.sender.backlog_bytes > _BACKLOG_HIGH_WATER:
            self._writable.clear()

    @property
    def paused(self) -> bool:
        return not self._writable.is_set()

    async def writable(self) -> None:
        await self._writable.wait()

    def close(self) -> None:
        if self.sock.fileno() >= 0:
            self.hub.loop.remove_reader(self.sock.fileno())
            self.sock.close()

    # -- I/O ---------------------------------------------------------------------------------

    def on_readable(self) -> None:
        sock, receive_segments = self.sock, self.channel.receive_segments
        now = time.monotonic()
        got = 0
        for _ in range(_READ_BATCH):
            try:
                if self.coalescing:
                    data, ancillary, _, _ = sock.recvmsg(_COALESCED_BYTES, _GRO_ANCILLARY_BYTES)
                else:
                    data, ancillary = sock.recv(_RECEIVE_BYTES), ()
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._fail(f"the host is gone ({exc})")
                return
            self.reads += 1
            got += receive_segments(data, _segment_size(ancillary) or len(data), now)
        if got:
            self.datagrams_in += got
            self.hub.dirty(self)

    def flush(self, now: float) -> None:
        """Deliver completed messages to the member, then send what the channel has due."""
        channel = self.channel
        stream = channel.take_stream()  # bundles as received: no per-message work
        if stream:
            self.member.on_data(stream)
        send = self.sock.send
        datagrams = channel.poll(now)
        self.datagrams_out += len(datagrams)
        for datagram in datagrams:
            try:
                send(datagram)
            except (BlockingIOError, InterruptedError):
                pass  # counts as lost; the channel resends it
            except OSError as exc:
                self._fail(f"the host is gone ({exc})")
                return
        if channel.failure is not None:
            self._fail(channel.failure.reason)
        elif self.paused and channel.sender.backlog_bytes <= _BACKLOG_HIGH_WATER // 2:
            self._writable.set()

    def _fail(self, reason: str) -> None:
        if self.broken is None:
            self.broken = reason
            self._writable.set()
            self.member.on_lost(ConnectionError(reason))


class Hub:
    """The links of one process: readers, the once-per-iteration flush, and the timer task."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.links: list[UdpLink] = []
        self._dirty: dict[UdpLink, None] = {}
        self._flush_scheduled = False
        self._timer: asyncio.Task | None = None

    def add(self, member: loadgen.Member, port: int) -> UdpLink:
        link = UdpLink(self, member, port)
        self.links.append(link)
        self.loop.add_reader(link.sock.fileno(), link.on_readable)
        member.inbound = link  # type: ignore[assignment]
        if self._timer is None:
            self._timer = asyncio.ensure_future(self._timers())
        return link

    def dirty(self, link: UdpLink) -> None:
        self._dirty[link] = None
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        now = time.monotonic()
        # Delivering may credit windows and make members write, which marks links dirty again:
        # those are sent in the next iteration, after the senders' tasks have run.
        dirty, self._dirty = self._dirty, {}
        for link in dirty:
            if link.broken is None:
                link.flush(now)

    async def _timers(self) -> None:
        while True:
            await asyncio.sleep(_TIMER_TICK)
            now = time.monotonic()
            for link in self.links:
                deadline = link.channel.next_deadline()
                if deadline is not None and deadline <= now and link.broken is None:
                    self.dirty(link)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for link in self.links:
            link.close()
        self.links.clear()


async def join_all(hub: Hub, members: list[loadgen.Member], port: int) -> None:
    """Open every member's connection, say hello at once (the OPEN flag rides on the hello's
    datagram) and wait for every welcome."""
    for start in range(0, len(members), _JOIN_GROUP):
        group = members[start : start + _JOIN_GROUP]
        for member in group:
            hub.add(member, port).write(member.dialect.greeting(member.index))
        for member in group:
            assert member.joined is not None
            await asyncio.wait_for(member.joined, _JOIN_TIMEOUT)
