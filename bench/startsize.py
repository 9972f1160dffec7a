"""Workload 6: start-up time to a mapped window, and size, of the packaged builds.

The timing itself is `bench.startup.measure_startup(executable) -> seconds`, written with
the packaging work (it knows how the window reports being mapped). This module finds the
builds in dist/ (made by `make build`; the benchmark does not build them, that takes
minutes) and adds their sizes.
"""

from __future__ import annotations

import importlib
import os
import statistics
from pathlib import Path

from bench import procs

DIST = procs.REPO / "dist"
MB = 1_000_000
RUNS = 3


def _executables(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and os.access(p, os.X_OK) and p.suffix in ("", ".exe")
    )


def find_build(kind: str) -> tuple[Path, int]:
    """(executable, bytes on disk) of the one-dir or one-file build in dist/."""
    if not DIST.is_dir():
        raise procs.Unavailable("no dist/ folder: build the executables with `make build` first")
    if kind == "onefile":
        files = _executables(DIST)
        files.sort(key=lambda p: "onefile" not in p.name.lower())
        if not files:
            raise procs.Unavailable("no one-file build in dist/ (run `make build`)")
        return files[0], files[0].stat().st_size
    for folder in sorted(p for p in DIST.iterdir() if p.is_dir()):
        inside = _executables(folder)
        named = [p for p in inside if p.stem.lower() == folder.name.lower()] or inside
        if named:
            size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
            return named[0], size
    raise procs.Unavailable("no one-dir build in dist/ (run `make build`)")


def run_startup(kind: str) -> dict:
    try:
        measure = importlib.import_module("bench.startup").measure_startup
    except (ImportError, AttributeError) as exc:
        raise procs.Unavailable(f"bench/startup.py (measure_startup) is not there yet ({exc})") from None
    executable, size = find_build(kind)
    times = [measure(str(executable)) for _ in range(RUNS)]
    return {
        "workload": "startup",
        "build": kind,
        "executable": str(executable.relative_to(procs.REPO)),
        "seconds": round(statistics.median(times), 3),
        "runs": [round(t, 3) for t in times],
        "size_mb": round(size / MB, 1),
    }
