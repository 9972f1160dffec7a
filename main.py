"""LanChat: start the chat window, or run one of the window-less commands.

python3 main.py                    open the window
python3 main.py host [...]         run a host with no window
python3 main.py join HOST --nick N chat from the terminal
python3 main.py --version

`make run` installs the pinned packages into `.venv` beside this file; started by another
Python (the `python3` a newcomer types), this file runs itself again with `.venv`'s, so the
README's commands work as written after `make run`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from pathlib import Path

from net import __version__  # the standard library only: safe before the packages are found

#: Modules that register a subcommand (see cli/__init__.py).
COMMAND_MODULES: tuple[str, ...] = ("cli.host", "cli.join", "cli.discover", "cli.doctor", "cli.history")
#: Where `make run` installs the pinned packages (requirements.txt).
VENV = Path(__file__).resolve().parent / ".venv"
#: Set while running again under `.venv`'s Python, so that it can never loop.
_SWITCHED = "LANCHAT_VENV_SWITCHED"


def venv_python(venv: Path = VENV) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def use_project_venv() -> None:
    """Run again with `.venv`'s Python when another Python started this file and `.venv`
    exists (or say in one line how to get the packages when neither has them).

    Not in the packaged program (it carries its packages), nor when already in `.venv`.
    """
    if getattr(sys, "frozen", False):
        return
    python = venv_python()
    switch = not os.environ.get(_SWITCHED) and Path(sys.prefix).resolve() != VENV.resolve()
    if switch and python.exists():
        command = [str(python), str(Path(__file__).resolve()), *sys.argv[1:]]
        os.environ[_SWITCHED] = "1"
        if os.name == "nt":  # no exec on Windows: run it and pass its status on
            import signal
            import subprocess

            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the child's to handle
            sys.exit(subprocess.call(command))
        os.execv(command[0], command)
    if importlib.util.find_spec("platformdirs") is None:
        sys.exit(
            "lanchat: the packages LanChat needs are not installed for this Python: run `make run` "
            "once (it puts them in .venv), or `python3 -m pip install -r requirements.txt`."
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="LanChat", description="Chat on the local network.")
    parser.add_argument("--version", action="version", version=f"LanChat {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Imported here, after `use_project_venv`: both need the pinned packages.
    from gui.crash import install_process_hooks  # imports no Tk until a dialog is needed
    from net.logsetup import configure_logging

    args = build_parser().parse_args(argv)
    # The log file always; the console too when there is one (stdout for `host`, see net/logsetup.py).
    configure_logging(args.verbose, console="stdout" if args.command == "host" else "stderr")
    install_process_hooks(dialogs=args.command is None)
    if args.command is None:
        from gui.app import run_app

        return run_app()
    return int(args.func(args))


if __name__ == "__main__":
    use_project_venv()
    sys.exit(main())
