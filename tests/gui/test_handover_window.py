"""Issue 18: a window whose host hands the room over follows it, says once who hosts the
chat now, and shows the member list of the new host (a real host, over TCP)."""

from __future__ import annotations

import types

from net.api import ClientConfig, ClientState, HostConfig
from net.room import RoomConfig
from net.transports import make_client, make_host
from tests.gui.driving import connected, join_from_window, room_text
from tests.helpers import wait_until
from tests.identity import session_identity
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
        assert bob.host is not None and bob.host.member_count == 2
        make_app.wait(lambda: {m.nick for m in app.controller.members()} == {"bob", "mia"}, message="members")
    finally:
        member.close()
        for host in chat.hosts:
            host.stop()
