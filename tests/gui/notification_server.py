"""A desktop's notification service for tests: a private D-Bus session bus and a tiny server.

`NotificationServer` starts a real `dbus-daemon --session` on a socket in a temporary
folder and serves `org.freedesktop.Notifications` on it with dbus-fast (the library that
desktop-notifier itself uses on Linux), in a thread with its own event loop. It records
every notification it is asked to show and every one it is asked to close, and `click`
emits `ActionInvoked(id, "default")` as a desktop does when the user clicks one.
"""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusDict, DBusInt32, DBusSignature, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, method, signal

START_TIMEOUT = 10.0


@dataclass(frozen=True)
class Shown:
    id: int
    app_name: str
    summary: str
    body: str
    actions: tuple[str, ...]


Strings = Annotated[list[str], DBusSignature("as")]
ServerInformation = Annotated[list[str], DBusSignature("ssss")]
IdAndKey = Annotated[list[object], DBusSignature("us")]
IdAndReason = Annotated[list[int], DBusSignature("uu")]


class _Notifications(ServiceInterface):
    """org.freedesktop.Notifications, version 1.2 of the specification (what GNOME offers)."""

    def __init__(self, server: NotificationServer) -> None:
        super().__init__("org.freedesktop.Notifications")
        self._server = server

    @method()
    def GetCapabilities(self) -> Strings:
        return ["body", "body-markup", "actions"]

    @method()
    def GetServerInformation(self) -> ServerInformation:
        return ["lanchat-test", "LanChat", "1.0", "1.2"]

    @method()
    def Notify(
        self,
        app_name: DBusStr,
        replaces_id: DBusUInt32,
        app_icon: DBusStr,
        summary: DBusStr,
        body: DBusStr,
        actions: Strings,
        hints: DBusDict,
        expire_timeout: DBusInt32,
    ) -> DBusUInt32:
        return self._server._record(app_name, summary, body, tuple(actions))

    @method()
    def CloseNotification(self, id: DBusUInt32):  # no reply value (D-Bus "void")
        self._server._closed(id)
        self.NotificationClosed(id, 3)

    @signal()
    def ActionInvoked(self, id: DBusUInt32, action_key: DBusStr) -> IdAndKey:
        return [id, action_key]

    @signal()
    def NotificationClosed(self, id: DBusUInt32, reason: DBusUInt32) -> IdAndReason:
        return [id, reason]


class NotificationServer:
    """A session bus with a notification service on it; `stop` ends both."""

    def __init__(self, folder: Path) -> None:
        daemon = shutil.which("dbus-daemon")
        if daemon is None:
            raise FileNotFoundError("dbus-daemon (Debian package dbus-daemon; .ci/ensure_system_deps.sh)")
        self.address = f"unix:path={folder / 'bus'}"
        self._daemon = subprocess.Popen(
            [daemon, "--session", "--nofork", "--print-address=1", f"--address={self.address}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._lock = threading.Lock()
        self._shown: list[Shown] = []
        self._closed_ids: list[int] = []
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._interface: _Notifications | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="test-notification-server")
        try:
            self._wait_for_daemon()
            self._thread.start()
            if not self._ready.wait(START_TIMEOUT) or self._error is not None:
                raise RuntimeError(f"the test notification server did not start: {self._error}")
        except BaseException:
            self.stop()
            raise

    def _wait_for_daemon(self) -> None:
        assert self._daemon.stdout is not None
        readable, _, _ = select.select([self._daemon.stdout], [], [], START_TIMEOUT)
        if not readable or not self._daemon.stdout.readline().strip():
            raise RuntimeError("dbus-daemon did not start")

    # -- what the tests look at --------------------------------------------------------------

    def shown(self) -> list[Shown]:
        with self._lock:
            return list(self._shown)

    def closed(self) -> list[int]:
        with self._lock:
            return list(self._closed_ids)

    def click(self, notification_id: int) -> None:
        """The user clicks the notification (the desktop emits ActionInvoked "default")."""
        assert self._loop is not None and self._interface is not None
        self._loop.call_soon_threadsafe(self._interface.ActionInvoked, notification_id, "default")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.is_alive():
            self._thread.join(START_TIMEOUT)
        self._daemon.terminate()
        try:
            self._daemon.wait(START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._daemon.kill()
            self._daemon.wait()
        if self._daemon.stdout is not None:
            self._daemon.stdout.close()

    # -- the server's thread ------------------------------------------------------------------

    def _record(self, app_name: str, summary: str, body: str, actions: tuple[str, ...]) -> int:
        with self._lock:
            shown = Shown(len(self._shown) + 1, app_name, summary, body, actions)
            self._shown.append(shown)
            return shown.id

    def _closed(self, notification_id: int) -> None:
        with self._lock:
            self._closed_ids.append(notification_id)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        bus = await MessageBus(bus_address=self.address).connect()
        try:
            self._interface = _Notifications(self)
            bus.export("/org/freedesktop/Notifications", self._interface)
            await bus.request_name("org.freedesktop.Notifications")
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self._stop.wait()
        finally:
            bus.disconnect()


def no_session_bus(folder: Path) -> str:
    """A session bus address where nothing listens (no desktop: no notifications)."""
    assert not os.path.exists(folder / "no-bus")
    return f"unix:path={folder / 'no-bus'}"
