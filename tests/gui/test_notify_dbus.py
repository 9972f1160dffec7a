"""The notification backend against a real D-Bus notification service (Linux).

`notification_server` (conftest) starts a real `dbus-daemon` and a small
org.freedesktop.Notifications server on it; the backend reaches it through
desktop-notifier from its own worker thread, as it does on a Linux desktop.
"""

from __future__ import annotations

import logging
import sys
import threading

import pytest

from gui.model.changes import Incoming
from gui.model.values import ROOM
from gui.notify.backend import DesktopBackend
from gui.notify.pacing import Pacer, Pile
from tests.helpers import wait_until

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the freedesktop notification service")


class Clicks:
    """What the backend's click callback received (it runs in the backend's thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.piles: list[Pile] = []

    def __call__(self, pile: Pile) -> None:
        with self._lock:
            self.piles.append(pile)

    def snapshot(self) -> list[Pile]:
        with self._lock:
            return list(self.piles)


@pytest.fixture
def backend():
    clicks = Clicks()
    made: list[DesktopBackend] = []

    def make(gap: float = 4.0) -> tuple[DesktopBackend, Clicks]:
        shown = DesktopBackend(clicks, pacer=Pacer(gap=gap))
        made.append(shown)
        return shown, clicks

    yield make
    for shown in made:
        shown.close()


def worker_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "desktop-notifications"]


def test_a_notification_reaches_the_desktop_and_its_click_comes_back(notification_server, backend):
    desktop, clicks = backend()
    pile = Pile.of(Incoming(ROOM, "zoe", "lunch at noon?\nthe usual place"), "Lobby")
    desktop.show(pile)
    (shown,) = wait_until(notification_server.shown, message="the notification on the desktop")
    assert (shown.app_name, shown.summary, shown.body) == ("LanChat", "zoe in Lobby", "lunch at noon?")
    assert "default" in shown.actions  # clicking its body is an action the desktop reports
    assert desktop.available
    # The service records it before its reply reaches the backend; a user clicks only after.
    wait_until(lambda: desktop.sent == 1, message="the service's reply")
    notification_server.click(shown.id)
    wait_until(clicks.snapshot, message="the click")
    assert clicks.snapshot() == [pile]
    desktop.close()
    assert not worker_threads()  # stopped and joined


def test_markup_in_a_message_is_shown_as_text(notification_server, backend):
    desktop, _clicks = backend()
    desktop.show(Pile.of(Incoming("zoe", "zoe", '<a href="file:///etc">x</a> & <b>y</b>', private=True), ""))
    (shown,) = wait_until(notification_server.shown, message="the notification")
    assert shown.summary == "zoe (private message)"
    assert shown.body == '&lt;a href="file:///etc"&gt;x&lt;/a&gt; &amp; &lt;b&gt;y&lt;/b&gt;'


def test_a_busy_conversation_keeps_one_notification(notification_server, backend):
    desktop, clicks = backend(gap=1.0)
    desktop.show(Pile.of(Incoming(ROOM, "zoe", "line 1"), "Lobby"))
    wait_until(notification_server.shown, message="the first line at once")
    for number in range(2, 5):  # within the gap: they wait, together
        desktop.show(Pile.of(Incoming(ROOM, "zoe", f"line {number}"), "Lobby"))
    first, second = wait_until(
        lambda: notification_server.shown() if len(notification_server.shown()) == 2 else None,
        message="the first line, then the others together",
    )
    assert (first.summary, first.body) == ("zoe in Lobby", "line 1")
    assert (second.summary, second.body) == ("3 new messages in Lobby", "zoe: line 4")
    wait_until(lambda: notification_server.closed() == [first.id], message="the first taken back")
    wait_until(lambda: desktop.sent == 2, message="the service's reply")
    notification_server.click(first.id)  # a stale one: nothing happens
    notification_server.click(second.id)
    wait_until(clicks.snapshot, message="the click")
    assert [pile.count for pile in clicks.snapshot()] == [3]


def test_closing_takes_our_notifications_off_the_desktop(notification_server, backend):
    desktop, _clicks = backend()
    desktop.show(Pile.of(Incoming(ROOM, "zoe", "hello"), "Lobby"))
    desktop.show(Pile.of(Incoming("bob", "bob", "psst", private=True), "Lobby"))
    wait_until(lambda: len(notification_server.shown()) == 2, message="two notifications")
    desktop.close()
    assert sorted(notification_server.closed()) == [1, 2]
    assert not worker_threads()


def test_without_a_notification_service_it_falls_back_quietly(backend, caplog):
    # The autouse fixture points the session bus where nothing listens: no desktop.
    caplog.set_level(logging.DEBUG)
    desktop, _clicks = backend()
    desktop.show(Pile.of(Incoming(ROOM, "zoe", "secret words"), "Lobby"))
    wait_until(lambda: desktop.available is False, message="the backend giving up")
    desktop.show(Pile.of(Incoming(ROOM, "zoe", "more secret words"), "Lobby"))
    desktop.close()
    ours = [record for record in caplog.records if record.name.startswith(("gui.notify", "desktop_notifier"))]
    assert [record.levelno for record in ours] == [logging.DEBUG]  # one line, no warning
    assert "notification" in ours[0].getMessage()
    assert not any("secret" in record.getMessage() for record in caplog.records)
    assert not worker_threads()
