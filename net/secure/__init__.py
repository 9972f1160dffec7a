"""Trust: this installation's identity, room codes, pinned fingerprints and TLS over any
reliable ordered channel (no sockets here: the transports carry the bytes)."""


class IdentityError(Exception):
    """The identity files exist but cannot be used; the message is a sentence for the user.

    Here rather than in `identity.py`, so that catching it costs no import of `cryptography`."""
