"""Fixtures for the window tests: one Tk root per session, apps built in it, real hosts and clients.

- `tk_root`: the session's Tk root (pytest-xvfb provides the display).
- `tk_errors` (autouse): fails any test during which a Tk callback raised, as Porcupine does.
- `make_app`: builds an `App` in the root with settings in a temporary directory, and closes
  it (leaving the chat, stopping a window-hosted host) at the end of the test.
- `headless_host` / `headless_client`: real TCP hosts and clients on 127.0.0.1, always stopped.
- `notification_server`: a real D-Bus session bus with a notification service (Linux); every
  other test gets a session bus where nothing listens, so none shows on the desktop.
- `HandClock`, `EventLog`, `free_port`: helpers the test modules import.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import tkinter as tk
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gui import i18n
from gui.app import App
from gui.settings import Settings, SettingsStore
from net.api import ChatClient, ChatHost, ClientConfig, HostConfig, Transport
from net.room import RoomConfig
from net.transports import make_client, make_host
from tests.helpers import wait_until
from tests.identity import secure

if TYPE_CHECKING:
    from tests.gui.notification_server import NotificationServer


@pytest.fixture(scope="session")
def tk_root() -> Iterator[tk.Tk]:
    root = tk.Tk()
    root.geometry("1000x680+0+0")
    root.update()
    yield root
    root.destroy()


@pytest.fixture(autouse=True)
def tk_errors(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Fails the test if a Tk callback raised (the root's report_callback_exception was called)."""
    if "tk_root" not in request.fixturenames:
        yield []
        return
    root: tk.Tk = request.getfixturevalue("tk_root")
    errors: list[str] = []

    def record(exc_type, exc_value, exc_traceback) -> None:  # type: ignore[no-untyped-def]
        errors.append("".join(traceback.format_exception(exc_type, exc_value, exc_traceback)))

    root.report_callback_exception = record
    yield errors
    try:
        root.update()
    finally:
        del root.report_callback_exception
    if errors:
        pytest.fail("a Tk callback raised during the test:\n" + "\n".join(errors))


@pytest.fixture(autouse=True)
def english(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests read English sentences unless they switch language themselves."""
    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "config"
    monkeypatch.setenv("LANCHAT_CONFIG_DIR", str(directory))
    monkeypatch.setenv("LANCHAT_DATA_DIR", str(tmp_path / "data"))  # each test its own history
    return directory


def save_settings(directory: Path, **values: object) -> None:
    """Write a settings file as a previous run would have (language fixed to English by default)."""
    values.setdefault("language", "en")
    assert SettingsStore(directory).save(Settings(**values)) is None  # type: ignore[arg-type]


class AppRunner:
    """Builds apps in the session root and closes them at the end of the test."""

    def __init__(self, root: tk.Tk, directory: Path) -> None:
        self.root = root
        self.directory = directory
        self.apps: list[App] = []
        self.exits = 0

    def __call__(self, **settings: object) -> App:
        if settings or not (self.directory / "settings.json").exists():
            save_settings(self.directory, **settings)
        app = App(self.root, SettingsStore(self.directory), on_exit=self._exited)
        self.apps.append(app)
        self.root.update()
        return app

    def _exited(self) -> None:
        self.exits += 1

    def pump(self) -> None:
        self.root.update()

    def wait(
        self, condition: Callable[[], object], timeout: float = 10.0, message: str = "condition"
    ) -> object:
        return wait_until(condition, timeout=timeout, message=message, pump=self.root.update)

    def close_all(self) -> None:
        for app in reversed(self.apps):  # newest first: each restores what the one before it saw
            app.close()
        self.root.update()
        self.root.title("tk")


@pytest.fixture
def make_app(tk_root: tk.Tk, config_dir: Path) -> Iterator[AppRunner]:
    runner = AppRunner(tk_root, config_dir)
    try:
        yield runner
    finally:
        runner.close_all()


def free_port() -> int:
    """A TCP port that was free a moment ago (for tests that must type a port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class HandClock:
    """A clock for the model and the controller that moves only when a test sets `now`."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class EventLog:
    """A thread-safe list of what a headless client received."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[object] = []

    def __call__(self, event: object) -> None:
        with self._lock:
            self._events.append(event)

    def snapshot(self) -> list[object]:
        with self._lock:
            return list(self._events)

    def of(self, kind: type) -> list:
        return [event for event in self.snapshot() if isinstance(event, kind)]


@pytest.fixture
def headless_host() -> Iterator[Callable[..., ChatHost]]:
    hosts: list[ChatHost] = []

    def start(
        port: int = 0, room: str = "Test room", transport: Transport = Transport.TCP, **room_options
    ) -> ChatHost:
        # No handover: these tests stop a host to see the window lose it (or find it again);
        # with one, the window's member would take the room over (tests/gui/test_handover_window.py).
        room_config = RoomConfig(name=room, **room_options)
        host = make_host(transport, HostConfig(port=port, room=room_config, **secure({"handover": False})))
        host.start()
        hosts.append(host)
        return host

    try:
        yield start
    finally:
        for host in hosts:
            host.stop()


@pytest.fixture
def headless_client() -> Iterator[Callable[..., tuple[ChatClient, EventLog]]]:
    clients: list[ChatClient] = []

    def connect(
        port: int, nick: str, transport: Transport = Transport.TCP, **options
    ) -> tuple[ChatClient, EventLog]:
        events = EventLog()
        options.setdefault("backoff", (0.2, 0.5))
        config = ClientConfig(host="127.0.0.1", port=port, nick=nick, **options)
        client = make_client(transport, config, events)
        client.start()
        clients.append(client)
        return client, events

    try:
        yield connect
    finally:
        for client in clients:
            client.close()


@pytest.fixture(autouse=True)
def no_desktop_notifications(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test shows a notification on the developer's desktop: the session bus is one where
    nothing listens (the tests of notifications start their own, `notification_server`)."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/lanchat-tests/bus")


@pytest.fixture
def notification_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationServer]:
    """A real dbus-daemon with a notification service on it, as this process's session bus."""
    from tests.gui.notification_server import NotificationServer

    folder = tempfile.mkdtemp(prefix="lanchat-dbus-")  # short: a socket path has at most 107 bytes
    try:
        try:
            server = NotificationServer(Path(folder))
        except FileNotFoundError as exc:
            pytest.skip(f"needs {exc}")
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", server.address)
        yield server
        server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> None:
    assert os.environ.get("LANCHAT_LOOPBACK_ONLY") == "1"
