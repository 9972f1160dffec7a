"""Window-less commands of `main.py` (host, join, discover, doctor, history).

They live beside `main.py`, not in `net/`, because they compose the network library (a
transport, discovery, the host and its announcer from `hosting.py`) for a terminal user,
as `gui/` does for a window; `net/` never imports them.

Each module here exposes `register(subparsers)`, which adds its subcommand and sets
``func`` on the parsed arguments to a callable returning the process exit status.
"""
