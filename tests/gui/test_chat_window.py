"""The window against real TCP hosts and clients on 127.0.0.1, driven like a user."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from gui.model.values import ROOM
from hosting import start_discoverable_host
from net.api import HostConfig, Transport
from net.protocol import events as ev
from net.protocol.limits import DEFAULT_PORT
from net.protocol.nicknames import nick_key
from net.room import RoomConfig
from tests.gui.conftest import free_port
from tests.gui.driving import (
    connected,
    double_click,
    host_from_window,
    join_from_window,
    press,
    room_text,
    say,
)
from tests.identity import secure


def test_host_from_the_window_and_chat_both_ways(make_app, headless_client):
    app = make_app()
    port = free_port()
    host_from_window(app, "alice", "Team room", port)
    make_app.wait(lambda: connected(app), message="the window to join its own host")
    view = app.chat_view
    assert view.room_name == "Team room"
    assert app.controller.hosting
    assert f"hosting on this PC, port {port}" in view.status_details.cget("text")

    bob, bob_events = headless_client(port, "bob")
    make_app.wait(lambda: "bob joined the chat." in room_text(app), message="bob's join line")
    assert next(m.nick for m in app.controller.members()) == "alice"  # the host comes first
    assert app.controller.members()[0].host

    say(view, "hello bob 😀")
    make_app.wait(
        lambda: any(m.text == "hello bob 😀" and m.sender == "alice" for m in bob_events.of(ev.ChatMessage)),
        message="bob to get alice's message",
    )
    make_app.wait(lambda: not view.panes[ROOM].pending_ids(), message="the message to be acknowledged")
    assert view.input.get("1.0", "end-1c") == ""

    bob.send_message("hi alice, https://example.org/x works")
    make_app.wait(lambda: "hi alice, https://example.org/x works" in room_text(app), message="bob's message")
    pane = view.panes[ROOM]
    start = pane.text.search("https://", "1.0")
    assert pane.link_at(start) == "https://example.org/x"


def test_join_a_headless_host_and_chat(make_app, headless_host, headless_client):
    host = headless_host(room="Lobby")
    carol, carol_events = headless_client(host.port, "carol")
    app = make_app()
    join_from_window(app, "dave", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app))
    assert app.chat_view.room_name == "Lobby"
    make_app.wait(lambda: app.root.title() == "Lobby — LanChat", message="the title to name the room")
    assert {m.nick for m in app.controller.members()} == {"carol", "dave"}

    say(app.chat_view, "/me waves")
    make_app.wait(lambda: any(m.action and m.text == "waves" for m in carol_events.of(ev.ChatMessage)))
    assert "* dave waves" in room_text(app)
    carol.send_message("welcome dave")
    make_app.wait(lambda: "welcome dave" in room_text(app))
    # The mention of our nickname is highlighted.
    pane = app.chat_view.panes[ROOM]
    assert pane.text.tag_ranges("mention")
    assert f"127.0.0.1:{host.port}" in app.settings.recent_hosts[0]


def test_private_tab_both_ways(make_app, headless_host, headless_client):
    host = headless_host()
    erin, erin_events = headless_client(host.port, "erin")
    app = make_app()
    join_from_window(app, "frank", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app) and "erin" in {m.nick for m in app.controller.members()})
    view = app.chat_view

    # Double-clicking a member opens a private tab.
    tree = view.members_tree
    tree.update()
    item = nick_key("erin")
    x, y, *_ = tree.bbox(item)
    double_click(tree, x + 5, y + 5)
    assert view.current_key() == "erin"
    say(view, "just for you")
    make_app.wait(
        lambda: any(m.text == "just for you" and m.to == "erin" for m in erin_events.of(ev.ChatMessage))
    )
    assert "just for you" not in room_text(app)

    # A reply lands in the private tab; while another tab is shown it counts as unread.
    view.notebook.select(view.panes[ROOM])
    make_app.pump()
    erin.send_message("psst", to="frank")
    make_app.wait(lambda: "psst" in view.panes["erin"].content())
    assert view.unread["erin"] == 1
    assert "(1)" in view.notebook.tab(view.panes["erin"], "text")
    view.notebook.select(view.panes["erin"])
    make_app.pump()
    assert view.unread["erin"] == 0

    # Ctrl+W closes the private tab.
    press(view.input, "<Control-w>")
    assert "erin" not in view.panes
    # /msg opens it again and sends.
    say(view, "/msg erin again")
    make_app.wait(lambda: any(m.text == "again" for m in erin_events.of(ev.ChatMessage)))
    assert view.current_key() == "erin"


def test_rename_join_and_leave_lines(make_app, headless_host, headless_client):
    host = headless_host()
    app = make_app()
    join_from_window(app, "gina", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app))
    hank, _ = headless_client(host.port, "hank")
    make_app.wait(lambda: "hank joined the chat." in room_text(app))
    hank.rename("henry")
    make_app.wait(lambda: "hank is now known as henry." in room_text(app))
    assert "henry" in {m.nick for m in app.controller.members()}

    say(app.chat_view, "/nick georgina")
    make_app.wait(lambda: "You are now known as georgina." in room_text(app))
    assert app.chat_view.own_nick == "georgina"
    assert app.settings.nickname == "georgina"

    hank.close()
    make_app.wait(lambda: "henry left the chat." in room_text(app))
    assert "henry" not in {m.nick for m in app.controller.members()}


def test_typing_indicator_shows_and_clears(make_app, headless_host, headless_client):
    host = headless_host()
    app = make_app()
    join_from_window(app, "ivy", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app))
    jack, _ = headless_client(host.port, "jack")
    make_app.wait(lambda: "jack" in {m.nick for m in app.controller.members()})
    jack.set_typing(True)
    pane = app.chat_view.panes[ROOM]
    make_app.wait(lambda: pane.typing_label.cget("text") == "jack is typing…")
    assert "✎" in app.chat_view.members_tree.item(nick_key("jack"), "text")
    jack.send_message("done typing")
    make_app.wait(lambda: pane.typing_label.cget("text") == "")


def test_status_bar_shows_reconnecting_then_connected(make_app, headless_host):
    port = free_port()
    host = headless_host(port=port)
    app = make_app()
    join_from_window(app, "kim", f"127.0.0.1:{port}")
    make_app.wait(lambda: connected(app))
    view = app.chat_view
    assert view.status_label.cget("text") == "Connected"
    assert f"127.0.0.1:{port}" in view.status_details.cget("text")
    assert "TCP" in view.status_details.cget("text")

    host.stop()
    make_app.wait(lambda: view.status_label.cget("text").startswith("Reconnecting"), message="reconnecting")
    assert "The host closed the chat." in view.status_label.cget("text")
    headless_host(port=port)
    make_app.wait(lambda: view.status_label.cget("text") == "Connected", timeout=15, message="reconnected")
    assert "Reconnected to" in room_text(app)


def test_refused_connection_shows_its_sentence(make_app):
    app = make_app()
    port = free_port()
    join_from_window(app, "leo", f"127.0.0.1:{port}")
    make_app.wait(lambda: app.start_view is not None and app.start_view.error_label.cget("text"))
    text = app.start_view.error_label.cget("text")
    assert text.startswith(f"Nobody is hosting a chat at 127.0.0.1:{port}")
    assert not app.start_view.connecting
    assert app.controller.session is None


def test_unknown_host_shows_its_sentence(make_app, monkeypatch):
    # No real DNS lookup (the network rule): the resolver answers "no such name" for this name
    # as it would, and resolves anything else (numeric loopback addresses) as before.
    real_getaddrinfo = socket.getaddrinfo
    looked_up: list[object] = []

    def no_such_host(host, *args, **kwargs):
        if host != "no-such-host.invalid":
            return real_getaddrinfo(host, *args, **kwargs)
        looked_up.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    app = make_app()
    join_from_window(app, "mia", "no-such-host.invalid")
    make_app.wait(lambda: app.start_view.error_label.cget("text"))
    assert "could not be found" in app.start_view.error_label.cget("text")
    assert looked_up == ["no-such-host.invalid"]


def test_bad_input_is_refused_before_connecting(make_app):
    app = make_app()
    join_from_window(app, "", "127.0.0.1")
    assert app.start_view.error_label.cget("text") == "Please enter a nickname."
    join_from_window(app, "ned", "")
    assert "address" in app.start_view.error_label.cget("text")
    join_from_window(app, "ned", "host:99999")
    assert "is not an address" in app.start_view.error_label.cget("text")
    assert app.controller.session is None


def test_port_in_use_is_explained(make_app, headless_host):
    taken = headless_host().port
    app = make_app()
    host_from_window(app, "olga", "Room", taken)
    assert f"Port {taken} is already in use" in app.start_view.error_label.cget("text")


def test_closing_the_window_stops_threads_and_frees_the_port(make_app, headless_host, headless_client):
    before = set(threading.enumerate())
    app = make_app()
    port = free_port()
    host_from_window(app, "pat", "Closing", port)
    make_app.wait(lambda: connected(app))
    _quinn, quinn_events = headless_client(port, "quinn")
    make_app.wait(lambda: "quinn" in {m.nick for m in app.controller.members()})

    # What the window manager does when the user clicks the close button.
    started = time.monotonic()
    app.root.tk.call(app.root.protocol("WM_DELETE_WINDOW"))
    assert time.monotonic() - started < 2.0
    assert app.closed and make_app.exits == 1
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    quinn_threads = [t for t in leftover if "client" in t.name.lower()]
    assert len(leftover) == len(quinn_threads), leftover
    # The member was told, and the port is free again.
    make_app.wait(
        lambda: quinn_events.of(ev.Left) or _host_left(quinn_events), message="quinn to hear the host stop"
    )
    replacement = headless_host(port=port)  # binds like any host would
    assert replacement.port == port


def _host_left(events) -> bool:
    from net.api import FailureKind, StateChanged

    return any(e.failure is FailureKind.HOST_LEFT for e in events.of(StateChanged))


@pytest.mark.parametrize("command", ["/help"])
def test_help_lists_commands(make_app, headless_host, command):
    host = headless_host()
    app = make_app()
    join_from_window(app, "rob", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app))
    say(app.chat_view, command)
    text = room_text(app)
    for name in ("/me", "/msg", "/nick", "/clear", "/help", "/quit"):
        assert name in text
    say(app.chat_view, "/frobnicate")
    assert "There is no command /frobnicate." in room_text(app)
    assert app.chat_view.input.get("1.0", "end-1c") == "/frobnicate"  # kept for fixing
    say(app.chat_view, "/clear")
    assert room_text(app) == ""


def test_udp_chosen_in_settings_hosts_and_joins_over_udp(make_app, headless_host, headless_client):
    app = make_app(nickname="uma")
    dialog = app.open_settings()
    dialog.udp_button.invoke()
    dialog.ok_button.invoke()
    assert app.settings.transport == "udp"
    assert "UDP" in app.start_view.transport_label.cget("text")

    port = free_port()
    host_from_window(app, "uma", "Over UDP", port)
    make_app.wait(lambda: connected(app), message="the window to join its own UDP host")
    assert "UDP" in app.chat_view.status_details.cget("text")
    victor, victor_events = headless_client(port, "victor", transport=Transport.UDP)
    make_app.wait(lambda: "victor joined the chat." in room_text(app))
    say(app.chat_view, "datagrams 📦 arrive")
    make_app.wait(lambda: any(m.text == "datagrams 📦 arrive" for m in victor_events.of(ev.ChatMessage)))
    victor.send_message("and so do replies")
    make_app.wait(lambda: "and so do replies" in room_text(app))
    app.close()

    # Joining a headless UDP host from a fresh window with the setting kept.
    other = headless_host(transport=Transport.UDP, room="UDP lobby")
    again = make_app()
    join_from_window(again, "uma", f"127.0.0.1:{other.port}")
    make_app.wait(lambda: connected(again))
    assert again.chat_view.room_name == "UDP lobby"
    assert "UDP" in again.chat_view.status_details.cget("text")


def test_a_chat_found_on_the_lan_joins_with_a_double_click(make_app):
    """Discovery on loopback (LANCHAT_LOOPBACK_ONLY): the list shows it; its transport wins."""
    found = start_discoverable_host(
        Transport.UDP,
        HostConfig(port=DEFAULT_PORT, room=RoomConfig(name="Found on the LAN"), **secure({})),
        port_given=False,
        nick="wendy",
    )
    try:
        app = make_app(nickname="xena", transport="tcp")
        view = app.start_view
        make_app.wait(
            lambda: any(entry.room == "Found on the LAN" for entry in view.found.values()),
            timeout=15,
            message="the chat to be found",
        )
        item = next(item for item, entry in view.found.items() if entry.room == "Found on the LAN")
        assert view.found_tree.set(item, "host") == "wendy"
        assert view.found_tree.set(item, "transport") == "UDP"
        view.found_tree.see(item)
        make_app.pump()
        x, y, _w, h = view.found_tree.bbox(item)
        tree = view.found_tree
        tree.focus_force()
        tree.update()
        for _ in range(2):  # a double-click, and typing straight away (before the chat is shown)
            tree.event_generate("<ButtonPress-1>", x=x + 10, y=y + h // 2)
            tree.event_generate("<ButtonRelease-1>", x=x + 10, y=y + h // 2)
        for key in ("h", "i", "exclam", "BackSpace", "space", "w"):
            tree.event_generate(f"<KeyPress-{key}>")
        make_app.wait(lambda: connected(app))
        assert app.chat_view.input.get("1.0", "end-1c") == "hi w"  # nothing typed was lost
        assert app.chat_view.room_name == "Found on the LAN"
        assert "UDP" in app.chat_view.status_details.cget("text")
        assert app.settings.transport == "tcp"  # the setting itself is unchanged
    finally:
        found.stop()


def test_two_rooms_of_one_name_are_listed_as_two_with_their_codes(make_app):
    """Issue 14: two installations (two keys) host "Twins"; the list shows both, with codes."""
    keys = [bytes([n]) * 32 for n in (0x7F, 0x2A)]
    hosts = [
        start_discoverable_host(
            Transport.TCP,
            HostConfig(port=DEFAULT_PORT, room=RoomConfig(name="Twins")),
            port_given=False,
            nick="alice",
            fingerprint=key,
        )
        for key in keys
    ]
    try:
        app = make_app(nickname="viewer")
        view = app.start_view

        def twins() -> dict[str, str]:
            return {
                view.found_tree.set(item, "code"): item for item, e in view.found.items() if e.room == "Twins"
            }

        make_app.wait(lambda: len(twins()) == 2, timeout=15, message="both rooms listed")
        # The list shows the first two groups of each code, beside the room's name.
        assert sorted(twins()) == ["2A2A-2A2A", "7F7F-7F7F"]
        assert view.found_tree.heading("code", "text") == "Code"
        assert tuple(view.found_tree["displaycolumns"])[:2] == ("room", "code")  # the code beside the name
        # Selecting one shows its whole code (to compare with the one its host reads out).
        assert not view.code_label.winfo_ismapped()
        view.found_tree.selection_set(twins()["7F7F-7F7F"])
        make_app.pump()
        assert view.code_label.cget("text") == "Room code of “Twins”: 7F7F-7F7F-7F7F-7F7F-7F7F"
        assert view.code_label.winfo_ismapped()
        assert view.address_var.get().endswith(f":{hosts[0].port}")
    finally:
        for host in hosts:
            host.stop()


def test_the_found_list_shows_two_hosts_live_and_drops_a_stopped_one(make_app, headless_client):
    """Issue 5: a TCP and a UDP host on loopback, with names, transports and member counts."""
    hosts = []
    try:
        for transport, room, nick in (
            (Transport.TCP, "Teahouse", "yan"),
            (Transport.UDP, "Courtyard", "zoe"),
        ):
            hosts.append(
                start_discoverable_host(
                    transport,
                    HostConfig(port=DEFAULT_PORT, room=RoomConfig(name=room), **secure({})),
                    port_given=False,
                    nick=nick,
                )
            )
        app = make_app(nickname="viewer")
        view = app.start_view

        def rows() -> dict[str, tuple]:
            """Each room's host, members, transport and address, as the list shows them."""
            shown = ("host", "members", "transport", "address")
            return {
                entry.room: tuple(view.found_tree.set(item, column) for column in shown)
                for item, entry in view.found.items()
            }

        make_app.wait(lambda: {"Teahouse", "Courtyard"} <= set(rows()), timeout=15, message="both chats")
        assert rows()["Teahouse"][0] == "yan" and rows()["Teahouse"][2] == "TCP"
        assert rows()["Courtyard"][0] == "zoe" and rows()["Courtyard"][2] == "UDP"
        assert rows()["Teahouse"][3].endswith(f":{hosts[0].port}")

        headless_client(hosts[1].port, "guest", transport=Transport.UDP)
        make_app.wait(
            lambda: rows().get("Courtyard", ("", ""))[1] == "1", timeout=15, message="member count 1"
        )
        assert rows()["Teahouse"][1] == "0"

        hosts.pop(0).stop()  # says goodbye: gone at once, well within the announced timeout
        make_app.wait(lambda: "Teahouse" not in rows(), timeout=5, message="the stopped chat to go")
        assert "Courtyard" in rows()
    finally:
        for host in hosts:
            host.stop()
