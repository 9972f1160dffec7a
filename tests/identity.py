"""One key and certificate for the whole test session (made once: key generation is slow)."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

from net.secure.identity import Identity, load_or_create_identity


@functools.cache
def session_identity() -> Identity:
    """The test session's host identity, kept in the session's throw-away config folder."""
    base = os.environ.get("LANCHAT_CONFIG_DIR") or tempfile.mkdtemp(prefix="lanchat-test-identity-")
    return load_or_create_identity(Path(base) / "test-host-identity")


def secure(config: dict[str, object]) -> dict[str, object]:
    """Host config options with TLS (this session's identity) and plain text allowed too, so
    the raw-protocol tests keep speaking JSON while real clients connect encrypted."""
    return {"identity": session_identity(), "allow_plaintext": True, **config}
