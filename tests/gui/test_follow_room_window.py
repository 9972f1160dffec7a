"""The window follows its room when the host comes back on the other transport (issue 15.6):
a real host restarted over UDP with the same key, discovery confined to loopback."""

from __future__ import annotations

from hosting import start_discoverable_host
from net.api import HostConfig, Transport
from net.room import RoomConfig
from tests.client.test_follow_room import port_free_for_both
from tests.gui.driving import connected, join_from_window, room_text
from tests.identity import session_identity


def test_the_window_follows_a_host_back_on_udp_and_says_so(make_app) -> None:
    port = port_free_for_both()

    def host(transport: Transport):
        # No handover: the room comes back with its own host, not with the window (which
        # would otherwise take it over, as the first successor, when the host stops).
        room = RoomConfig(name="Moving")
        identity = session_identity()
        config = HostConfig(port=port, bind="127.0.0.1", room=room, identity=identity, handover=False)
        return start_discoverable_host(transport, config, port_given=True, nick="hank")

    first = host(Transport.TCP)
    try:
        app = make_app(nickname="mia", transport="tcp")
        join_from_window(app, "mia", f"127.0.0.1:{port}")
        make_app.wait(lambda: connected(app), message="the window to join")
    finally:
        first.stop()
    again = host(Transport.UDP)
    try:
        moved = f"The chat moved to UDP at 127.0.0.1:{port}; reconnecting there."
        make_app.wait(lambda: moved in room_text(app), timeout=15, message="the move to be told")
        make_app.wait(lambda: connected(app), timeout=10, message="the window to reconnect over UDP")
        assert "Reconnected to “Moving”." in room_text(app)
        assert app.chat_view.status_details.cget("text").startswith("UDP")
        assert again.member_count == 1
    finally:
        again.stop()
