"""The user's settings: what they are, how they are checked, and where they are kept.

Stored as readable JSON (``settings.json``) in the OS's user config directory (platformdirs),
or in ``$LANCHAT_CONFIG_DIR`` when that is set (tests, portable installs). Options are named
``section.option`` in the file. A missing file means defaults; a corrupt one is renamed aside
(never deleted) and also means defaults; a single bad value falls back to its default. The
caller shows a one-line notice for each of these (see `LoadResult`).

The `check_*` functions validate what a user typed, IDLE-style: they return the clean value
or raise `SettingError` with a sentence for the user, so dialogs are tested without a window.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gui.i18n import LANGUAGES, tr
from gui.setting_error import SettingError
from gui.settings_network import (  # (parse_discovery_targets: for the window)
    check_backbone,
    check_discovery_targets,
    parse_discovery_targets,  # noqa: F401
)
from net.paths import config_dir
from net.protocol.limits import DEFAULT_PORT, MAX_NICK_CHARS, MAX_PASSWORD_CHARS, MAX_ROOM_NAME_CHARS
from net.protocol.nicknames import InvalidNickname, normalize_nick

log = logging.getLogger(__name__)

FILE_NAME = "settings.json"
FILE_VERSION = 1
TRANSPORTS = ("tcp", "udp")
THEMES = ("light", "dark")
FONT_SIZES = range(8, 29)
SCROLLBACK_RANGE = range(200, 100_001)
#: Which messages make a desktop notification: every one, or only those naming us (private
#: messages count as naming us: they are written to us alone).
NOTIFY_FOR = ("all", "mentions")
IPMSG_ENCODINGS = ("gbk", "cp932")
#: How many days the history keeps a message (0: forever).
HISTORY_DAYS = (0, 30, 90, 365)
DEFAULT_SCROLLBACK = 5_000
RECENT_HOSTS_KEPT = 6
MAX_ADDRESS_CHARS = 300
MAX_FOLDER_CHARS = 4096
#: Sizes (MB) of images accepted unasked that Settings offers (0: none).
AUTO_ACCEPT_MB_RANGE = range(0, 101)
#: The backbone setting: a few NATS server addresses.


@dataclass(slots=True)
class Settings:
    nickname: str = ""
    default_port: int = DEFAULT_PORT
    transport: str = "tcp"
    theme: str = "light"
    font_size: int = 11
    language: str = ""  # "" follows the system locale
    notifications: bool = True  # unread count in the title and taskbar flash while unfocused
    sounds: bool = True
    desktop_notifications: bool = True  # a desktop notification for a message not in front
    notify_for: str = "all"  # "all" or "mentions" (and private messages)
    highlight_mentions: bool = True
    scrollback_lines: int = DEFAULT_SCROLLBACK
    room_name: str = ""  # the room name last hosted
    recent_hosts: list[str] = field(default_factory=list)
    #: Extra addresses or small subnets to search for chats (where broadcast does not pass).
    discovery_targets: list[str] = field(default_factory=list)
    #: A chat hosted here also lets in members without encryption (nc, telnet, older LanChat).
    allow_plaintext: bool = False
    #: Host rooms on this NATS JetStream backbone ("nats://a:4222,nats://b:4222"; "" alone):
    #: `main.py host --backbone`, for the window's host (`gui.host_start`).
    backbone: str = ""
    #: Keep the conversations shown in this window on this computer (`gui.history_keeper`).
    keep_history: bool = True
    #: Forget kept messages older than this many days at start (0: keep them forever).
    history_days: int = 0
    #: Also talk with IP Messenger / Feiq / iptux users (`gui.ipmsg_link`), and in which code
    #: page with those who do not announce UTF-8 (gbk: Chinese Windows, cp932: Japanese).
    ipmsg: bool = True
    ipmsg_encoding: str = "gbk"
    #: Where accepted files go ("": Downloads/LanChat, `gui.files.rules.default_folder`).
    download_folder: str = ""
    #: Images up to this many MB are accepted into `download_folder` unasked (0: never).
    auto_accept_images_mb: int = 5

    def remember_host(self, address: str) -> None:
        """Put `address` first in the recent hosts, keeping a few distinct ones."""
        address = address.strip()[:MAX_ADDRESS_CHARS]
        if address:
            kept = [known for known in self.recent_hosts if known != address]
            self.recent_hosts = [address, *kept][:RECENT_HOSTS_KEPT]


#: Where each option lives in the file ("section.option").
FILE_KEYS: dict[str, str] = {
    "nickname": "user.nickname",
    "default_port": "network.default_port",
    "transport": "network.transport",
    "room_name": "network.room_name",
    "recent_hosts": "network.recent_hosts",
    "discovery_targets": "network.discovery_targets",
    "allow_plaintext": "network.allow_plaintext",
    "ipmsg": "network.ipmsg",
    "ipmsg_encoding": "network.ipmsg_encoding",
    "backbone": "network.backbone",
    "keep_history": "history.keep",
    "history_days": "history.keep_days",
    "download_folder": "files.download_folder",
    "auto_accept_images_mb": "files.auto_accept_images_mb",
    "theme": "appearance.theme",
    "font_size": "appearance.font_size",
    "language": "appearance.language",
    "notifications": "attention.notifications",
    "sounds": "attention.sounds",
    "desktop_notifications": "attention.desktop_notifications",
    "notify_for": "attention.notify_for",
    "highlight_mentions": "attention.highlight_mentions",
    "scrollback_lines": "chat.scrollback_lines",
}


# -- checking typed values -------------------------------------------------------------


def check_nickname(text: str) -> str:
    """The nickname in canonical form, or SettingError saying which rule it breaks."""
    stripped = text.strip()
    if not stripped:
        raise SettingError(tr("Please enter a nickname."))
    if len(stripped) > MAX_NICK_CHARS:
        raise SettingError(tr("A nickname can have at most {count} characters.").format(count=MAX_NICK_CHARS))
    try:
        return normalize_nick(stripped)
    except InvalidNickname:
        raise SettingError(
            tr("A nickname may contain letters, digits and _ - . ' and must start with a letter or digit.")
        ) from None


def nickname_refused(text: str) -> bool:
    """Whether `text` is no nickname `check_nickname` takes (hosting and joining check the
    nickname first, so their refusal is then about it)."""
    try:
        check_nickname(text)
    except SettingError:
        return True
    return False


def _whole_number(text: str | int) -> int:
    """`text` as a whole number, or -1 (in no range a setting allows) when it is not one."""
    try:
        return int(str(text).strip())
    except ValueError:
        return -1


def check_port(text: str | int) -> int:
    """A TCP/UDP port number from 1 to 65535."""
    port = _whole_number(text)
    if not 0 < port < 65536:
        raise SettingError(tr("The port must be a whole number from 1 to 65535."))
    return port


def check_room_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise SettingError(tr("Please give the chat a name."))
    if len(name) > MAX_ROOM_NAME_CHARS:
        raise SettingError(
            tr("A chat name can have at most {count} characters.").format(count=MAX_ROOM_NAME_CHARS)
        )
    return name


def check_password(text: str, *, required: bool) -> str:
    """A room password as typed (spaces count); "" for none, unless one is `required`."""
    if required and not text:
        raise SettingError(tr("Please type the chat’s password."))
    if len(text) > MAX_PASSWORD_CHARS:
        raise SettingError(
            tr("A password can have at most {count} characters.").format(count=MAX_PASSWORD_CHARS)
        )
    return text


def check_font_size(text: str | int) -> int:
    if (size := _whole_number(text)) not in FONT_SIZES:
        raise SettingError(
            tr("The font size must be from {low} to {high}.").format(low=FONT_SIZES[0], high=FONT_SIZES[-1])
        )
    return size


def check_scrollback(text: str | int) -> int:
    try:
        lines = int(str(text).strip().replace(",", "").replace("_", ""))
    except ValueError:
        lines = -1
    if lines not in SCROLLBACK_RANGE:
        raise SettingError(
            tr("Scrollback must be from {low} to {high} lines.").format(
                low=SCROLLBACK_RANGE[0], high=f"{SCROLLBACK_RANGE[-1]:,}"
            )
        )
    return lines


def check_download_folder(text: str) -> str:
    """Where received files go: "" (the default folder) or a full path that is no file."""
    folder = text.strip()
    if len(folder) > MAX_FOLDER_CHARS or any(ord(char) < 32 for char in folder):
        raise SettingError(tr("That folder name is too long or holds control characters."))
    path = Path(folder).expanduser()
    if folder and not path.is_absolute():
        raise SettingError(tr("Please give the folder's full path, or leave it empty for the default."))
    if folder and path.exists() and not path.is_dir():
        raise SettingError(tr("“{folder}” is a file, not a folder.").format(folder=folder))
    return folder


def check_auto_accept_mb(text: str | int) -> int:
    """The size (MB) up to which images are taken unasked: 0 (never) to 100."""
    if (size := _whole_number(text)) not in AUTO_ACCEPT_MB_RANGE:
        high = AUTO_ACCEPT_MB_RANGE[-1]
        raise SettingError(tr("Images taken unasked: from 0 (never) to {high} MB.").format(high=high))
    return size


def check_choice(value: str, choices: tuple[str, ...] | list[str]) -> str:
    if value not in choices:
        raise SettingError(tr("Please choose one of the offered values."))
    return value


def _check_stored(name: str, value: Any) -> Any:
    """Validate one value read from the file (its JSON type and range); raises on anything odd."""
    match name:
        case "nickname":
            return check_nickname(value) if value else ""
        case "default_port":
            if not isinstance(value, int) or isinstance(value, bool):
                raise SettingError(name)
            return check_port(value)
        case "transport":
            return check_choice(value, TRANSPORTS)
        case "theme":
            return check_choice(value, THEMES)
        case "font_size" | "scrollback_lines" | "auto_accept_images_mb":
            if not isinstance(value, int) or isinstance(value, bool):
                raise SettingError(name)
            checks = {"font_size": check_font_size, "scrollback_lines": check_scrollback}
            return checks.get(name, check_auto_accept_mb)(value)
        case "language":
            return check_choice(value, ["", *LANGUAGES])
        case "notify_for":
            return check_choice(value, NOTIFY_FOR)
        case "ipmsg_encoding":
            return check_choice(value, IPMSG_ENCODINGS)
        case (
            "notifications"
            | "sounds"
            | "desktop_notifications"
            | "highlight_mentions"
            | "allow_plaintext"
            | "keep_history"
            | "ipmsg"
        ):
            if not isinstance(value, bool):
                raise SettingError(name)
            return value
        case "history_days":
            if value not in HISTORY_DAYS or isinstance(value, bool):
                raise SettingError(name)
            return value
        case "room_name":
            return check_room_name(value) if value else ""
        case "download_folder":
            if not isinstance(value, str):
                raise SettingError(name)
            return check_download_folder(value)
        case "backbone":
            if not isinstance(value, str):
                raise SettingError(name)
            return check_backbone(value)
        case "discovery_targets":
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise SettingError(name)
            return check_discovery_targets(", ".join(value))
        case "recent_hosts":
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise SettingError(name)
            return [item.strip()[:MAX_ADDRESS_CHARS] for item in value if item.strip()][:RECENT_HOSTS_KEPT]
    raise SettingError(name)


# -- the file -----------------------------------------------------------------------


@dataclass(slots=True)
class LoadResult:
    """What `SettingsStore.load` found. `problem` is None, "missing", "corrupt" or "invalid"."""

    settings: Settings
    problem: str | None = None
    kept_as: Path | None = None  # where a corrupt file was moved
    invalid: tuple[str, ...] = ()  # options reset to their default

    def notice(self) -> str | None:
        """The one-line notice for the user (in the current language), or None."""
        if self.problem == "missing":
            return tr("Welcome to LanChat! Your settings will be kept in {path}.").format(
                path=self.kept_as or config_dir()
            )
        if self.problem == "corrupt":
            return tr(
                "The settings file could not be read, so the defaults are used "
                "(the old file was kept as {path})."
            ).format(path=self.kept_as.name if self.kept_as else FILE_NAME)
        if self.problem == "invalid":
            return tr("Some settings were not valid and were reset to their defaults: {names}.").format(
                names=", ".join(self.invalid)
            )
        return None


class SettingsStore:
    """Loads and saves `Settings` as JSON in one directory."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else config_dir()

    @property
    def path(self) -> Path:
        return self.directory / FILE_NAME

    def load(self) -> LoadResult:
        """The stored settings; never raises for a missing, unreadable or corrupt file."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return LoadResult(Settings(), "missing", kept_as=self.path)
        except OSError as exc:
            log.warning("cannot read %s: %s", self.path, exc)
            return LoadResult(Settings(), "corrupt")
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("the top level is not an object")
        except ValueError as exc:
            log.warning("settings file %s is corrupt (%s); using defaults", self.path, exc)
            return LoadResult(Settings(), "corrupt", kept_as=self._set_aside())
        return self._from_dict(data)

    def save(self, settings: Settings) -> str | None:
        """Write `settings` atomically; returns None, or a sentence saying why it failed."""
        data: dict[str, Any] = {"version": FILE_VERSION}
        for name, key in FILE_KEYS.items():
            section, option = key.split(".")
            data.setdefault(section, {})[option] = getattr(settings, name)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        temporary = self.path.with_suffix(".json.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError as exc:
            log.warning("cannot save settings to %s: %s", self.path, exc)
            return tr("The settings could not be saved to {path}: {error}").format(
                path=self.path, error=exc.strerror or exc
            )
        return None

    def _from_dict(self, data: dict[str, Any]) -> LoadResult:
        settings = Settings()
        invalid: list[str] = []
        for name, key in FILE_KEYS.items():
            section, option = key.split(".")
            block = data.get(section)
            if not isinstance(block, dict) or option not in block:
                continue  # absent options keep their default (a file from an older version)
            try:
                setattr(settings, name, _check_stored(name, block[option]))
            except (SettingError, TypeError, AttributeError):
                invalid.append(key)
        if invalid:
            log.warning("invalid settings reset to defaults: %s", ", ".join(invalid))
            return LoadResult(settings, "invalid", invalid=tuple(invalid))
        return LoadResult(settings)

    def _set_aside(self) -> Path | None:
        """Rename the corrupt file so the user can still look at it; None if that fails."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{FILE_NAME}.corrupt-{stamp}")
        try:
            os.replace(self.path, target)
        except OSError as exc:
            log.warning("cannot move the corrupt settings file aside: %s", exc)
            return None
        return target


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy of `settings` with `changes` (the dialog edits a copy, applied on OK)."""
    changes.setdefault("recent_hosts", list(settings.recent_hosts))
    changes.setdefault("discovery_targets", list(settings.discovery_targets))
    return dataclasses.replace(settings, **changes)
