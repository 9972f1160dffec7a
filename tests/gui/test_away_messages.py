"""Issue 17 in the window: a private message to someone who left says "waiting for erin" until
erin is back and has it, and messages kept for the window's user while away reach its tab."""

from __future__ import annotations

from net.api import ClientState
from net.protocol import events as ev
from tests.gui.driving import connected, join_from_window, say

ERIN = "erin-lasting-secret-0123456789abcdefghijkl"


def test_waiting_for_a_member_who_left_then_delivered_on_return(make_app, headless_host, headless_client):
    host = headless_host()
    erin, _ = headless_client(host.port, "erin", mailbox=ERIN)
    app = make_app()
    join_from_window(app, "frank", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app) and "erin" in {m.nick for m in app.controller.members()})
    view = app.chat_view
    erin.close()
    make_app.wait(lambda: "erin" not in {m.nick for m in app.controller.members()}, message="erin left")

    say(view, "/msg erin 明天开会 (meeting tomorrow)")
    make_app.wait(lambda: "waiting for erin" in view.panes["erin"].content(), message="the waiting mark")
    assert "not delivered" not in view.panes["erin"].content()

    _, again_events = headless_client(host.port, "erin", mailbox=ERIN)
    make_app.wait(
        lambda: any(m.text == "明天开会 (meeting tomorrow)" for m in again_events.of(ev.ChatMessage)),
        message="erin to get the kept message on return",
    )
    make_app.wait(lambda: "✓ delivered to erin" in view.panes["erin"].content(), message="the delivered mark")
    assert "waiting for erin" not in view.panes["erin"].content()


def test_what_was_kept_for_the_window_while_away_appears_in_its_private_tab(
    make_app, headless_host, headless_client
):
    host = headless_host()
    gina, gina_events = headless_client(host.port, "gina", mailbox="gina-lasting-secret-0123456789abcdefghij")
    app = make_app()
    join_from_window(app, "frank", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app))
    app.controller.leave()  # back to the start view, as the Leave button does
    make_app.wait(lambda: any(isinstance(e, ev.Left) for e in gina_events.snapshot()), message="frank left")

    gina.send_message("while you were out: 午饭在十二点", to="frank")
    make_app.wait(lambda: gina_events.of(ev.Held), message="gina's message held for frank")

    join_from_window(app, "frank", f"127.0.0.1:{host.port}")  # the same installation comes back
    make_app.wait(lambda: connected(app))
    make_app.wait(
        lambda: "gina" in app.chat_view.panes and "午饭在十二点" in app.chat_view.panes["gina"].content(),
        message="the kept message in frank's private tab with gina",
    )
    make_app.wait(lambda: gina_events.of(ev.Delivered), message="gina told it was delivered")
    assert gina.state is ClientState.CONNECTED
