"""Sending a burst of datagrams to one address with as few system calls as Linux allows.

Most of the UDP host's time in a fan-out went to the kernel, one `sendto` per datagram
(about 5 us each on loopback, half the host's budget). Linux can take many datagrams for
one address in one call (UDP generic segmentation offload, the `UDP_SEGMENT` option):
the buffer is cut into datagrams of one fixed size, the last one may be shorter. Bundles
are padded to that size with LF bytes, which receivers drop (`docs/PROTOCOL.md`, "UDP
transport"), so a member's bundles of one round go out in one call. Anything else (acks,
pieces of large messages, single messages) is sent with `sendto` as before, in order.

The host builds each call's buffer straight from a channel's fragments (`burst_calls`, via
`Channel.poll_burst`: one copy per datagram, and all of a poll's datagrams share one
header, which lets a receiver of the coalesced burst skip re-parsing it, see
`Channel.receive_segments`); `plan` does the same from finished datagrams.

Where the option is missing (other systems, old kernels), the first refusal switches it
off for good and every datagram goes out with `sendto`.
"""

from __future__ import annotations

import logging
import socket
import struct
import sys

from net.addresses import SockAddr
from net.udp.fragments import Fragment
from net.udp.wire import DATA_FIELDS, FIXED_HEADER_BYTES, MAX_DATAGRAM_BYTES, SEQ_MODULO, Kind

log = logging.getLogger(__name__)

#: Linux's option number (include/uapi/linux/udp.h); not in Python's socket module before 3.12.
UDP_SEGMENT = getattr(socket, "UDP_SEGMENT", 103)
#: Segments per call at most: the kernel takes 64 (UDP_MAX_SEGMENTS), and the whole buffer
#: must stay a valid UDP payload (65,507 bytes: 54 segments of 1,200).
MAX_SEGMENTS = 48
_SEGMENT_SIZE = struct.Struct("=H")
_PAD = b"\n"
_PADDING = _PAD * MAX_DATAGRAM_BYTES
_SEQ_MASK = SEQ_MODULO - 1


def is_bundle(datagram: bytes) -> bool:
    """True for a DATA datagram that carries a bundle (count 0): LF padding is harmless there."""
    if len(datagram) < FIXED_HEADER_BYTES or datagram[5] != Kind.DATA:
        return False
    count_at = FIXED_HEADER_BYTES + datagram[7] + DATA_FIELDS.size - 2
    return datagram[count_at : count_at + 2] == b"\0\0"


def plan(datagrams: list[bytes]) -> list[tuple[int, list[bytes]]]:
    """The calls that send `datagrams` in order: (segment size, [datagram]) for a lone
    datagram (size 0: plain `sendto`), or (size, padded bundles) for a run of two or more
    bundles sent at once, each but the last padded to the largest of the run."""
    calls: list[tuple[int, list[bytes]]] = []
    run: list[bytes] = []

    def end_run() -> None:
        if len(run) == 1:
            calls.append((0, [run[0]]))
        elif run:
            size = max(map(len, run))
            padded = [d + _PAD * (size - len(d)) for d in run[:-1]]
            padded.append(run[-1])
            calls.append((size, padded))
        run.clear()

    for datagram in datagrams:
        if is_bundle(datagram):
            run.append(datagram)
            if len(run) == MAX_SEGMENTS:
                end_run()
        else:
            end_run()
            calls.append((0, [datagram]))
    end_run()
    return calls


def burst_calls(header: bytes, fragments: list[Fragment]) -> list[tuple[int, bytes]]:
    """The calls that send `fragments` in order, each as a DATA datagram after `header`:
    (0, datagram) for a lone datagram, (segment size, joined datagrams) for a run of two or
    more bundles, each but the last padded to the largest of the run (as `plan` makes them).

    Every datagram must fit MAX_DATAGRAM_BYTES with this header (a channel makes sure: it
    uses this only for a header without a selective-ack bitmap). The joined buffer is built
    from the header, fields and payload pieces in one `join`: one copy per datagram.
    """
    pack = DATA_FIELDS.pack
    fixed = len(header) + DATA_FIELDS.size
    calls: list[tuple[int, bytes]] = []
    total = len(fragments)
    i = 0
    while i < total:
        fragment = fragments[i]
        end = i + 1
        if fragment.count == 0:
            limit = min(total, i + MAX_SEGMENTS)
            while end < limit and fragments[end].count == 0:
                end += 1
        if end - i == 1:
            calls.append(
                (
                    0,
                    header
                    + pack(fragment.seq & _SEQ_MASK, fragment.index, fragment.count)
                    + fragment.payload,
                )
            )
            i = end
            continue
        run = fragments[i:end]
        largest = max([len(f.payload) for f in run])
        parts: list[bytes] = []
        for f in run:
            payload = f.payload
            parts += (header, pack(f.seq & _SEQ_MASK, 0, 0), payload, _PADDING[: largest - len(payload)])
        parts.pop()  # the last datagram of the run needs no padding
        calls.append((fixed + largest, b"".join(parts)))
        i = end
    return calls


class BurstSender:
    """Sends one peer's datagrams of a round; datagrams the kernel refuses count as lost."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.segmenting = sys.platform.startswith("linux")

    def send(self, datagrams: list[bytes], address: SockAddr) -> None:
        if not self.segmenting or len(datagrams) < 2:
            self._send_each(datagrams, address)
            return
        sendto = self._sock.sendto
        try:
            for size, batch in plan(datagrams):
                if size:
                    option = [(socket.SOL_UDP, UDP_SEGMENT, _SEGMENT_SIZE.pack(size))]
                    try:
                        self._sock.sendmsg([b"".join(batch)], option, 0, address)
                    except (BlockingIOError, InterruptedError):
                        pass  # the kernel's buffer is full: these count as lost and are resent
                    except OSError as exc:
                        if exc.errno in (95, 22, 5, 92):  # EOPNOTSUPP, EINVAL, EIO, ENOPROTOOPT
                            log.info("sending datagrams in bursts is not available here (%s)", exc)
                            self.segmenting = False
                            self._send_each(batch, address)  # padded bundles are valid datagrams
                        else:
                            raise
                else:
                    try:
                        sendto(batch[0], address)
                    except (BlockingIOError, InterruptedError):
                        pass
        except OSError as exc:
            log.debug("cannot send to %s: %s", address, exc.strerror or exc)

    def send_calls(self, calls: list[tuple[int, bytes]], address: SockAddr) -> None:
        """Make the calls of `burst_calls` (or `Channel.poll_burst`): (0, datagram) with `sendto`,
        (segment size, buffer) in one call, or segment by segment where that is not available."""
        sock = self._sock
        try:
            for size, data in calls:
                if not size:
                    try:
                        sock.sendto(data, address)
                    except (BlockingIOError, InterruptedError):
                        pass  # the kernel's buffer is full: it counts as lost and is resent
                    continue
                if self.segmenting:
                    try:
                        sock.sendmsg(
                            [data], [(socket.SOL_UDP, UDP_SEGMENT, _SEGMENT_SIZE.pack(size))], 0, address
                        )
                        continue
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError as exc:
                        if exc.errno not in (95, 22, 5, 92):  # EOPNOTSUPP, EINVAL, EIO, ENOPROTOOPT
                            raise
                        log.info("sending datagrams in bursts is not available here (%s)", exc)
                        self.segmenting = False
                self._send_each([data[start : start + size] for start in range(0, len(data), size)], address)
        except OSError as exc:
            log.debug("cannot send to %s: %s", address, exc.strerror or exc)

    def _send_each(self, datagrams: list[bytes], address: SockAddr) -> None:
        sendto = self._sock.sendto
        for datagram in datagrams:
            try:
                sendto(datagram, address)
            except (BlockingIOError, InterruptedError):
                pass  # the kernel's buffer is full: the datagram counts as lost and is resent
            except OSError as exc:
                log.debug("cannot send to %s: %s", address, exc.strerror or exc)
                return
