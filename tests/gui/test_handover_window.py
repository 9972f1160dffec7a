"""Issue 18: a window whose host hands the room over follows it, says once who hosts the
chat now, and shows the member list of the new host (a real host, over TCP); and a window
that is the first successor takes the room over when its host stops or is killed: it
hosts, and headless members follow to it."""

from __future__ import annotations

import dataclasses
import os
import signal
import types

import pytest

from gui.joining import JoinRequest
from net.api import ChatClient, ClientConfig, ClientState, HostConfig, RoomMoved
from net.protocol import events as ev
from net.room import RoomConfig
from net.transports import make_client, make_host
from tests.gui.conftest import EventLog
from tests.gui.driving import connected, join_from_window, room_text, say
from tests.helpers import wait_until
from tests.identity import session_identity
from tests.processes import MainProcess
from tests.transport.handover_kit import FOLLOWING, Successor


def test_the_window_follows_a_handover_and_shows_the_new_host(make_app) -> None:
    chat = types.SimpleNamespace(transport="tcp", hosts=[])
    config = HostConfig(port=0, bind="127.0.0.1", room=RoomConfig(name="Moving"), identity=session_identity())
    old = make_host("tcp", config)
    chat.hosts.append(old)
    old.start()
    bob = Successor(chat, "bob")
    settings = ClientConfig(host="127.0.0.1", port=old.port, nick="bob", host_offer=bob.offer(), **FOLLOWING)
    member = make_client("tcp", settings, lambda event: None)
    try:
        member.start()
        wait_until(lambda: member.state is ClientState.CONNECTED, message="bob joined")
        app = make_app(nickname="mia", transport="tcp")
        join_from_window(app, "mia", f"127.0.0.1:{old.port}")
        make_app.wait(lambda: connected(app), message="the window to join")
        make_app.wait(lambda: {m.nick for m in app.controller.members()} == {"bob", "mia"}, message="members")
        make_app.wait(
            lambda: app.controller.session.client._client._follower.successors, message="the successors named"
        )
        old.stop()
        make_app.wait(lambda: "bob hosts the chat now" in room_text(app), timeout=15, message="the new host")
        make_app.wait(lambda: connected(app), timeout=10, message="the window to follow bob")
        assert room_text(app).count("bob hosts the chat now") == 1
        # A handover is no failure: said as such, not as "The host closed the chat." in red.
        assert "The host left and handed the chat over: following it." in room_text(app)
        assert "The host closed the chat." not in room_text(app)
        assert bob.host is not None and bob.host.member_count == 2
        make_app.wait(lambda: {m.nick for m in app.controller.members()} == {"bob", "mia"}, message="members")
    finally:
        member.close()
        for host in chat.hosts:
            host.stop()


def _headless_members(port: int, nicks: list[str]) -> tuple[dict[str, ChatClient], dict[str, EventLog]]:
    clients: dict[str, ChatClient] = {}
    logs: dict[str, EventLog] = {}
    for nick in nicks:
        logs[nick] = EventLog()
        settings = ClientConfig(host="127.0.0.1", port=port, nick=nick, **FOLLOWING)
        clients[nick] = make_client("tcp", settings, logs[nick])
        clients[nick].start()
        wait_until(lambda c=clients[nick]: c.state is ClientState.CONNECTED, message=f"{nick} joined")
    return clients, logs


def _the_window_hosts_and_the_others_follow(make_app, app, clients, logs) -> None:
    make_app.wait(lambda: "You host the chat now" in room_text(app), timeout=15, message="the takeover")
    session = app.controller.session
    assert session is not None and session.host is not None, "the session owns the window's new host"
    assert app.controller.hosting
    port = session.host.port
    make_app.wait(lambda: app.chat_view.status.hosting, message="the status bar says hosting")
    at_window = f"127.0.0.1:{port}"
    make_app.wait(
        lambda: all(c.address == at_window and c.state is ClientState.CONNECTED for c in clients.values()),
        timeout=15,
        message="the headless members follow to the window's host",
    )
    for nick, log in logs.items():
        assert [m.new_host for m in log.of(RoomMoved)] == ["mia"], nick
    make_app.wait(
        lambda: {m.nick for m in app.controller.members()} == {"mia", *clients}, message="the member list"
    )
    assert app.controller.members()[0].nick == "mia" and app.controller.members()[0].host
    clients["bob"].send_message("hello new host")
    make_app.wait(lambda: "hello new host" in room_text(app), message="bob's message in the window")
    say(app.chat_view, "welcome to my PC")
    heard = lambda: [m.text for m in logs["carol"].of(ev.ChatMessage)]  # noqa: E731
    wait_until(lambda: "welcome to my PC" in heard(), message="carol hears the window")
    assert room_text(app).count("You host the chat now") == 1
    assert "The host closed the chat." not in room_text(app)


def test_the_window_takes_the_room_over_when_its_host_stops(make_app) -> None:
    config = HostConfig(port=0, bind="127.0.0.1", room=RoomConfig(name="Moving"), identity=session_identity())
    old = make_host("tcp", config)
    old.start()
    clients: dict[str, ChatClient] = {}
    try:
        app = make_app(nickname="mia", transport="tcp")
        join_from_window(app, "mia", f"127.0.0.1:{old.port}")
        make_app.wait(lambda: connected(app), message="the window to join")
        clients, logs = _headless_members(old.port, ["bob", "carol"])
        make_app.wait(
            lambda: all([e.nick for e in c._follower.successors] == ["mia"] for c in clients.values()),
            message="the window's member named successor",
        )
        old.stop()
        _the_window_hosts_and_the_others_follow(make_app, app, clients, logs)
    finally:
        for client in clients.values():
            client.close()
        old.stop()


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_the_window_takes_the_room_over_when_its_host_is_killed(make_app, tmp_path, monkeypatch) -> None:
    original = JoinRequest.client_config

    def quick(self, **kwargs):  # notice a vanished host within seconds, as the headless members do
        return dataclasses.replace(original(self, **kwargs), heartbeat_timeout=2.0, heartbeat_interval=0.5)

    monkeypatch.setattr(JoinRequest, "client_config", quick)
    env = {"LANCHAT_CONFIG_DIR": str(tmp_path / "host-cfg"), "LANCHAT_DATA_DIR": str(tmp_path / "host-data")}
    arguments = ("--bind", "127.0.0.1", "--name", "Killed", "--port", "0", "--transport", "tcp")
    process = MainProcess("host", *arguments, env=env)
    clients: dict[str, ChatClient] = {}
    try:
        port = int(process.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        app = make_app(nickname="mia", transport="tcp")
        join_from_window(app, "mia", f"127.0.0.1:{port}")
        make_app.wait(lambda: connected(app), message="the window to join")
        clients, logs = _headless_members(port, ["bob", "carol"])
        make_app.wait(
            lambda: all([e.nick for e in c._follower.successors] == ["mia"] for c in clients.values()),
            message="the window's member named successor",
        )
        os.kill(process.proc.pid, signal.SIGKILL)
        process.wait(10)
        _the_window_hosts_and_the_others_follow(make_app, app, clients, logs)
    finally:
        for client in clients.values():
            client.close()
        process.kill()


def test_hosting_a_room_that_moved_on_says_where_it_is() -> None:
    """One room (issue 18): the window's Host button, for a room whose successor hosts it at
    a newer epoch, says where to join instead of opening a second room."""
    from gui import i18n
    from gui.wording import host_error_sentence
    from net.host.returning import Elsewhere, RoomElsewhere

    refused = RoomElsewhere("Moving", Elsewhere("bob", "10.0.0.2", 47800, "udp", 1))
    assert host_error_sentence(refused, 47800) == (
        "“Moving” moved on while you were away: bob hosts it now at 10.0.0.2:47800 (UDP). Join it there."
    )
    i18n.set_language("zh_CN")
    chinese = host_error_sentence(refused, 47800)
    assert "bob" in chinese and "10.0.0.2:47800" in chinese and "moved on" not in chinese
