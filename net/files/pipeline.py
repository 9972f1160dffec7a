"""The receiving pipeline: one thread reads the TLS stream in large blocks, another writes.

Why two threads and large blocks: `SSLSocket.recv_into` returns at most one TLS record
(16 KiB) a call, and decoding, writing and hashing each record on the reading thread
halved the throughput, while handing each 16 KiB record to a writer thread cost more in
handovers than it saved. So the reader loops `recv_into` to fill a block of
`BLOCK_BYTES` (it hands a block over early only when nothing more is waiting, so a slow
link still reports progress; it asks whether more is waiting after a short record, or
after `LOOK_AFTER` seconds of full ones, not after every record: asking a 1 GiB fetch's
65,536 times cost more CPU than its file writes), and the consumer decodes, writes and hashes whole blocks:
`file.write` and `hashlib`'s update of a large buffer release the GIL, so they overlap
with the next reads. Memory is bounded: `BLOCKS` buffers per fetch, reused.
"""

from __future__ import annotations

import queue
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable

from net.files.sockets import lower_priority, shut_down
from net.files.stream import StreamError

#: Bytes of one block handed from the reader to the consumer.
BLOCK_BYTES = 1024 * 1024
#: Blocks per fetch (being read, waiting, being written): the fetch's whole buffer.
BLOCKS = 3
#: Plaintext of a full TLS record: a bulk stream arrives in these.
FULL_RECORD = 16 * 1024
#: Seconds a block is filled from full records before checking whether more is waiting.
LOOK_AFTER = 0.05

_END = None


def pump(
    sock: ssl.SSLSocket,
    consume: Callable[[memoryview], bool],
    cancelled: threading.Event,
    *,
    blocks: int = BLOCKS,
    block_bytes: int = BLOCK_BYTES,
) -> None:
    """Read `sock` and feed it to `consume` (on a thread of its own) until `consume`
    returns True (the stream is complete). Raises what `consume` raises, StreamError
    `lost` when the stream ends first, and the reads' OSError/SSLError."""
    free: queue.Queue[bytearray] = queue.Queue()
    for _ in range(blocks):
        free.put(bytearray(block_bytes))
    full: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()  # at most `blocks` + 1
    failure: list[BaseException] = []
    complete = threading.Event()
    finished = threading.Event()

    def work() -> None:
        try:
            lower_priority()
            while (item := full.get()) is not _END:
                block, size = item
                try:
                    done = consume(memoryview(block)[:size])
                finally:
                    free.put(block)
                if done:
                    complete.set()
                    return
        except BaseException as exc:  # handed to the reading thread, which raises it
            failure.append(exc)
        finally:
            finished.set()
            shut_down(sock)  # wakes the reader (the sender may keep its end open)

    worker = threading.Thread(target=work, name="fetch writer", daemon=True)
    worker.start()
    read_error: BaseException | None = None
    try:
        _read(sock, free, full, finished, cancelled)
    except (OSError, ssl.SSLError) as exc:
        read_error = exc
    finally:
        full.put(_END)
        worker.join()
    if failure:
        raise failure[0]
    if complete.is_set():
        return
    if read_error is not None:
        raise read_error
    raise StreamError("lost", "the sender closed the stream before the end")


def _read(
    sock: ssl.SSLSocket,
    free: queue.Queue[bytearray],
    full: queue.Queue[tuple[bytearray, int] | None],
    finished: threading.Event,
    cancelled: threading.Event,
) -> None:
    """Fill free blocks from `sock` and queue them until the end, the consumer stops, or a
    cancel."""
    while not finished.is_set() and not cancelled.is_set():
        try:
            block = free.get(timeout=0.2)
        except queue.Empty:
            continue  # the consumer is busy (a slow disk): check whether it stopped
        view = memoryview(block)
        filled = 0
        ended = False
        look_after = time.monotonic() + LOOK_AFTER
        while filled < len(block):
            count = sock.recv_into(view[filled:])
            if not count:
                ended = True
                break
            filled += count
            streaming = count == FULL_RECORD and time.monotonic() < look_after
            if not streaming and not sock.pending() and not _readable(sock):
                break  # nothing more is waiting: hand over what came
        if filled:
            full.put((block, filled))
        else:
            free.put(block)
        if ended:
            return


def _readable(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)
