"""The handover screenshots (``make_screenshots.py --handover-only``, issue 18): the window
joined a room whose host then stops; the window's member was the first successor, so it took
the room over: "You host the chat now", the status bar says it hosts, and the others (a
scripted member that followed) are in its member list, talking on.

The old host is a real host of this process with a key of its own (not the window's), the
other member a real client that follows handovers.
"""

from __future__ import annotations

import os
import tempfile
import tkinter as tk
from pathlib import Path

from gui.app import App
from gui.settings import Settings, SettingsStore
from net.api import ClientConfig, ClientState, HostConfig, Transport
from net.room import RoomConfig
from net.secure.identity import load_or_create_identity
from net.transports import make_client, make_host

LINES = {
    "en": ("Leaving for the train, bye!", "Still here, thanks for hosting."),
    "zh_CN": ("我要去赶火车了，再见！", "我还在，谢谢你接着主持。"),
}


def shoot_handover(language: str, script: dict, helpers: dict) -> None:
    capture, pump_until, size = helpers["capture"], helpers["pump_until"], helpers["size"]
    before, after = LINES[language]
    host_nick, other = script["others"]
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        os.environ["LANCHAT_CONFIG_DIR"] = os.environ["LANCHAT_DATA_DIR"] = str(folder / "config")
        SettingsStore().save(Settings(nickname=script["me"], language=language, theme="light"))
        room = RoomConfig(name=script["room"], owner_client_id="old-host")
        identity = load_or_create_identity(folder / "old-host")
        old = make_host(Transport.TCP, HostConfig(port=0, bind="127.0.0.1", room=room, identity=identity))
        old.start()
        owner = ClientConfig("127.0.0.1", old.port, nick=host_nick, client_id="old-host")
        leaving = make_client(Transport.TCP, owner, lambda _e: None)
        root = tk.Tk(className="LanChat")
        root.geometry(size + "+0+0")
        app = App(root, SettingsStore(), on_exit=lambda: None)
        staying = None
        try:
            leaving.start()
            pump_until(root, lambda: leaving.state is ClientState.CONNECTED)
            app.start_view.nick_var.set(script["me"])
            app.start_view.address_var.set(f"127.0.0.1:{old.port}")
            app.join_clicked()
            pump_until(root, lambda: app.chat_view is not None and app.controller.session.model.welcomed)
            config = ClientConfig("127.0.0.1", old.port, nick=other, follow_handover=True)
            staying = make_client(Transport.TCP, config, lambda _e: None)
            staying.start()
            pump_until(root, lambda: len(app.controller.members()) == 3)
            leaving.send_message(before)
            pump_until(root, lambda: before in app.chat_view.panes[None].content())
            leaving.close()
            old.stop()  # the window's member is the first successor: it takes the room over
            pump_until(root, lambda: app.controller.hosting and app.chat_view.status.hosting, timeout=15)
            pump_until(root, lambda: {m.nick for m in app.controller.members()} == {script["me"], other})
            staying.send_message(after)
            pump_until(root, lambda: after in app.chat_view.panes[None].content())
            capture(root, f"handover-{language}")
        finally:
            if staying is not None:
                staying.close()
            leaving.close()
            app.close()
            old.stop()
            root.destroy()
