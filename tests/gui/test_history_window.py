"""The window keeps its conversations: joining again after both ends restarted shows the
earlier conversation above a divider (issue 17, member side).

Driven in the real window against real hosts on 127.0.0.1. The restarted host remembers
nothing (its replay is empty), so whatever the second window shows from before comes from
the history database in the test's own data folder (`LANCHAT_DATA_DIR`, see conftest).
"""

from __future__ import annotations

from gui.model.values import ROOM
from net.protocol import events as ev
from tests.gui.conftest import free_port
from tests.gui.driving import connected, host_from_window, join_from_window, room_text, say

DIVIDER = "— earlier conversation above —"


def delivered(app, text: str) -> bool:
    pane = app.chat_view.panes[ROOM]
    start = pane.text.search(text, "1.0")
    return bool(start) and pane.text.get(f"{start} linestart", f"{start} lineend").endswith("✓")


def test_joining_again_after_a_restart_shows_the_earlier_conversation(
    make_app, headless_host, headless_client
):
    port = free_port()
    host = headless_host(port=port, room="Kept")
    app = make_app(nickname="ann")
    join_from_window(app, "ann", f"127.0.0.1:{port}")
    make_app.wait(lambda: connected(app), message="the window in the chat")
    bob, bob_events = headless_client(port, "bob")
    make_app.wait(lambda: "bob" in room_text(app), message="bob to join")
    bob.send_message("hello from the first run, 你好")
    make_app.wait(lambda: "hello from the first run" in room_text(app), message="bob's message")
    say(app.chat_view, "ann said this before")
    make_app.wait(lambda: delivered(app, "ann said this before"), message="the ack of ann's message")
    assert DIVIDER not in room_text(app)  # nothing earlier the first time
    app.close()
    bob.close()
    host.stop()

    host = headless_host(port=port, room="Kept")  # the same key (the test session's), no memory
    again = make_app()
    join_from_window(again, "ann", f"127.0.0.1:{port}")
    make_app.wait(lambda: connected(again), message="the window in the chat again")
    text = room_text(again)
    assert DIVIDER in text
    divider = text.index(DIVIDER)
    assert 0 <= text.index("hello from the first run, 你好") < divider
    assert 0 <= text.index("ann said this before") < divider
    assert text.count("ann said this before") == 1
    # What this session says comes below the divider.
    say(again.chat_view, "after the restart")
    make_app.wait(lambda: delivered(again, "after the restart"), message="the new message's ack")
    assert room_text(again).index("after the restart") > room_text(again).index(DIVIDER)
    assert not bob_events.of(ev.Error)


def test_what_the_host_replays_and_what_was_kept_is_shown_once(make_app, headless_host, headless_client):
    port = free_port()
    headless_host(port=port, room="Twice")
    app = make_app(nickname="ann")
    join_from_window(app, "ann", f"127.0.0.1:{port}")
    make_app.wait(lambda: connected(app), message="the window in the chat")
    say(app.chat_view, "only once please")
    make_app.wait(lambda: delivered(app, "only once please"), message="the ack")
    app.close()

    again = make_app()  # the host still runs: it replays the message, which is kept here too
    join_from_window(again, "ann", f"127.0.0.1:{port}")
    make_app.wait(lambda: connected(again), message="the window in the chat again")
    make_app.wait(lambda: DIVIDER in room_text(again), message="the earlier conversation")
    text = room_text(again)
    assert text.count("only once please") == 1
    assert text.index("only once please") < text.index(DIVIDER)


def test_a_window_that_hosts_again_gives_newcomers_the_earlier_conversation(make_app, headless_client):
    """The window's host keeps a journal (issue 17, host side): restarted, it replays what was
    said before to someone who was never there."""
    port = free_port()
    app = make_app(nickname="ann")
    host_from_window(app, "ann", "Kept room", port)
    make_app.wait(lambda: connected(app), message="the window hosting")
    bob, _ = headless_client(port, "bob")
    make_app.wait(lambda: "bob" in room_text(app), message="bob to join")
    bob.send_message("said before the restart, 重启之前")
    make_app.wait(lambda: "said before the restart" in room_text(app), message="bob's message")
    bob.close()
    app.close()  # the host stops with the window

    again = make_app(nickname="ann")
    host_from_window(again, "ann", "Kept room", port)
    make_app.wait(lambda: connected(again), message="the window hosting again")
    _, carol_events = headless_client(port, "carol")  # never in the room before
    make_app.wait(lambda: carol_events.of(ev.Welcome), message="carol's welcome")
    history = [m.text for m in carol_events.of(ev.Welcome)[0].history]
    assert "said before the restart, 重启之前" in history
