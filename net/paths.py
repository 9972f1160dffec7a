"""Where LanChat keeps its files on this computer (settings, identity, pinned rooms).

One place for the whole program: the window and the window-less commands read the same
folder. ``$LANCHAT_CONFIG_DIR`` overrides it (tests, portable installs).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

CONFIG_DIR_ENV = "LANCHAT_CONFIG_DIR"
DATA_DIR_ENV = "LANCHAT_DATA_DIR"


def config_dir() -> Path:
    """The folder holding settings.json, the identity and the pins."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("LanChat", appauthor=False))


def identity_dir(base: Path | None = None) -> Path:
    """Where this installation's key and certificate live, inside the config folder."""
    return (base or config_dir()) / "identity"


def pins_file(base: Path | None = None) -> Path:
    """The rooms' keys met before (trust on first use), inside the config folder."""
    return (base or config_dir()) / "pinned-rooms.json"


def data_dir() -> Path:
    """The folder holding what LanChat keeps for the user (the history database).

    The *local* data folder (``roaming=False``: AppData\\Local on Windows, never the roaming
    profile that is copied between machines), so the database is not in a synced folder: a
    file synced while SQLite writes it is how other chat programs lose their history.
    ``$LANCHAT_DATA_DIR`` overrides it (tests, portable installs).
    """
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("LanChat", appauthor=False, roaming=False))


def history_file(base: Path | None = None) -> Path:
    """The one SQLite database of every conversation kept on this computer."""
    return (base or data_dir()) / "history.sqlite3"
