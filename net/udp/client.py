"""The UDP client: one I/O thread around a `ClientSession`, like the TCP client.

Each link attempt gets a new socket (connected to the host, so the OS drops datagrams
from anyone else and reports "port unreachable") and a new random connection id. The
thread first opens the connection (OPEN probes until the host answers, the equivalent of
TCP's connect; the host first answers with a RETRY whose token the channel echoes in its
next OPEN, which proves we receive at our address), then runs the session over a reliable
`Channel`: every frame the session writes becomes one channel message, every message the
channel delivers is fed back as one frame. The owner's calls only change the session
under a lock and poke a wake-up socket.

When the channel gives up (the host stopped acknowledging within the retry budget) the
link is down like a broken TCP connection: the session keeps every unacknowledged message
in its outbox and sends it again after it has rejoined.
"""

from __future__ import annotations

import errno
import logging
import secrets
import select
import socket
import time
from collections import deque

from net.addresses import AddrInfo
from net.api import ClientConfig, EventSink, FailureKind, Transport
from net.client.session import LinkVerdict
from net.client.threaded import ThreadedClient
from net.socket_errors import ConnectFailed
from net.udp.channel import Channel, ChannelStats
from net.udp.sockets import DatagramReader, open_client_socket
from net.udp.tuning import UdpTuning
from net.udp.wire import ResetReason, WireError, parse

log = logging.getLogger(__name__)

#: After close(), how long the bye may take to be acknowledged before the socket closes anyway.
_BYE_GRACE = 0.5


class UdpClient(ThreadedClient):
    """A member's UDP connection to a host (implements `net.api.ChatClient`)."""

    thread_label = "udp-client"
    transport = Transport.UDP

    def __init__(
        self,
        config: ClientConfig,
        on_event: EventSink,
        *,
        tuning: UdpTuning | None = None,
        sharing: ThreadedClient | None = None,
    ) -> None:
        super().__init__(config, on_event, sharing=sharing)
        self._tuning = tuning or UdpTuning()
        #: Figures of the latest links (the last one may be live); bounded across reconnects.
        self._stats: deque[ChannelStats] = deque(maxlen=16)

    def channel_stats(self) -> list[ChannelStats]:
        """Figures of every link so far (the last one may still be running)."""
        return list(self._stats)

    def _new_channel(self, now: float) -> Channel:
        config = self._tuning.client_channel_config(give_up_after=self.config.heartbeat_timeout)
        channel = Channel(secrets.randbits(64) | 1, now=now, opener=True, config=config)
        self._stats.append(channel.stats())
        return channel

    def _connect(self) -> tuple[socket.socket, Channel]:
        """Open a connection: OPEN probes to each address of the host until one answers.

        Like a TCP connect, this ends with the host knowing our connection id, or with
        REFUSED (ICMP port unreachable), TIMEOUT or RESOLVE.
        """
        return self._try_addresses(socket.SOCK_DGRAM, self._open_datagram)

    def _open_datagram(self, info: AddrInfo, deadline: float) -> tuple[socket.socket, Channel]:
        family, _kind, _proto, _name, address = info
        sock = open_client_socket(family, address)
        try:
            return sock, self._open(sock, deadline)
        except BaseException:
            sock.close()
            raise

    def _open(self, sock: socket.socket, deadline: float) -> Channel:
        channel = self._new_channel(time.monotonic())
        reader = DatagramReader(sock, connected=True)
        while not channel.heard:
            now = time.monotonic()
            if now >= deadline or self._stopping.is_set():
                raise TimeoutError()
            self._send_all(sock, channel.poll(now))
            wake = channel.next_deadline()
            timeout = deadline - now if wake is None else min(deadline, wake) - now
            readable, _, _ = select.select([sock, self._wakeup.reader], [], [], max(0.0, timeout))
            if self._wakeup.reader in readable:
                self._wakeup.drain()
            if sock in readable:
                self._receive(reader, channel)
        if channel.failure is not None:
            if channel.failure.reset is ResetReason.BUSY:
                raise ConnectFailed(FailureKind.LOST, f"The host at {self._where} is busy; trying again.")
            raise ConnectionRefusedError(errno.ECONNREFUSED, "reset")
        return channel

    def _receive(self, reader: DatagramReader, channel: Channel) -> bytes:
        """Feed every queued datagram to the channel; return what it completed: the TLS
        stream's next bytes, or (in plain text) the frames, each followed by a newline."""
        now = time.monotonic()
        for data, _address in reader.read_batch():
            try:
                datagram = parse(data)
            except WireError as exc:
                log.debug("ignoring a malformed datagram from %s: %s", self._where, exc)
                continue
            if datagram.conn_id != channel.conn_id:
                continue  # an earlier connection's datagram still arriving
            channel.receive(datagram, now)
        self._stats[-1] = channel.stats()
        if self.config.encrypted:
            return b"".join(channel.take_messages())  # pieces of one TLS byte stream
        return channel.take_stream()

    def _send_all(self, sock: socket.socket, datagrams: list[bytes]) -> None:
        for datagram in datagrams:
            try:
                sock.send(datagram)
            except (BlockingIOError, InterruptedError):
                pass  # the kernel's buffer is full: counts as lost, resent later

    def _serve(self, link: tuple[socket.socket, Channel]) -> tuple[FailureKind, str]:
        """Run one link until it ends, close its socket, and return why it ended."""
        sock, channel = link
        reader = DatagramReader(sock, connected=True)
        with self._lock:
            self._session.link_up(time.monotonic())
        try:
            while True:
                stopping = self._stopping.is_set()  # before the take: `close` queues the bye, then sets it
                with self._lock:
                    output = self._session.take_output()
                    wait = self._session.next_wakeup(time.monotonic())
                self._dispatch()
                self._hand_over(channel, output)
                if stopping:
                    self._say_goodbye(sock, reader, channel)
                    return FailureKind.CLOSED, "left the chat"
                now = time.monotonic()
                self._send_all(sock, channel.poll(now))
                if channel.failure is not None:
                    return self._channel_failed(channel)
                deadline = channel.next_deadline()
                if deadline is not None:
                    wait = min(wait, max(0.0, deadline - now))
                readable, _, _ = select.select([sock, self._wakeup.reader], [], [], wait)
                if self._wakeup.reader in readable:
                    self._wakeup.drain()
                if sock in readable:
                    messages = self._receive(reader, channel)
                    if messages and self._feed(messages) is LinkVerdict.CLOSE:
                        with self._lock:  # a bye queued by `close` while this batch was read
                            self._hand_over(channel, self._session.take_output())
                        self._say_goodbye(sock, reader, channel)
                        return FailureKind.LOST, "the connection was closed"
                with self._lock:
                    verdict = self._session.tick(time.monotonic())
                if verdict is LinkVerdict.CLOSE:
                    self._hang_up(sock, channel)
                    return FailureKind.LOST, "the host stopped answering"
        except ConnectionRefusedError:
            return FailureKind.LOST, "the host is gone (its port is closed)"
        except OSError as exc:
            return FailureKind.LOST, f"the connection was lost ({exc.strerror or exc})"
        finally:
            self._stats[-1] = channel.stats()
            sock.close()

    def _feed(self, data: bytes) -> LinkVerdict:
        """Hand the session every message of a batch at once (each followed by a newline: one frame)."""
        with self._lock:
            return self._session.receive_data(data, time.monotonic())

    def _hand_over(self, channel: Channel, output: bytes) -> None:
        """What the session wrote, as channel messages."""
        if self.config.encrypted:
            if output:
                channel.send_stream(output)  # TLS records, in pieces any host accepts
        else:
            self._queue_frames(channel, output)

    @staticmethod
    def _queue_frames(channel: Channel, output: bytes) -> None:
        """Each frame the session wrote becomes one channel message (newline implied)."""
        for frame in output.split(b"\n"):
            if frame:
                channel.send(frame)

    def _channel_failed(self, channel: Channel) -> tuple[FailureKind, str]:
        failure = channel.failure
        assert failure is not None
        if failure.reset is ResetReason.UNKNOWN_CONNECTION:
            return FailureKind.LOST, "the host no longer knows this connection (it restarted?)"
        if failure.reset is not None:
            return FailureKind.LOST, "the host closed the connection"
        if failure.undelivered:
            log.info(
                "link to %s failed with %d messages unacknowledged", self._where, len(failure.undelivered)
            )
        return FailureKind.LOST, "the host stopped answering"

    def _hang_up(self, sock: socket.socket, channel: Channel) -> None:
        """Acknowledge what arrived, then tell the host this connection is finished."""
        try:
            self._send_all(sock, channel.poll(time.monotonic()))
            sock.send(channel.reset_datagram(ResetReason.CLOSED))
        except OSError:
            pass

    def _say_goodbye(self, sock: socket.socket, reader: DatagramReader, channel: Channel) -> None:
        """Best effort: let the bye be acknowledged (within _BYE_GRACE), then hang up."""
        deadline = time.monotonic() + _BYE_GRACE
        try:
            while not channel.sender.idle and channel.failure is None:
                now = time.monotonic()
                if now >= deadline:
                    break
                self._send_all(sock, channel.poll(now))
                wake = channel.next_deadline()
                timeout = deadline - now if wake is None else min(deadline, max(now, wake)) - now
                readable, _, _ = select.select([sock], [], [], max(0.0, timeout))
                if readable:
                    self._receive(reader, channel)
            self._hang_up(sock, channel)
        except OSError:
            pass
