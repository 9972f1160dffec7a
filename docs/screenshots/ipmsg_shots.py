"""The IP Messenger screenshots (``make_screenshots.py --ipmsg-only``): the window hosting a
room, with Feiq, iptux and IP Messenger users listed under "On IP Messenger / 飞秋" and a
conversation with one of them in a private tab (delivered mark, their answer); then files
in that tab (``ipmsg-files-*``): a file we offered them, and their offer with Accept….

The IP Messenger users are hand-driven UDP sockets on loopback writing the packets those
programs write (GBK for Feiq, UTF-8 for iptux and IP Messenger); the window's bridge listens
on a free loopback port (``LANCHAT_IPMSG_PORT=0``).
"""

from __future__ import annotations

import os
import tempfile
import tkinter as tk
from collections.abc import Callable
from pathlib import Path

from gui.app import App
from gui.settings import Settings, SettingsStore
from net.ipmsg import codec as c
from net.ipmsg.attachments import Attachment, build_attachments
from tests.ipmsg import peer as make
from tests.ipmsg.rawpeer import RawPeer, mode

USERS = {
    "en": {
        "feiq": ("张伟", "研发部", b"ZHANG-PC"),
        "iptux": ("Lin", "Linux", b"lin-laptop"),
        "ipmsg": ("Sato", "Sales", b"SATO-PC"),
        "mine": "Hi Zhang, the new build is on the shared drive.",
        "answer": "Thanks! I'll try it after lunch.",
        "our_file": "build-notes.txt",
        "their_file": "test-report.xlsx",
    },
    "zh_CN": {
        "feiq": ("张伟", "研发部", b"ZHANG-PC"),
        "iptux": ("林", "Linux", b"lin-laptop"),
        "ipmsg": ("佐藤", "営業", b"SATO-PC"),
        "mine": "张伟，新版本已经放在共享盘上了。",
        "answer": "好的，谢谢！午饭后我试一下。",
        "our_file": "版本说明.txt",
        "their_file": "测试报告.xlsx",
    },
}


def shoot_ipmsg(
    language: str,
    script: dict,
    host_and_talk: Callable[..., tuple[list, dict]],
    pump_until: Callable[..., None],
    capture: Callable[[tk.Tk, str], None],
    size: str,
) -> None:
    users = USERS[language]
    os.environ["LANCHAT_IPMSG_PORT"] = "0"
    with tempfile.TemporaryDirectory() as directory:
        os.environ["LANCHAT_CONFIG_DIR"] = directory
        SettingsStore().save(Settings(nickname=script["me"], language=language, room_name=script["room"]))
        root = tk.Tk(className="LanChat")
        root.geometry(size + "+0+0")
        app = App(root, SettingsStore(), on_exit=lambda: None)
        root.update()
        peers = [RawPeer() for _ in range(3)]
        try:
            members, _by_nick = host_and_talk(root, app, script, lines=script["lines"][:3])
            bridge = app.controller.ipmsg.bridge
            assert bridge is not None
            feiq, iptux, ipmsg = peers
            nick, group, host = users["feiq"]
            feiq.send(make.feiq_entry(nick, group, host=host, user=b"zhangwei"), bridge.port)
            nick, group, host = users["iptux"]
            iptux.send(make.iptux_entry(nick, group, host=host, user=b"lin"), bridge.port)
            nick, group, host = users["ipmsg"]
            entry = make.entry(nick, group, encoding="utf-8", command=c.BR_ENTRY | c.CAPUTF8OPT | c.UTF8OPT,
                               host=host, user=b"sato")  # fmt: skip
            ipmsg.send(entry, bridge.port)
            panel = app.chat_view.sidebar.ipmsg
            pump_until(root, lambda: panel.count() == 3)
            app.controller.ipmsg.open(feiq.address)
            app.chat_view.input.insert("1.0", users["mine"])
            app.chat_view.send_input()
            sent = feiq.expect(mode(c.SENDMSG))
            feiq.send(make.packet(c.RECVMSG, b"%d" % sent.packet_no), bridge.port)
            feiq.send(make.message(users["answer"]), bridge.port)
            key = f"ipmsg:{feiq.address}"
            pump_until(root, lambda: users["answer"] in app.chat_view.panes[key].content())
            capture(root, f"ipmsg-{language}")

            ours = Path(directory) / users["our_file"]
            ours.write_text("LanChat\n" * 3000, encoding="utf-8")
            app.files.send([ours], key)  # "Send files…" in their tab
            feiq.expect(lambda p: p.mode == c.SENDMSG and p.has(c.FILEATTACHOPT))
            theirs = build_attachments([Attachment(0, users["their_file"], 2_457_600, 0x65000000)], "gbk")
            offer = c.SENDMSG | c.SENDCHECKOPT | c.FILEATTACHOPT
            feiq.send(make.packet(offer, b"\0" + theirs), bridge.port)
            files = app.controller.ipmsg.files
            pump_until(root, lambda: files is not None and len(files.offers) == 2)
            capture(root, f"ipmsg-files-{language}")
            for client in members:
                client.close()
        finally:
            for peer in peers:
                peer.close()
            app.close()
            root.destroy()
