"""LanChat: start the chat window, or run one of the window-less commands.

python main.py                    open the window
python main.py host [...]         run a host with no window
python main.py join HOST --nick N chat from the terminal
python main.py --version
"""

from __future__ import annotations

import argparse
import importlib
import sys

from gui.crash import install_process_hooks  # imports no Tk until a dialog is needed
from net import __version__
from net.logsetup import configure_logging

#: Modules that register a subcommand (see cli/__init__.py).
COMMAND_MODULES: tuple[str, ...] = ("cli.host", "cli.join", "cli.discover", "cli.doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="LanChat", description="Chat on the local network.")
    parser.add_argument("--version", action="version", version=f"LanChat {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The log file always; the console too when there is one (stdout for `host`, see net/logsetup.py).
    configure_logging(args.verbose, console="stdout" if args.command == "host" else "stderr")
    install_process_hooks(dialogs=args.command is None)
    if args.command is None:
        from gui.app import run_app

        return run_app()
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
