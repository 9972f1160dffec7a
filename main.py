"""LanChat: start the chat window, or run one of the window-less commands.

python main.py                    open the window
python main.py host [...]         run a host with no window
python main.py join HOST --nick N chat from the terminal
python main.py --version
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from net import __version__

#: Modules that register a subcommand (see net/cli/__init__.py).
COMMAND_MODULES: tuple[str, ...] = ("net.cli.host", "net.cli.join", "net.cli.discover", "net.cli.doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="LanChat", description="Chat on the local network.")
    parser.add_argument("--version", action="version", version=f"LanChat {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    if args.command is None:
        from gui.app import run_app

        return run_app()
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
