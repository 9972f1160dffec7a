"""Splitting a byte stream into newline-terminated frames, with a hard cap on buffering."""

from __future__ import annotations

from net.protocol.errors import DecodeError

_LF, _CR = ord("\n"), ord("\r")


class LineFramer:
    """Collects received bytes and hands out complete lines.

    `recv` returns arbitrary slices, so nothing is decoded here: a multi-byte character
    split across two reads is only decoded once its frame is complete. An incomplete frame
    longer than the cap is an error at once, so a peer that never sends a newline cannot
    make us buffer without bound.
    """

    __slots__ = ("_buffer", "_max_frame_bytes")

    def __init__(self, max_frame_bytes: int) -> None:
        self._buffer = bytearray()
        self._max_frame_bytes = max_frame_bytes

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add `data`; return the frames it completed (blank lines and a trailing CR dropped)."""
        buffer = self._buffer
        buffer += data
        # Only the new bytes can hold a newline (the buffer never keeps one), so a frame
        # trickling in a byte at a time costs linear, not quadratic, time.
        if _LF not in data:  # (an int: a memchr, several times faster than a one-byte string)
            self._check_pending()
            return []
        end = buffer.rfind(b"\n")
        chunk = bytes(buffer[:end])
        del buffer[: end + 1]
        self._check_pending()
        lines = chunk.split(b"\n")
        if len(chunk) <= self._max_frame_bytes and _CR not in chunk and b"" not in lines:
            return lines  # the usual case, checked in C: no CR, no blank line, none too long
        frames = []
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                continue
            if len(line) > self._max_frame_bytes:
                raise DecodeError("frame_too_large", f"frame exceeds {self._max_frame_bytes} bytes")
            frames.append(line)
        return frames

    def _check_pending(self) -> None:
        pending = len(self._buffer)
        if pending == self._max_frame_bytes + 1 and self._buffer.endswith(b"\r"):
            return  # a frame of exactly the cap whose CRLF was split between reads
        if pending > self._max_frame_bytes:
            self._buffer.clear()
            raise DecodeError("frame_too_large", f"frame exceeds {self._max_frame_bytes} bytes")
