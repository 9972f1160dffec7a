"""The sending end's file work: which files a receiver wants, read in bounded chunks.

`wanted_from` checks a receiver's `W` record against the offer (a hostile receiver may ask
for anything); `stream_files` yields the bytes to send, a header per file and then its
content read into one reusable buffer, so memory stays at one chunk however big the file.
A file that changed since it was offered (another size, or shorter than its size while
being read) stops the transfer with an error instead of sending bytes that would lie.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from net.files.limits import CHUNK_BYTES
from net.files.manifest import Entry
from net.files.stream import file_header


class SendError(Exception):
    """The transfer cannot go on from this side; `code` names why, the text says it."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def wanted_from(entries: list[Entry], body: dict[str, Any]) -> list[tuple[int, int]]:
    """The (index, offset) pairs of a `W` record, checked: files of this offer, each once,
    in order, offsets within their size."""
    want = body.get("want")
    if not isinstance(want, list) or len(want) > len(entries):
        raise SendError("bad_request", "the wanted list is malformed")
    pairs: list[tuple[int, int]] = []
    last = -1
    for item in want:
        if not (isinstance(item, list) and len(item) == 2 and all(type(n) is int for n in item)):
            raise SendError("bad_request", "the wanted list is malformed")
        index, offset = item
        if not last < index < len(entries) or entries[index].is_dir:
            raise SendError("bad_request", f"entry {index} is not a file of this offer, or comes twice")
        if not 0 <= offset <= entries[index].size:
            raise SendError("bad_request", f"offset {offset} is outside file {index}")
        pairs.append((index, offset))
        last = index
    return pairs


def stream_files(
    entries: list[Entry], wanted: list[tuple[int, int]], buffer: bytearray | None = None
) -> Iterator[bytes | memoryview]:
    """The bytes that send `wanted`: per file its `F` header, then its content from the
    offset. A yielded memoryview is only valid until the next item is asked for."""
    buffer = buffer or bytearray(CHUNK_BYTES)
    view = memoryview(buffer)
    for index, offset in wanted:
        entry = entries[index]
        assert entry.source is not None, "a sender's entries know their files"
        length = entry.size - offset
        try:
            handle = open(entry.source, "rb")  # noqa: SIM115 (closed below, also when abandoned)
        except OSError as exc:
            raise SendError("unreadable", f"{entry.path!r} cannot be read: {exc.strerror}") from None
        try:
            if os.fstat(handle.fileno()).st_size != entry.size:
                raise SendError("changed", f"{entry.path!r} changed since it was offered")
            handle.seek(offset)
            if length > CHUNK_BYTES and hasattr(os, "posix_fadvise"):  # read ahead far: all of it is wanted
                os.posix_fadvise(handle.fileno(), offset, length, os.POSIX_FADV_SEQUENTIAL)
            yield file_header(index, offset, length)
            while length:
                got = handle.readinto(view[: min(len(view), length)])
                if not got:
                    raise SendError("changed", f"{entry.path!r} got shorter while it was sent")
                length -= got
                yield view[:got]
        except OSError as exc:
            raise SendError("unreadable", f"{entry.path!r} cannot be read: {exc.strerror}") from None
        finally:
            handle.close()
