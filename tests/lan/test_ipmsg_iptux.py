"""Interop with the real iptux (Debian's package) on the virtual LAN (issue 19).

Files both ways too: iptux accepts a file LanChat offers (its Accept button and folder
chooser), and LanChat receives a file iptux sends (its Attach File chooser and Send).

iptux runs under its own Xvfb in PC 1, LanChat's IP Messenger bridge (tests/lan/ipmsg_agent.py)
in PC 2; both use the real port 2425 and real broadcasts, inside the test's namespaces only.
LanChat must list iptux's user, a Chinese message from LanChat must be acknowledged by
iptux (RECVMSG), and a message typed into iptux's chat window with xdotool must arrive:
once with the bridge alone (its events), once through the real window (`main.py` on a
virtual screen: the "On IP Messenger / 飞秋" list, a private tab, the ✓ mark, iptux's answer).

iptux is configured through its own config file ($HOME/.iptux/config.json, keys read by its
ProgramData::ReadProgData: nick_name, belong_group, use_enter_key). There is no window
manager: keyboard focus follows the pointer, so the test moves the pointer into the input.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.lan import virtual_lan as vlan
from tests.lan.gui_driver import missing_gui_tools, virtual_screen
from tests.lan.test_gui import Window, open_window

pytestmark = pytest.mark.lan
MISSING = [tool for tool in ("iptux", "Xvfb", "xdotool") if shutil.which(tool) is None]
if MISSING:
    pytestmark = [pytest.mark.lan, pytest.mark.skip(
        reason=f"{', '.join(MISSING)} not installed: `sudo apt-get install iptux xvfb xdotool` "
        "(`make test` installs them when run as root, see .ci/ensure_system_deps.sh)"
    )]  # fmt: skip

IPTUX_NICK = "图克斯"
LANCHAT_NICK = "小王"


def free_display() -> int:
    """A display number no X server on this machine uses (the lock files are machine-wide)."""
    for number in range(70 + os.getpid() % 20, 100):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise RuntimeError("no free X display number between 70 and 99")


def poll(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Desktop:
    """An X display inside one PC, driven with xdotool."""

    def __init__(self, pc: vlan.Pc, display: int) -> None:
        self.pc = pc
        self.display = f":{display}"

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = ["ip", "netns", "exec", self.pc.netns, "env", f"DISPLAY={self.display}", *argv]
        return subprocess.run(command, capture_output=True, text=True, timeout=20)

    def xdotool(self, *args: str) -> str:
        return self.run("xdotool", *args).stdout.strip()

    def windows(self, name: str) -> list[str]:
        return self.xdotool("search", "--name", name).split()


@contextlib.contextmanager
def running_iptux(lan: vlan.VirtualLan, pc: vlan.Pc) -> Iterator[Desktop]:
    """iptux (nickname IPTUX_NICK, group Linux) under an Xvfb of its own in `pc`."""
    display = free_display()
    home = lan.workdir / "iptux-home"
    (home / ".iptux").mkdir(parents=True)
    config = {"nick_name": IPTUX_NICK, "belong_group": "Linux", "use_enter_key": True}
    (home / ".iptux" / "config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    env = {"HOME": str(home), "DISPLAY": f":{display}", "XDG_RUNTIME_DIR": str(home), "NO_AT_BRIDGE": "1"}
    desktop = Desktop(pc, display)
    try:
        xvfb = ["Xvfb", f":{display}", "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset"]
        pc.run(xvfb, name="xvfb", env=env)  # -noreset: no restart when a probing client leaves
        poll(lambda: desktop.run("xdotool", "getdisplaygeometry").returncode == 0, 15, "Xvfb")
        pc.run(["iptux"], name="iptux", env=env)
        poll(lambda: desktop.windows("Iptux"), 15, "iptux's main window")
        yield desktop
    finally:
        lan.stop_processes()
        with contextlib.suppress(FileNotFoundError):
            Path(f"/tmp/.X{display}-lock").unlink()  # left behind when Xvfb had to be killed


def type_into_iptux(desktop: Desktop, peer_nick: str, text: str) -> None:
    """Open iptux's chat with `peer_nick` (its second row), type `text` and press Return."""
    chat = _open_chat(desktop, peer_nick)
    desktop.xdotool("mousemove", "--window", chat, "180", "320", "click", "1")  # into the input box
    # xdotool types a character outside the keyboard map by remapping a spare key for it: on
    # a busy machine a short delay lets the map change back before iptux reads the key (a
    # Chinese character typed with 20 ms came through as nothing under load).
    delay = "20" if text.isascii() else "90"
    desktop.xdotool("type", "--delay", delay, text)
    desktop.xdotool("key", "Return")


def test_lanchat_and_iptux_see_each_other_and_talk(make_lan: Callable[..., vlan.VirtualLan]) -> None:
    lan = make_lan(2)
    iptux_pc, lanchat_pc = lan[1], lan[2]
    with running_iptux(lan, iptux_pc) as desktop:
        agent = lanchat_pc.run([sys.executable, "-m", "tests.lan.ipmsg_agent", LANCHAT_NICK], name="lanchat")

        # LanChat lists iptux's user (iptux answered LanChat's BR_ENTRY, or entered itself).
        listed = agent.expect(IPTUX_NICK, timeout=15)
        users = json.loads(listed.text)["users"]
        [user] = [user for user in users if user["nick"] == IPTUX_NICK]
        assert user["address"] == f"{iptux_pc.ipv4}:2425" and user["group"] == "Linux"

        # A Chinese message from LanChat is acknowledged by iptux with RECVMSG.
        agent.send(f"send {iptux_pc.ipv4}:2425 你好，iptux！这是来自 LanChat 的消息。")
        sent = json.loads(agent.expect('"sent"', timeout=5).text)["sent"]
        delivered = json.loads(agent.expect("IpmsgDelivered", timeout=15).text)
        assert delivered["message_id"] == sent

        # A message typed into iptux's chat window with LanChat's user arrives in LanChat.
        type_into_iptux(desktop, LANCHAT_NICK, "来自 iptux 的问候 hello")
        arrived = json.loads(agent.expect("IpmsgMessage", timeout=15).text)
        assert arrived["text"] == "来自 iptux 的问候 hello" and arrived["nick"] == IPTUX_NICK

        agent.send("quit")
        assert agent.wait(10) == 0


def test_the_window_talks_with_iptux_in_a_private_tab(make_lan: Callable[..., vlan.VirtualLan]) -> None:
    """The whole way through the window: listed in "On IP Messenger / 飞秋", a double-click
    opens the tab, a Chinese line typed there is acknowledged (✓), iptux's answer shows."""
    missing = missing_gui_tools()
    if missing:
        pytest.skip(f"needs {' and '.join(missing)}")
    lan = make_lan(2)
    iptux_pc, lanchat_pc = lan[1], lan[2]
    with running_iptux(lan, iptux_pc) as desktop, virtual_screen() as screen:
        settings = {"user": {"nickname": "alice"}}
        window = open_window(lanchat_pc, screen, settings, env={"LANCHAT_IPMSG_PORT": "2425"})
        window.click(window.button("Host a chat"))
        window.wait_message_field()
        tree = poll(lambda: _ipmsg_tree(window), 20, f"{IPTUX_NICK} in the window's IP Messenger list")
        address = f"{iptux_pc.ipv4}:2425"
        x, y, _width, height = (int(n) for n in window.app.ask_list(tree, "bbox", address))
        left, top = (int(window.app.ask("winfo", key, tree)) for key in ("rootx", "rooty"))
        window.xdo.double_click(left + x + 10, top + y + height // 2)
        wait_until(lambda: window.shows_text("not encrypted"), timeout=10, interval=0.1, message="the tab")
        window.type_checked("你好图克斯")
        window.xdo.key("Return")
        delivered = re.compile(r"你好图克斯\s*✓")
        wait_until(lambda: _shows(window, delivered), timeout=15, interval=0.1, message="✓ (RECVMSG)")

        type_into_iptux(desktop, "alice", "got it from iptux")  # (Chinese from iptux: the test above)
        wait_until(
            lambda: window.shows_text("got it from iptux"), timeout=15, interval=0.1, message="the answer"
        )
        assert window.quit() == 0


def _shows(window: Window, pattern: re.Pattern[str]) -> bool:
    texts = window.app.widgets("Text")
    return any(pattern.search(window.app.ask(text, "get", "1.0", "end")) for text in texts)


def _ipmsg_tree(window: Window) -> str | None:
    """The window's IP Messenger list once it shows iptux's user."""
    for tree in window.app.widgets("Treeview"):
        items = window.app.ask_list(tree, "children", "")
        if any(IPTUX_NICK in window.app.ask(tree, "item", item, "-text") for item in items):
            return tree
    return None


#: The first two rows of iptux's pal list, in screen coordinates: iptux and the other user,
#: in an order that varies (a pal with unread messages may come first). GTK draws the list
#: itself, so there is no widget to ask for; without a window manager iptux 0.8's main
#: window sits at the top left and its rows are 40 pixels high.
ROWS = (("55", "117"), ("55", "157"))


def _open_chat(desktop: Desktop, peer_nick: str) -> str:
    """Double-click the rows of iptux's list until the chat window with `peer_nick` opens (the
    list may not be drawn yet when the first click comes); the chat window's id."""
    for _attempt in range(3):
        for row in ROWS:
            desktop.xdotool("mousemove", *row, "click", "--repeat", "2", "--delay", "80", "1")
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                if found := desktop.windows(f"Talk with {peer_nick}"):
                    return found[0]
                time.sleep(0.1)
    raise AssertionError(f"iptux's chat window with {peer_nick} did not open")


def test_iptux_accepts_a_file_lanchat_offers(make_lan: Callable[..., vlan.VirtualLan]) -> None:
    """LanChat offers a file (SENDMSG with FILEATTACHOPT); iptux lists it in its chat window,
    its Accept button (xdotool) asks for a folder, and iptux fetches the file over TCP 2425
    with GETFILEDATA from LanChat's file server."""
    lan = make_lan(2)
    iptux_pc, lanchat_pc = lan[1], lan[2]
    content = "给图克斯的文件 · a file for iptux\n".encode() * 4000
    path = lan.workdir / "给图克斯.txt"
    path.write_bytes(content)
    with running_iptux(lan, iptux_pc) as desktop:
        agent = lanchat_pc.run([sys.executable, "-m", "tests.lan.ipmsg_agent", LANCHAT_NICK], name="lanchat")
        agent.expect(IPTUX_NICK, timeout=15)
        agent.send(f"offer {iptux_pc.ipv4}:2425 {path}")
        offered = json.loads(agent.expect("IpmsgOfferSent", timeout=10).text)
        assert offered["names"] == ["给图克斯.txt"] and offered["size"] == len(content)
        agent.expect("IpmsgDelivered", timeout=15)  # iptux acknowledged the offer (RECVMSG)

        chat = _open_chat(desktop, LANCHAT_NICK)  # its "Files to be received" lists the file
        desktop.xdotool("windowmove", chat, "0", "0")
        desktop.xdotool("windowsize", chat, "1000", "600")  # the Accept button comes into view
        time.sleep(0.5)
        desktop.xdotool("mousemove", "--window", chat, *ACCEPT_BUTTON, "click", "1")
        [dialog] = poll(lambda: desktop.windows("Please select a folder"), 10, "iptux's folder chooser")
        desktop.xdotool("mousemove", "--window", dialog, "300", "300")  # focus follows the pointer
        desktop.xdotool("key", "Return")  # iptux's home, the folder it shows

        served = json.loads(agent.expect('"IpmsgTransferDone"', timeout=20).text)
        assert served["sending"] and served["size"] == len(content)
        home = lan.workdir / "iptux-home"
        saved = poll(
            lambda: [p for p in home.rglob("给图克斯.txt") if p.read_bytes() == content], 10, "the file"
        )
        assert saved
        agent.send("quit")
        assert agent.wait(10) == 0


def test_a_file_iptux_sends_is_received_by_lanchat(make_lan: Callable[..., vlan.VirtualLan]) -> None:
    """iptux attaches a file (Chat > Attach File, Ctrl+S, its file chooser) and sends it: LanChat
    gets the offer (SENDMSG with FILEATTACHOPT; iptux numbers its files from 10000, decimal
    in the list and hexadecimal in our GETFILEDATA) and receives it whole over TCP 2425."""
    lan = make_lan(2)
    iptux_pc, lanchat_pc = lan[1], lan[2]
    with running_iptux(lan, iptux_pc) as desktop:
        agent = lanchat_pc.run([sys.executable, "-m", "tests.lan.ipmsg_agent", LANCHAT_NICK], name="lanchat")
        agent.expect(IPTUX_NICK, timeout=15)
        content = os.urandom(200_000)
        (lan.workdir / "iptux-home" / "from-iptux.bin").write_bytes(content)  # where its chooser opens

        chat = _open_chat(desktop, LANCHAT_NICK)
        desktop.xdotool("windowmove", chat, "0", "0")
        desktop.xdotool("windowsize", chat, "1000", "600")
        time.sleep(0.5)
        desktop.xdotool("mousemove", "--window", chat, "300", "500", "click", "1")
        desktop.xdotool("key", "ctrl+s")  # Attach File
        poll(lambda: desktop.windows("Choose enclosure files"), 10, "iptux's file chooser")
        desktop.xdotool("mousemove", "400", "300")
        desktop.xdotool("key", "ctrl+l")
        desktop.xdotool("type", "--delay", "80", "from-iptux.bin")
        desktop.xdotool("key", "Return")
        poll(lambda: not desktop.windows("Choose enclosure files"), 10, "the file attached")
        desktop.xdotool("mousemove", "--window", chat, *SEND_BUTTON, "click", "1")

        offer = json.loads(agent.expect('"files": true', timeout=15).text)
        [attachment] = offer["attachments"]
        assert attachment["name"] == "from-iptux.bin" and attachment["size"] == len(content)
        folder = lan.workdir / "received"
        folder.mkdir()
        agent.send(f"fetch {offer['address']} {offer['packet_no']} {attachment['file_id']} {folder}")
        done = json.loads(agent.expect('"IpmsgTransferDone"', timeout=20).text)
        assert not done["sending"] and done["size"] == len(content)
        assert (folder / "from-iptux.bin").read_bytes() == content
        assert not list(folder.glob("*.part"))
        agent.send("quit")
        assert agent.wait(10) == 0


#: iptux's Send button in its chat window moved to 0,0 and made 1000x600.
SEND_BUTTON = ("760", "581")
#: iptux's Accept button in "Files to be received", in its chat window moved to 0,0 and made
#: 1000x600 (the side pane keeps its width, so the button sits at its right edge).
ACCEPT_BUTTON = ("980", "77")
