"""Interop with the real iptux (Debian's package) on the virtual LAN (issue 19).

iptux runs under its own Xvfb in PC 1, LanChat's IP Messenger bridge (tests/lan/ipmsg_agent.py)
in PC 2; both use the real port 2425 and real broadcasts, inside the test's namespaces only.
LanChat must list iptux's user, a Chinese message from LanChat must be acknowledged by
iptux (RECVMSG), and a message typed into iptux's chat window with xdotool must arrive.

iptux is configured through its own config file ($HOME/.iptux/config.json, keys read by its
ProgramData::ReadProgData: nick_name, belong_group, use_enter_key). There is no window
manager: keyboard focus follows the pointer, so the test moves the pointer into the input.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.lan import virtual_lan as vlan

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


def test_lanchat_and_iptux_see_each_other_and_talk(make_lan: Callable[..., vlan.VirtualLan]) -> None:
    lan = make_lan(2)
    iptux_pc, lanchat_pc = lan[1], lan[2]
    display = free_display()
    home = lan.workdir / "iptux-home"
    (home / ".iptux").mkdir(parents=True)
    config = {"nick_name": IPTUX_NICK, "belong_group": "Linux", "use_enter_key": True}
    (home / ".iptux" / "config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    env = {"HOME": str(home), "DISPLAY": f":{display}", "XDG_RUNTIME_DIR": str(home), "NO_AT_BRIDGE": "1"}
    desktop = Desktop(iptux_pc, display)
    try:
        xvfb = ["Xvfb", f":{display}", "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset"]
        iptux_pc.run(xvfb, name="xvfb", env=env)  # -noreset: no restart when a probing client leaves
        poll(lambda: desktop.run("xdotool", "getdisplaygeometry").returncode == 0, 15, "Xvfb")
        iptux_pc.run(["iptux"], name="iptux", env=env)
        poll(lambda: desktop.windows("Iptux"), 15, "iptux's main window")
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
        chat = _open_chat(desktop)
        desktop.xdotool("mousemove", "--window", chat, "180", "320", "click", "1")  # into the input box
        desktop.xdotool("type", "--delay", "20", "来自 iptux 的问候 hello")
        desktop.xdotool("key", "Return")
        arrived = json.loads(agent.expect("IpmsgMessage", timeout=15).text)
        assert arrived["text"] == "来自 iptux 的问候 hello" and arrived["nick"] == IPTUX_NICK

        agent.send("quit")
        assert agent.wait(10) == 0
    finally:
        lan.stop_processes()
        with contextlib.suppress(FileNotFoundError):
            Path(f"/tmp/.X{display}-lock").unlink()  # left behind when Xvfb had to be killed


#: Where LanChat's user is in iptux's pal list, in screen coordinates: its second row (iptux
#: lists itself first). GTK draws the list itself, so there is no widget to ask for; without a
#: window manager iptux 0.8's main window sits at the top left and its rows are 40 pixels high.
SECOND_ROW = ("55", "157")


def _open_chat(desktop: Desktop) -> str:
    """Double-click LanChat's user in iptux's list until its chat window opens (the list may
    not be drawn yet when the first click comes); the chat window's id."""
    for _attempt in range(5):
        desktop.xdotool("mousemove", *SECOND_ROW, "click", "--repeat", "2", "--delay", "80", "1")
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            if found := desktop.windows(f"Talk with {LANCHAT_NICK}"):
                return found[0]
            time.sleep(0.1)
    raise AssertionError(f"iptux's chat window with {LANCHAT_NICK} did not open")
