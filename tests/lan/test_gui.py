"""The window on a virtual PC: find the chat hosted on another PC in the list and join it.

PC1 runs `main.py host`; PC3 a terminal member; PC2 runs the window (`main.py` with no
arguments, fresh settings) on a virtual screen. The test acts only as a user would, with
real X input: type a nickname, double-click the chat in the "Join a chat" list, type a
Chinese message and press Return, read the reply, press Ctrl+Q. It reads the window back
through Tk (tests/lan/tk_remote.py) to find where the row is and what the chat shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.helpers import wait_until
from tests.lan import cli
from tests.lan.gui_driver import RemoteTk, Xdo, missing_gui_tools, virtual_screen
from tests.lan.virtual_lan import VirtualLan

pytestmark = pytest.mark.lan

DEFAULT_PORT = 47800


@pytest.fixture
def screen(lan_session: None) -> Iterator[str]:
    missing = missing_gui_tools()
    if missing:
        pytest.skip(f"the GUI-on-the-LAN test needs {' and '.join(missing)} (apt-get install xvfb xdotool)")
    with virtual_screen() as display:
        yield display


def test_the_window_joins_a_chat_on_another_pc_from_the_found_list(
    screen: str, lan: VirtualLan, transport: str
) -> None:
    # (`screen` comes first so that it is torn down last, after every process on the LAN.)
    room = "三楼办公室"
    host = cli.start_host(lan[1], transport, "--name", room)
    bob = cli.join(lan[3], lan[1].ipv4, "bob", transport)

    # XAUTHORITY of the suite's own virtual screen means nothing to this one.
    window = lan[2].lanchat(name="window", env={"DISPLAY": screen, "XAUTHORITY": "/dev/null"})
    xdo = Xdo(lan[2], screen)
    window_id = xdo.window("^LanChat$")
    app = RemoteTk(lan[2], screen)
    app.attach()
    xdo("windowfocus", "--sync", window_id)

    # A first start: the nickname field has the focus. Type a nickname as a user would.
    nick_field = app.ask("focus")
    assert app.ask("winfo", "class", nick_field) == "TEntry", f"focus starts on {nick_field}"
    xdo.type("alice")
    wait_until(
        lambda: app.ask(nick_field, "get") == "alice", timeout=10, interval=0.1, message="nickname typed"
    )

    # The chat on PC1 appears in the list, with PC1's LAN address and its transport.
    [found_list] = app.widgets("Treeview")

    def row_for_room() -> str | None:
        rows = app.ask_list(found_list, "children", "")
        return next((row for row in rows if app.ask(found_list, "item", row, "-text") == room), None)

    row = wait_until(row_for_room, timeout=15, interval=0.1, message=f"{room!r} in the found list")
    shown = app.ask_list(found_list, "item", row, "-values")
    assert f"{lan[1].ipv4}:{DEFAULT_PORT}" in shown, shown
    assert transport.upper() in shown, shown

    # Double-click the row.
    x, y, width, height = (int(n) for n in app.ask_list(found_list, "bbox", row))
    left, top = int(app.ask("winfo", "rootx", found_list)), int(app.ask("winfo", "rooty", found_list))
    xdo.double_click(left + x + width // 3, top + y + height // 2)
    host.expect(re.compile(rf"alice joined from \[?(::ffff:)?{re.escape(lan[2].ipv4)}\]?:"), timeout=15)
    bob.expect(cli.joined_line("alice"), timeout=cli.DELIVERY_TIMEOUT)

    # Once the chat view is shown, the message field has the focus: type Chinese, press Return.
    def message_field_focused() -> bool:
        focused = app.ask("focus")  # the start view has no Text widget; the chat view types into one
        return bool(focused) and app.ask("winfo", "class", focused) == "Text"

    wait_until(message_field_focused, timeout=10, interval=0.1, message="the message field focused")
    xdo.type("你好，我在二号机的窗口里")
    xdo.key("Return")
    bob.expect(cli.chat_line("alice", "你好，我在二号机的窗口里"), timeout=cli.DELIVERY_TIMEOUT)

    bob.send("欢迎！三号机收到了")

    def conversation_shows_reply() -> bool:
        return any("欢迎！三号机收到了" in app.ask(text, "get", "1.0", "end") for text in app.widgets("Text"))

    wait_until(
        conversation_shows_reply, timeout=cli.DELIVERY_TIMEOUT, interval=0.1, message="bob's reply shown"
    )

    # Ctrl+Q closes the window and leaves the chat cleanly.
    xdo.key("ctrl+q")
    assert window.wait(15) == 0
    bob.expect(cli.left_line("alice"), timeout=cli.DELIVERY_TIMEOUT)
