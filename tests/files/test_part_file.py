"""`PartFile`: big `.part` files bypass the page cache (O_DIRECT) yet hold exactly the
bytes that arrived, from any resume offset, and the size never claims more."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from net.files import part_file
from net.files.part_file import STAGE_BYTES, PartFile

PAYLOAD = os.urandom(3 * STAGE_BYTES + 12_345)


def _write_in_odd_pieces(part: PartFile, data: bytes) -> None:
    view, sizes, n = memoryview(data), (1, 4095, 70_000, STAGE_BYTES + 3, 17), 0
    while view:
        size = sizes[n % len(sizes)]
        part.write(view[:size])
        view = view[size:]
        n += 1


def _direct_possible(folder: Path) -> bool:
    probe = PartFile(folder / "probe", 0, 1, direct_min=0)
    try:
        return probe.direct
    finally:
        probe.close()
        (folder / "probe").unlink()


@pytest.mark.parametrize("offset", [0, 4096, 777_777])
def test_a_big_part_is_written_directly_with_every_byte_in_place(tmp_path: Path, offset: int) -> None:
    if not _direct_possible(tmp_path):
        pytest.skip("this file system takes no O_DIRECT writes")
    path = tmp_path / "big.part"
    path.write_bytes(PAYLOAD[:offset])  # what an interrupted transfer left
    part = PartFile(path, offset, len(PAYLOAD) - offset, direct_min=0)
    assert part.direct
    _write_in_odd_pieces(part, PAYLOAD[offset:])
    part.flush()
    assert path.read_bytes() == PAYLOAD
    part.close()
    assert path.read_bytes() == PAYLOAD


def test_the_size_only_covers_bytes_written_in_order(tmp_path: Path) -> None:
    if not _direct_possible(tmp_path):
        pytest.skip("this file system takes no O_DIRECT writes")
    path = tmp_path / "big.part"
    part = PartFile(path, 0, len(PAYLOAD), direct_min=0)
    part.write(PAYLOAD[: 2 * STAGE_BYTES + 100])
    size = path.stat().st_size  # stages still on their way may be missing, never more
    assert size <= 2 * STAGE_BYTES and path.read_bytes()[:size] == PAYLOAD[:size]
    part.close()  # what was staged is written on close: a resume starts after it
    assert path.read_bytes() == PAYLOAD[: 2 * STAGE_BYTES + 100]


def test_small_files_and_systems_without_o_direct_go_through_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = PartFile(tmp_path / "small.part", 0, 1000)
    assert not small.direct
    small.write(b"x" * 1000)
    small.close()
    assert (tmp_path / "small.part").read_bytes() == b"x" * 1000
    monkeypatch.setattr(part_file, "_O_DIRECT", 0)
    big = PartFile(tmp_path / "big.part", 0, len(PAYLOAD), direct_min=0)
    assert not big.direct
    _write_in_odd_pieces(big, PAYLOAD)
    big.close()
    assert (tmp_path / "big.part").read_bytes() == PAYLOAD


def test_a_failing_disk_write_is_raised_to_the_writer(tmp_path: Path) -> None:
    if not _direct_possible(tmp_path):
        pytest.skip("this file system takes no O_DIRECT writes")
    part = PartFile(tmp_path / "big.part", 0, len(PAYLOAD), direct_min=0)
    assert part._disk is not None
    os.close(part._disk._fd)  # the disk's descriptor breaks: its write fails with EBADF
    part._disk._fd = os.open(os.devnull, os.O_RDONLY)
    with pytest.raises(OSError):
        _write_in_odd_pieces(part, PAYLOAD)
        part.flush()
    part.close()


def test_a_file_system_refusing_direct_writes_gets_them_through_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _direct_possible(tmp_path):
        pytest.skip("this file system takes no O_DIRECT writes")
    fcntl = pytest.importorskip("fcntl")
    real = part_file._write_runs
    refused: list[int] = []

    def picky(fd: int, stages: list) -> None:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            refused.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")  # as a file system needing 64 KiB would
        real(fd, stages)

    monkeypatch.setattr(part_file, "_write_runs", picky)
    part = PartFile(tmp_path / "big.part", 0, len(PAYLOAD), direct_min=0)
    _write_in_odd_pieces(part, PAYLOAD)
    part.close()
    assert refused and (tmp_path / "big.part").read_bytes() == PAYLOAD
