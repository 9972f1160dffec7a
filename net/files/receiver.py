"""The receiving end's file work: only inside the chosen folder, `.part` first, hash checked.

`Receiver` is given the chosen folder and a checked manifest. `plan()` makes the folders
and says, per file, from which offset it is wanted: a `.part` left by an interrupted
transfer is resumed from its size, a file already there with the sender's SHA-256 is not
wanted again, and a different file already under that name is never overwritten (the new
one gets `name (1).ext`). Then `begin`/`write`/`end` per file as the stream delivers it:
bytes go to `name.part`, and only when the whole file hashes to the sender's SHA-256 does
it get its real name. A full disk keeps the `.part` and says how much space is missing.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from net.files.manifest import Entry, sha256_of
from net.files.names import UnsafeName, alternative, check_relative, part_path, target_path
from net.files.part_file import PartFile

#: How many `name (n).ext` to try before giving up on a taken name.
MAX_ALTERNATIVES = 100
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class ReceiveError(Exception):
    """The transfer cannot go on; `code` names why (docs/PROTOCOL.md), the text says it."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


class DiskFull(ReceiveError):
    def __init__(self, needed: int, folder: Path) -> None:
        super().__init__(
            "disk_full",
            f"the disk holding {folder} is full: {needed:,} more bytes are needed "
            "(what arrived is kept and the transfer resumes from there)",
        )
        self.needed = needed


@dataclass(slots=True)
class _Planned:
    entry: Entry
    final: Path
    offset: int
    part: Path  # `final` with the `.part` suffix, where the bytes go first


@dataclass(slots=True)
class _Open:
    """The file being received: its plan, its `.part` handle, its hash so far, bytes left."""

    planned: _Planned
    handle: PartFile
    digest: hashlib._Hash
    left: int


class Receiver:
    """Writes one offer's files into `root` (see the module docstring). Not thread-safe."""

    def __init__(self, root: Path, entries: list[Entry]) -> None:
        self.root = Path(root)
        self.entries = entries
        self._planned: dict[int, _Planned] = {}
        self._current: _Open | None = None
        self.done: list[Path] = []  # files received whole, under their final names
        self.already_there = 0  # files found whole before anything was sent

    # -- before the bytes ---------------------------------------------------------------

    def plan(self) -> list[tuple[int, int]]:
        """Make the folders and return the wanted files as (index, offset), in order."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for index, entry in enumerate(self.entries):
                where = target_path(self.root, check_relative(entry.path))
                if entry.is_dir:
                    where.mkdir(exist_ok=True)
                else:
                    self._plan_file(index, entry, where)
        except UnsafeName as exc:
            raise ReceiveError("unsafe_name", str(exc)) from None
        except OSError as exc:
            self._raise_for(exc, self.missing_bytes())
        return [(index, planned.offset) for index, planned in self._planned.items()]

    def _plan_file(self, index: int, entry: Entry, final: Path) -> None:
        for attempt in range(MAX_ALTERNATIVES):
            candidate = alternative(final, attempt)
            if attempt:  # the alternative's name must be as safe as the original
                target_path(
                    self.root, check_relative(candidate.relative_to(os.path.realpath(self.root)).as_posix())
                )
            if not os.path.lexists(candidate):
                part = part_path(candidate)
                if part.is_symlink():
                    part.unlink()  # never written through: a link could lead out of the folder
                offset = part.stat().st_size if part.is_file() and not part.is_symlink() else 0
                if offset > entry.size:  # not the start of this file: start again
                    part.unlink()
                    offset = 0
                self._planned[index] = _Planned(entry, candidate, offset, part)
                return
            if _same_file(candidate, entry):
                self.already_there += 1
                return  # received before: nothing to send
        raise ReceiveError("name_taken", f"{entry.path!r}: {MAX_ALTERNATIVES} names like it are taken")

    def missing_bytes(self) -> int:
        """Bytes still to arrive for the planned files (what a full disk must make room for)."""
        left = sum(p.entry.size - p.offset for p in self._planned.values())
        return left + (self._current.left if self._current else 0)

    # -- the bytes ----------------------------------------------------------------------

    def begin(self, index: int, offset: int, length: int) -> None:
        """The sender starts file `index` at `offset` with `length` bytes; refused unless it
        is a wanted file, from the offset asked for, with exactly the bytes still missing."""
        planned = self._planned.get(index)
        if self._current is not None or planned is None:
            raise ReceiveError("bad_stream", f"file {index} was not asked for")
        if offset != planned.offset or length != planned.entry.size - offset:
            raise ReceiveError(
                "size_mismatch",
                f"{planned.entry.path!r}: the sender sends {length:,} bytes from {offset:,}, "
                f"the offer said {planned.entry.size:,} bytes in all",
            )
        part = planned.part
        try:
            digest = _resumed_hash(part, offset) if offset else hashlib.sha256()
            handle = PartFile(part, offset, length)  # closed by end/abort
        except OSError as exc:
            self._raise_for(exc, self.missing_bytes())
        del self._planned[index]
        self._current = _Open(planned, handle, digest, length)

    def write(self, data: memoryview | bytes) -> None:
        current = self._current
        assert current is not None, "write() outside a file"
        if len(data) > current.left:
            raise ReceiveError("size_mismatch", "the sender sent more bytes than it announced")
        try:
            current.handle.write(data)
        except OSError as exc:
            self._fail_current(exc)
        current.digest.update(data)
        current.left -= len(data)

    def end(self) -> Path:
        """The current file is complete: check its hash and give it its real name."""
        current = self._current
        assert current is not None, "end() outside a file"
        planned, digest, left = current.planned, current.digest, current.left
        try:
            current.handle.flush()  # flushed, not fsynced: a crash loses at most what resume refetches
        except OSError as exc:
            self._fail_current(exc)
        self._close_current()
        part = planned.part
        if left or digest.hexdigest() != planned.entry.sha256:
            part.unlink(missing_ok=True)  # a resumed prefix may be what was wrong: start again
            raise ReceiveError(
                "hash_mismatch",
                f"{planned.entry.path!r} does not match the sender's SHA-256; it was discarded",
            )
        try:
            os.replace(part, planned.final)
        except OSError as exc:
            raise ReceiveError("write_failed", f"cannot name {planned.final}: {exc.strerror}") from None
        self.done.append(planned.final)
        return planned.final

    def finish(self) -> None:
        """The sender says it is done: every wanted file must have come."""
        if self._current is not None or self._planned:
            raise ReceiveError(
                "incomplete", f"the sender stopped with {self.missing_bytes():,} bytes missing"
            )

    def abort(self) -> None:
        """Stop where it is: the `.part` files stay for a resume."""
        self._close_current()

    def _close_current(self) -> None:
        if self._current is not None:
            handle, self._current = self._current.handle, None
            try:
                handle.close()
            except OSError:
                pass

    def _fail_current(self, exc: OSError) -> NoReturn:
        """The current file's write failed: close it and say why, with the bytes still
        needed counted from what its `.part` really holds."""
        assert self._current is not None
        planned = self._current.planned
        self._close_current()
        try:
            kept = planned.part.stat().st_size
        except OSError:
            kept = 0
        self._raise_for(exc, planned.entry.size - kept + self.missing_bytes())

    def _raise_for(self, exc: OSError, needed: int) -> NoReturn:
        if exc.errno in _NO_SPACE:
            raise DiskFull(needed, self.root) from None
        raise ReceiveError("write_failed", f"cannot write in {self.root}: {exc.strerror or exc}") from None


def _same_file(path: Path, entry: Entry) -> bool:
    """True when `path` is a plain file with `entry`'s size and SHA-256 (received before)."""
    if not path.is_file() or path.is_symlink() or path.stat().st_size != entry.size:
        return False
    return sha256_of(path)[0] == entry.sha256


def _resumed_hash(part: Path, offset: int) -> hashlib._Hash:
    """A SHA-256 fed with the first `offset` bytes of `part` (what a resumed file already has)."""
    digest = hashlib.sha256()
    with open(part, "rb") as handle:
        left = offset
        while left:
            chunk = handle.read(min(left, 1024 * 1024))
            if not chunk:
                raise ReceiveError("bad_stream", f"{part.name} is shorter than planned")
            digest.update(chunk)
            left -= len(chunk)
    return digest
