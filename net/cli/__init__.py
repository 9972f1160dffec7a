"""Window-less commands of `main.py` (host, join, discover, doctor).

Each module here exposes `register(subparsers)`, which adds its subcommand and sets
``func`` on the parsed arguments to a callable returning the process exit status.
"""
