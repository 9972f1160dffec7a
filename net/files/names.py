"""Which received names are safe to create, and where: nothing outside the chosen folder.

A name on the wire is a relative path with `/` between components. Every component is
judged on its own, against the strictest of the file systems a member may run (Windows):
a name that Windows would refuse or reinterpret is refused everywhere, so a folder that
one member can receive every other member can too (iptux #655).
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from net.files.limits import MAX_DEPTH, MAX_NAME_BYTES, MAX_PATH_BYTES, PART_SUFFIX


class UnsafeName(ValueError):
    """A name that must not be created; the text says why (for the user and the log)."""


#: Device names Windows reserves in every folder, with any extension (`NUL.txt` too).
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{device}{n}" for device in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]
}
#: Characters Windows refuses in names (and `\`, a separator there), plus C0/C1 controls.
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"\\|?*]')


def check_component(component: str) -> str:
    """`component` if it is a safe single name, else UnsafeName saying why."""
    if component in ("", ".", ".."):
        raise UnsafeName(f"the name {component!r} is not a file name")
    if _FORBIDDEN.search(component):
        raise UnsafeName(f'the name {component!r} holds a control character or one of <>:"\\|?*')
    if any(unicodedata.category(char) == "Cs" for char in component):
        raise UnsafeName("the name holds an invalid code point")
    if len(component.encode("utf-8")) > MAX_NAME_BYTES:
        raise UnsafeName(f"a name is longer than {MAX_NAME_BYTES} bytes")
    if component.endswith((" ", ".")):
        raise UnsafeName(f"the name {component!r} ends in a space or a dot (Windows drops them)")
    if component.split(".")[0].rstrip(" ").upper() in _RESERVED:
        raise UnsafeName(f"the name {component!r} is reserved on Windows")
    return component


def check_relative(path: str) -> tuple[str, ...]:
    """The components of the relative `path` (`/`-separated) if every one is safe.

    Refused: absolute paths, drive letters (`C:x`, `C:\\x`), UNC paths, `..` and `.`,
    empty components, and paths longer than MAX_PATH_BYTES or deeper than MAX_DEPTH."""
    if not path:
        raise UnsafeName("an empty name")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise UnsafeName(f"a path is longer than {MAX_PATH_BYTES} bytes")
    if path.startswith("/"):
        raise UnsafeName(f"the absolute path {path[:80]!r} is refused")
    components = tuple(path.split("/"))
    if len(components) > MAX_DEPTH:
        raise UnsafeName(f"a path is deeper than {MAX_DEPTH} folders")
    for component in components:
        check_component(component)  # also refuses ':' (drive letters) and '\' (UNC, Windows)
    return components


def wire_name(parts: tuple[str, ...] | list[str]) -> str:
    """The wire form of a relative path."""
    return "/".join(parts)


def target_path(root: Path, components: tuple[str, ...]) -> Path:
    """Where `components` (already checked) go inside `root`, or UnsafeName when something
    already on disk (a symlink, a junction) would lead the write out of `root`."""
    real_root = os.path.realpath(root)
    candidate = os.path.join(real_root, *components)
    parent = os.path.realpath(os.path.dirname(candidate))
    if os.path.commonpath([real_root, parent]) != real_root:
        raise UnsafeName(f"{wire_name(components)!r} would be written outside the chosen folder")
    if os.path.islink(candidate):
        raise UnsafeName(f"{wire_name(components)!r} is a link in the chosen folder; not followed")
    return Path(candidate)


def part_path(final: Path) -> Path:
    """The `.part` file a file is received into before its hash is checked."""
    return final.with_name(final.name + PART_SUFFIX)


def alternative(final: Path, attempt: int) -> Path:
    """The `attempt`-th name to try when `final` is taken: `report (1).pdf`, `report (2).pdf`."""
    if attempt == 0:
        return final
    suffix = "".join(final.suffixes[-1:])
    stem = final.name[: len(final.name) - len(suffix)] if suffix else final.name
    return final.with_name(f"{stem} ({attempt}){suffix}")
