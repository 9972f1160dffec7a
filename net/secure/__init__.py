"""Trust: this installation's identity, room codes, pinned fingerprints and TLS over any
reliable ordered channel (no sockets here: the transports carry the bytes)."""
