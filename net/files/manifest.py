"""What an offer holds: its entries (folders and files), their sizes and SHA-256s.

The sender builds a manifest from local paths (`build_manifest`): folders are walked
without following links, a link to a file inside the sent folder goes as that file's
content and any other link is skipped (never followed out of the folder). The receiver
checks one received from the wire (`entry_from_wire`, `Manifest.check`) before it creates
anything: safe names, no duplicates, no file inside a file, sizes within bounds.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from net.files.limits import CHUNK_BYTES, MAX_ENTRIES, MAX_FILE_BYTES
from net.files.names import UnsafeName, check_component, check_relative, wire_name

_HEX64 = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """An offer that cannot be built (sender) or accepted (receiver); the text says why."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One folder (`sha256` None, size 0) or file of an offer; `path` is its wire name."""

    path: str
    size: int = 0
    sha256: str | None = None
    source: Path | None = field(default=None, compare=False)  # the sender's local file

    @property
    def is_dir(self) -> bool:
        return self.sha256 is None

    def to_wire(self) -> dict[str, Any]:
        if self.is_dir:
            return {"path": self.path, "dir": True}
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(slots=True)
class Manifest:
    entries: list[Entry]
    skipped: list[str] = field(default_factory=list)  # sender side: links not sent

    @property
    def files(self) -> int:
        return sum(1 for entry in self.entries if not entry.is_dir)

    @property
    def total(self) -> int:
        return sum(entry.size for entry in self.entries)

    def top_names(self, limit: int) -> list[str]:
        """The distinct first components, in order: what an offer shows."""
        names: dict[str, None] = {}
        for entry in self.entries:
            names.setdefault(entry.path.split("/")[0], None)
            if len(names) >= limit:
                break
        return list(names)

    def check(self, max_entries: int = MAX_ENTRIES) -> None:
        """Refuse a manifest a receiver must not create: too many entries, a name twice
        (also differing only in case, as Windows and macOS see it), a path below a file."""
        if len(self.entries) > max_entries:
            raise ManifestError(f"the offer holds more than {max_entries} entries")
        seen: dict[str, bool] = {}
        for entry in self.entries:
            key = entry.path.casefold()
            if key in seen:
                raise ManifestError(f"the name {entry.path!r} comes twice")
            parts = key.split("/")
            for depth in range(1, len(parts)):
                if seen.get("/".join(parts[:depth])) is False:
                    raise ManifestError(f"{entry.path!r} is inside a file")
            seen[key] = entry.is_dir


def entry_from_wire(obj: Any) -> Entry:
    """A received entry, checked (UnsafeName or ManifestError when it must be refused)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("path"), str):
        raise ManifestError("a manifest entry without a path")
    path = wire_name(check_relative(obj["path"]))
    if obj.get("dir") is True:
        return Entry(path)
    size, digest = obj.get("size"), obj.get("sha256")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_FILE_BYTES:
        raise ManifestError(f"{path!r} has no valid size")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise ManifestError(f"{path!r} has no valid SHA-256")
    return Entry(path, size, digest)


def sha256_of(path: Path, *, limit: int | None = None) -> tuple[str, int]:
    """The SHA-256 of `path` (of its first `limit` bytes), read in bounded chunks, and the
    number of bytes read."""
    digest = hashlib.sha256()
    count = 0
    buffer = bytearray(CHUNK_BYTES)
    view = memoryview(buffer)
    with open(path, "rb") as handle:
        while limit is None or count < limit:
            want = CHUNK_BYTES if limit is None else min(CHUNK_BYTES, limit - count)
            got = handle.readinto(view[:want])
            if not got:
                break
            digest.update(view[:got])
            count += got
    return digest.hexdigest(), count


def build_manifest(
    paths: Iterable[Path],
    *,
    max_entries: int = MAX_ENTRIES,
    hash_file: Callable[[Path], tuple[str, int]] = sha256_of,
) -> Manifest:
    """The manifest of local files and folders (each sent under its own name).

    Raises ManifestError for a path that does not exist, two top-level names alike, a name
    another member could not create, or more than `max_entries` entries."""
    manifest = Manifest([])
    for path in paths:
        path = Path(os.path.abspath(path))
        if not path.exists():
            raise ManifestError(f"{path} does not exist")
        if path.is_dir() and not path.is_symlink():
            _add_folder(manifest, path, max_entries, hash_file)
        else:
            _add_file(manifest, path, (_checked(path.name),), max_entries, hash_file)
    manifest.check(max_entries)
    return manifest


def _checked(name: str) -> str:
    try:
        return check_component(name)
    except UnsafeName as exc:
        raise ManifestError(f"cannot be sent: {exc}") from None


def _add_file(
    manifest: Manifest,
    path: Path,
    parts: tuple[str, ...],
    cap: int,
    hash_file: Callable[[Path], tuple[str, int]],
) -> None:
    if len(manifest.entries) >= cap:
        raise ManifestError(f"more than {cap} files and folders")
    digest, size = hash_file(path)
    manifest.entries.append(Entry(wire_name(parts), size, digest, path))


def _add_folder(
    manifest: Manifest, root: Path, cap: int, hash_file: Callable[[Path], tuple[str, int]]
) -> None:
    real_root = os.path.realpath(root)
    base = (_checked(root.name),)
    manifest.entries.append(Entry(wire_name(base)))
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        relative = Path(folder).relative_to(root).parts
        for name in list(dirs):
            full = Path(folder, name)
            if full.is_symlink():  # os.walk does not descend into it; say it was left out
                dirs.remove(name)
                manifest.skipped.append(str(full))
                continue
            if len(manifest.entries) >= cap:
                raise ManifestError(f"more than {cap} files and folders")
            manifest.entries.append(Entry(wire_name(base + relative + (_checked(name),))))
        for name in sorted(files):
            full = Path(folder, name)
            if full.is_symlink():
                target = os.path.realpath(full)
                inside = os.path.commonpath([real_root, target]) == real_root
                if not (inside and os.path.isfile(target)):
                    manifest.skipped.append(str(full))
                    continue
                full = Path(target)  # a link to a file in the folder: sent as its content
            elif not full.is_file():
                manifest.skipped.append(str(full))  # sockets, fifos, devices
                continue
            _add_file(manifest, full, base + relative + (_checked(name),), cap, hash_file)
