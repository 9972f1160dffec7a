"""This installation's lasting secret for messages kept while it is away (`Hello.mailbox`).

A host keeps private messages for a member who left and gives them to whoever presents
the same secret again (`net.room.mailbox`), so the secret must outlive the program run
(unlike the client id and the session's resume secret) and must stay the user's: it lives
in the identity folder, readable by its owner only, and is only ever sent inside TLS.
"""

from __future__ import annotations

import logging
import secrets
import string
from pathlib import Path

from net.secure.private_files import write_private

log = logging.getLogger(__name__)

FILE_NAME = "mailbox.secret"
_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")


def load_or_create_mailbox_secret(directory: Path) -> str:
    """The secret kept in `directory`, made there first if it has none (or an unusable one).

    Returns "" when it can be neither read nor written: the chat works, only nothing is
    kept for this installation while it is away.
    """
    path = directory / FILE_NAME
    try:
        kept = path.read_text(encoding="ascii").strip()
        if 32 <= len(kept) <= 64 and set(kept) <= _ALPHABET:
            return kept
    except (OSError, UnicodeDecodeError):
        pass
    secret = secrets.token_urlsafe(32)  # 43 characters
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(path, secret.encode("ascii"))
    except OSError as exc:
        log.warning("cannot keep this installation's mailbox secret in %s: %s", directory, exc)
        return ""
    return secret
