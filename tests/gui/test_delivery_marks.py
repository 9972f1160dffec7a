"""Own messages show how their delivery stands, in words or symbols (issue 15, defect 12).

Driven in the real window against real hosts: a message typed while the host is away says
"sending…" (and keeps saying it while the client reconnects), then "✓" with the host's
time once the new host acknowledges it, the time the other member sees; one that can no
longer be sent, because the client stopped for good, says "! not delivered". The window's
clock is set three hours back, standing for the minutes between typing and delivery after
an outage, so that the typed time and the host's time differ on screen.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gui.model.values import ROOM
from net.api import HostConfig, Transport
from net.protocol import events as ev
from net.room import RoomConfig
from net.secure.identity import load_or_create_identity
from net.transports import make_host
from tests.gui.conftest import free_port
from tests.gui.driving import connected, join_from_window, room_text, say

BEHIND = 3 * 3600.0


@pytest.fixture
def away(make_app, headless_host, monkeypatch):
    """The window (its clock three hours behind) in a chat whose host has just stopped."""
    port = free_port()
    host = headless_host(port=port, room="Marks")
    app = make_app(nickname="yann")
    monkeypatch.setattr(app.controller, "_clock", lambda: time.time() - BEHIND)
    join_from_window(app, "yann", f"127.0.0.1:{port}")
    make_app.wait(lambda: connected(app))
    host.stop()
    make_app.wait(lambda: app.chat_view.status_label.cget("text").startswith("Reconnecting"))
    return app, port


def message_line(app, text: str) -> str:
    pane = app.chat_view.panes[ROOM]
    start = pane.text.search(text, "1.0")
    assert start, f"{text!r} is not shown"
    return pane.text.get(f"{start} linestart", f"{start} lineend")


def clock_of(when: float) -> str:
    return time.strftime("%H:%M", time.localtime(when))


def test_sending_then_sent_with_the_hosts_time(away, make_app, headless_host, headless_client):
    app, port = away
    typed = time.time() - BEHIND
    say(app.chat_view, "typed while the host was away")
    make_app.pump()
    line = message_line(app, "typed while")
    assert line == f"{clock_of(typed)}  yann  typed while the host was away  sending…"
    headless_host(port=port, room="Marks")
    _zoe, zoe_events = headless_client(port, "zoe")
    make_app.wait(lambda: connected(app), timeout=15, message="the window back in the chat")
    make_app.wait(lambda: zoe_events.of(ev.ChatMessage), message="zoe to get the message")
    delivered = zoe_events.of(ev.ChatMessage)[0]
    assert delivered.text == "typed while the host was away"
    make_app.wait(lambda: message_line(app, "typed while").endswith("✓"), message="the ack's mark")
    shown = message_line(app, "typed while")
    assert shown == f"{clock_of(delivered.time)}  yann  typed while the host was away  ✓"
    assert clock_of(delivered.time) != clock_of(typed)
    assert not app.chat_view.panes[ROOM].pending_ids()


def test_a_message_that_can_no_longer_be_sent_says_so(away, make_app, tmp_path: Path):
    """The host comes back with another key: the client refuses it and stops for good, so
    the message waiting in its outbox is never sent."""
    app, port = away
    say(app.chat_view, "lost in the outage")
    make_app.pump()
    assert message_line(app, "lost in the outage").endswith("sending…")
    other_pc = load_or_create_identity(tmp_path / "other-pc")
    config = HostConfig(port=port, room=RoomConfig(name="Marks"), identity=other_pc)
    impostor = make_host(Transport.TCP, config)
    impostor.start()
    try:
        make_app.wait(
            lambda: message_line(app, "lost in the outage").endswith("! not delivered: not connected"),
            timeout=15,
            message="the failed mark",
        )
    finally:
        impostor.stop()
    pane = app.chat_view.panes[ROOM]
    start = pane.text.search("lost in the outage", "1.0")
    assert "failed" in pane.text.tag_names(start)
    assert "sending…" not in room_text(app) and not pane.pending_ids()
