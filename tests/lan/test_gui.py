"""The window on a virtual PC: join a chat on another PC from the found list, or host one.

PC2 runs the window (`main.py` with no arguments, settings of its own) on a virtual screen;
the other PCs use the command line. The test acts only as a user would, with real X input:
type a nickname, double-click a chat in the "Join a chat" list or click "Host a chat",
type Chinese text and press Return, press Ctrl+Q. It reads the window back through Tk
(tests/lan/tk_remote.py): where a row or button is, what the list and the chat show.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.helpers import wait_until
from tests.lan import cli
from tests.lan.gui_driver import RemoteTk, Xdo, missing_gui_tools, virtual_screen
from tests.lan.virtual_lan import LanProcess, Pc, VirtualLan

pytestmark = pytest.mark.lan

DEFAULT_PORT = 47800
#: The window's own texts are read and clicked in English.
ENGLISH = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "LANGUAGE": "en"}


@pytest.fixture
def screen(lan_session: None) -> Iterator[str]:
    missing = missing_gui_tools()
    if missing:
        pytest.skip(f"the GUI-on-the-LAN test needs {' and '.join(missing)} (apt-get install xvfb xdotool)")
    with virtual_screen() as display:
        yield display


@dataclass
class Window:
    process: LanProcess
    xdo: Xdo
    app: RemoteTk

    def click(self, widget: str, *, times: int = 1) -> None:
        left, top, width, height = (
            int(self.app.ask("winfo", key, widget)) for key in ("rootx", "rooty", "width", "height")
        )
        self.xdo("mousemove", "--sync", str(left + width // 2), str(top + height // 2))
        self.xdo("click", "--repeat", str(times), "--delay", "120", "1")

    def button(self, text: str) -> str:
        buttons = [b for b in self.app.widgets("TButton") if self.app.ask(b, "cget", "-text") == text]
        assert len(buttons) == 1, f"expected one button {text!r}, found {buttons}"
        return buttons[0]

    def shows_text(self, text: str) -> bool:
        """Whether a conversation (a Text widget) shows `text`."""
        return any(text in self.app.ask(widget, "get", "1.0", "end") for widget in self.app.widgets("Text"))

    def type_checked(self, text: str) -> None:
        """Type `text` into the focused field a character at a time, checking each arrived.

        xdotool types a character missing from the keyboard map (Chinese) by remapping a
        spare key for a moment; when the app reads the key after the map moved on, the
        character is lost. A person would see that and type it again; so does this.
        """
        field = self.app.ask("focus")
        contents = ("get", "1.0", "end-1c") if self.app.ask("winfo", "class", field) == "Text" else ("get",)
        typed = self.app.ask(field, *contents)
        for char in text:
            for _attempt in range(3):
                self.xdo.type(char)
                try:
                    now = wait_until(
                        lambda before=typed: (value := self.app.ask(field, *contents)) != before and value,
                        timeout=2,
                        interval=0.05,
                        message=f"{char!r} typed",
                    )
                except AssertionError:
                    print(f"{char!r} was lost on the way into {field}: typing it again")
                    continue
                assert now == typed + char, f"typing {char!r} into {typed!r} gave {now!r}"
                typed = now
                break
            else:
                raise AssertionError(f"{char!r} could not be typed into {field}")

    def wait_message_field(self) -> None:
        """Wait for the chat view: the message field (the only Text that takes typing) has the focus."""

        wait_until(
            lambda: self.app.focused_class() == "Text",
            timeout=15,
            interval=0.1,
            message="message field focused",
        )

    def quit(self) -> int:
        self.xdo.key("ctrl+q")
        return self.process.wait(15)


def open_window(
    pc: Pc, screen: str, settings: dict | None = None, env: dict[str, str] | None = None
) -> Window:
    """Start `main.py` on `pc` (first start, or with `settings` saved earlier) and focus it."""
    if settings is not None:
        (pc.home / "config").mkdir(parents=True, exist_ok=True)
        (pc.home / "config" / "settings.json").write_text(json.dumps({"version": 1, **settings}))
    # XAUTHORITY of the suite's own virtual screen means nothing to this one.
    own = {"DISPLAY": screen, "XAUTHORITY": "/dev/null", **ENGLISH, **(env or {})}
    process = pc.lanchat(name="window", env=own)
    xdo = Xdo(pc, screen)
    window_id = xdo.window("^LanChat$")
    app = RemoteTk(pc, screen)
    app.attach()
    xdo("windowfocus", "--sync", window_id)
    return Window(process, xdo, app)


def type_nickname(window: Window, nick: str) -> None:
    """On a first start the nickname field has the focus: type into it."""
    field = window.app.ask("focus")
    assert window.app.ask("winfo", "class", field) == "TEntry", f"focus starts on {field}"
    window.xdo.type(nick)
    wait_until(
        lambda: window.app.ask(field, "get") == nick, timeout=10, interval=0.1, message="nickname typed"
    )


def test_the_window_joins_a_chat_on_another_pc_from_the_found_list(
    screen: str, lan: VirtualLan, transport: str
) -> None:
    # (`screen` comes first so that it is torn down last, after every process on the LAN.)
    room = "三楼办公室"
    host = cli.start_host(lan[1], transport, "--name", room)
    bob = cli.join(lan[3], lan[1].ipv4, "bob", transport)
    window = open_window(lan[2], screen)
    type_nickname(window, "alice")

    # The chat on PC1 appears in the list, with PC1's LAN address and its transport.
    app = window.app
    [found_list] = app.widgets("Treeview")

    def row_for_room() -> str | None:
        rows = app.ask_list(found_list, "children", "")
        # The room is the first column (gui.found_columns.COLUMNS).
        first_columns = {row: app.ask_list(found_list, "item", row, "-values")[:1] for row in rows}
        return next((row for row, first in first_columns.items() if first == [room]), None)

    def listed_at_lan_address() -> list[str] | None:
        row = row_for_room()
        shown = app.ask_list(found_list, "item", row, "-values") if row else []
        return shown if f"{lan[1].ipv4}:{DEFAULT_PORT}" in shown else None

    shown = wait_until(
        listed_at_lan_address, timeout=15, interval=0.1, message=f"{room!r} listed at PC1's address"
    )
    assert transport.upper() in shown, shown

    # Double-click the row.
    row = row_for_room()
    x, y, width, height = (int(n) for n in app.ask_list(found_list, "bbox", row))
    left, top = int(app.ask("winfo", "rootx", found_list)), int(app.ask("winfo", "rooty", found_list))
    window.xdo.double_click(left + x + width // 3, top + y + height // 2)
    host.expect(re.compile(rf"alice joined from \[?(::ffff:)?{re.escape(lan[2].ipv4)}\]?:"), timeout=15)
    bob.expect(cli.joined_line("alice"), timeout=cli.DELIVERY_TIMEOUT)

    window.wait_message_field()
    window.type_checked("你好，我在二号机的窗口里")
    window.xdo.key("Return")
    bob.expect(cli.chat_line("alice", "你好，我在二号机的窗口里"), timeout=cli.DELIVERY_TIMEOUT)
    bob.send("欢迎！三号机收到了")
    wait_until(
        lambda: window.shows_text("欢迎！三号机收到了"), timeout=10, interval=0.1, message="reply shown"
    )

    assert window.quit() == 0
    bob.expect(cli.left_line("alice"), timeout=cli.DELIVERY_TIMEOUT)


def test_the_window_hosts_and_another_pc_joins_at_the_address_it_shows(
    screen: str, lan: VirtualLan, transport: str
) -> None:
    room = "二号机的聊天室"
    # A user who chose the transport in Settings earlier (TCP is the default).
    window = open_window(lan[2], screen, {"network": {"transport": transport}})
    type_nickname(window, "alice")
    host_button = window.button("Host a chat")
    room_field, _port_field = window.app.widgets("TEntry")[1:3]
    assert window.app.ask("winfo", "parent", room_field) == window.app.ask("winfo", "parent", host_button)
    window.click(room_field, times=3)  # a triple click selects the default name
    window.xdo.key("BackSpace")
    wait_until(
        lambda: window.app.ask(room_field, "get") == "", timeout=10, interval=0.1, message="name cleared"
    )
    window.type_checked(room)
    window.click(host_button)
    window.wait_message_field()

    # "Invite others" shows an invite at PC2's LAN address (the one the other PCs really reach
    # it at), the room code on a line of its own.
    invite_pattern = re.compile(
        r"^lanchat://((?:\d+\.\d+\.\d+\.\d+|\[[0-9a-f:%.\w]+\]):\d+)(?:/udp)?\n#[0-9A-F]{4}(?:-[0-9A-F]{4}){4}$"
    )
    invites = [
        found
        for label in window.app.widgets("TLabel")
        if (found := invite_pattern.match(window.app.ask(label, "cget", "-text")))
    ]
    shown = [found[1] for found in invites]
    assert shown == [f"{lan[2].ipv4}:{DEFAULT_PORT}"], shown

    [listed] = [found for found in cli.discover(lan[3])[0] if found.room == room]
    assert (listed.endpoint, listed.transport, listed.host, listed.members) == (
        shown[0],
        transport,
        "alice",
        1,
    )
    invite = invites[0][0].replace("\n", "")  # as its Copy button copies it
    bob = cli.join(lan[3], invite, "bob", transport)  # the host's key checked against the code
    wait_until(lambda: window.shows_text("bob"), timeout=10, interval=0.1, message="bob's arrival shown")
    bob.send("主持人你好，我是三号机")
    wait_until(
        lambda: window.shows_text("主持人你好，我是三号机"), timeout=10, interval=0.1, message="bob's line"
    )
    window.type_checked("欢迎来到二号机")
    window.xdo.key("Return")
    bob.expect(cli.chat_line("alice", "欢迎来到二号机"), timeout=cli.DELIVERY_TIMEOUT)

    # Closing the window stops the host: the member on PC3 sees it go.
    mark = bob.mark()
    assert window.quit() == 0
    bob.expect(cli.RECONNECTING, after=mark, timeout=cli.DELIVERY_TIMEOUT)
