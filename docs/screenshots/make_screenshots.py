"""Take the README's screenshots: start and chat view, English and Chinese, light and dark;
the chat view in a 640 x 480 window (the conversation, then the member list in its place);
and, in the light theme, the trust views: the invite panel with the room code next to a
member connected without encryption, the password prompt, the changed-key warning; and the
list of found chats still there after a join refused because the nickname is taken; and
emoji (shown as Twemoji pictures): messages full of them, and the emoji picker open; the
kept history: a conversation reopened after the window restarted, and a search (Ctrl+Shift+F);
and the window that took its room over when its host left (issue 18).

Needs an X display (e.g. ``Xvfb :99 -screen 0 1280x800x24 &`` then ``DISPLAY=:99``) and
ImageMagick's ``import``. Run from the project root:

    LANCHAT_LOOPBACK_ONLY=1 DISPLAY=:99 .venv/bin/python docs/screenshots/make_screenshots.py
    ... make_screenshots.py --trust-only   # only the invite panel and the two join dialogs
    ... make_screenshots.py --found-only   # only the found chats after a failed join
    ... make_screenshots.py --small-only   # only the 640 x 480 window
    ... make_screenshots.py --emoji-only   # only the emoji views
    ... make_screenshots.py --history-only # only the kept history: reopened, and searched
    ... make_screenshots.py --ipmsg-only   # only IP Messenger users listed and talked with
    ... make_screenshots.py --files-only   # only files: an offer, progress, a picture, a paste
    ... make_screenshots.py --handover-only  # only the window that took its room over

It hosts a chat from the window on 127.0.0.1 and lets two scripted members talk in it, so
what you see is the real window talking to a real host.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import tkinter as tk
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from docs.screenshots.ipmsg_shots import shoot_ipmsg  # noqa: E402
from gui.app import App  # noqa: E402
from gui.settings import Settings, SettingsStore  # noqa: E402
from gui.trust_dialogs import KeyWarningDialog, PasswordDialog  # noqa: E402
from hosting import start_discoverable_host  # noqa: E402
from net.api import ClientConfig, HostConfig, Transport  # noqa: E402
from net.protocol.limits import DEFAULT_PORT  # noqa: E402
from net.room import RoomConfig  # noqa: E402
from net.secure.identity import load_or_create_identity  # noqa: E402
from net.transports import make_client, make_host  # noqa: E402
from tests.helpers import wait_until  # noqa: E402

SIZE = "1000x660"
SMALL_SIZE = "640x480"  # the smallest the chat view holds its layout in
CONVERSATIONS = {
    "en": {
        "room": "Design team",
        "me": "alice",
        "others": ("bob", "陈静"),
        "lines": [
            ("bob", "Morning! The new build is on the shared drive 😃", False),
            ("陈静", "Thanks, I'll test it on the Windows laptop.", False),
            ("alice", "Great. Release notes: https://example.org/lanchat/notes", False),
            ("bob", "grabs a coffee ☕", True),
            ("陈静", "alice, can you check the settings dialog in Chinese?", False),
        ],
        "private": ("bob", "Lunch at 12:30? 😀"),
        "found": [("Lunch plans", "bob"), ("Build status", "build-pc")],
        "terminal": ("build-pc", "nightly build finished: 0 failures"),
        "locked": "Payroll",
    },
    "zh_CN": {
        "room": "设计小组",
        "me": "小王",
        "others": ("老李", "Anna"),
        "lines": [
            ("老李", "早上好！新版本已经放在共享盘上了 😃", False),
            ("Anna", "谢谢，我在 Windows 笔记本上测试一下。", False),
            ("小王", "好的。发布说明：https://example.org/lanchat/notes", False),
            ("老李", "去倒杯咖啡 ☕", True),
            ("Anna", "小王，你能看看中文的设置窗口吗？", False),
        ],
        "private": ("老李", "中午十二点半一起吃饭？😀"),
        "found": [("午饭去哪儿", "老李"), ("Build status", "build-pc")],
        "terminal": ("build-pc", "nightly build finished: 0 failures"),
        "locked": "财务",
    },
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def capture(root: tk.Tk, name: str) -> None:
    root.update()
    time.sleep(0.3)
    root.update()
    window = root.wm_frame()
    target = HERE / f"{name}.png"
    subprocess.run(["import", "-window", window, str(target)], check=True)
    print("wrote", target.relative_to(HERE.parent.parent))


def capture_with_dialog(root: tk.Tk, name: str) -> None:
    """The window with the dialog over it: the screen, cut to the window's place."""
    root.update()
    time.sleep(0.3)
    root.update()
    x, y, width, height = root.winfo_rootx(), root.winfo_rooty(), root.winfo_width(), root.winfo_height()
    target = HERE / f"{name}.png"
    crop = f"{width}x{height}+{x}+{y}"
    subprocess.run(["import", "-window", "root", "-crop", crop, "+repage", str(target)], check=True)
    print("wrote", target.relative_to(HERE.parent.parent))


def pump_until(root: tk.Tk, condition, timeout: float = 10.0) -> None:
    wait_until(condition, timeout=timeout, pump=root.update)


def host_and_talk(
    root: tk.Tk, app: App, script: dict, geometry: str = "", port: int = 0, lines: list | None = None
) -> tuple[list, dict]:
    """Host from the window (on `port`, or a free one), let the script's other members join
    over TCP and say `lines` (the script's by default; ours typed into the window, each
    acknowledged before the next). Returns the members and a map from nickname to member,
    for the caller to close."""
    port = port or free_port()
    app.start_view.port_var.set(str(port))
    app.host_clicked()
    pump_until(root, lambda: app.chat_view is not None and app.controller.session.model.welcomed)
    if geometry:
        root.geometry(geometry)
    members = []
    for nick in script["others"]:
        client = make_client(Transport.TCP, ClientConfig("127.0.0.1", port, nick=nick), lambda _e: None)
        client.start()
        members.append(client)
    pump_until(root, lambda: len(app.controller.members()) == 3)
    by_nick = dict(zip(script["others"], members, strict=True))
    for sender, text, action in script["lines"] if lines is None else lines:
        if sender == script["me"]:
            app.chat_view.input.insert("1.0", text)
            app.chat_view.send_input()
            pump_until(root, lambda: not app.chat_view.panes[None].pending_ids())
        else:
            by_nick[sender].send_message(text, action=action)
        pump_until(root, lambda t=text: t in app.chat_view.panes[None].content())
    return members, by_nick


def shoot(language: str, theme: str) -> None:
    script = CONVERSATIONS[language]
    with tempfile.TemporaryDirectory() as directory:
        os.environ["LANCHAT_CONFIG_DIR"] = directory
        settings = Settings(nickname=script["me"], language=language, theme=theme, room_name=script["room"])
        settings.recent_hosts = ["192.168.1.20", "192.168.1.31:47801"]
        SettingsStore().save(settings)
        other_pcs = load_or_create_identity(Path(directory) / "other-pcs")
        others = [
            start_discoverable_host(
                Transport.TCP,
                HostConfig(port=DEFAULT_PORT + 1, room=RoomConfig(name=name), identity=other_pcs),
                port_given=False,
                nick=nick,
            )
            for name, nick in script["found"]
        ]
        root = tk.Tk(className="LanChat")
        root.geometry(SIZE + "+0+0")
        app = App(root, SettingsStore(), on_exit=lambda: None)
        root.update()
        pump_until(root, lambda: len(app.start_view.found) == len(others))
        capture(root, f"start-{language}-{theme}")
        for host in others:
            host.stop()

        members, by_nick = host_and_talk(root, app, script)
        other, text = script["private"]
        by_nick[other].send_message(text, to=script["me"])
        pump_until(root, lambda: other.casefold() in app.chat_view.panes)
        by_nick[script["others"][1]].set_typing(True)
        pump_until(root, lambda: app.chat_view.panes[None].typing_label.cget("text"))
        capture(root, f"chat-{language}-{theme}")
        for client in members:
            client.close()
        app.close()
        root.destroy()


def shoot_trust(language: str) -> None:
    """The invite panel (room code, invites, unencrypted members allowed) with a member who
    joined from a terminal; then a room's password prompt and a changed key's warning."""
    script = CONVERSATIONS[language]
    with tempfile.TemporaryDirectory() as directory:
        os.environ["LANCHAT_CONFIG_DIR"] = directory
        settings = Settings(nickname=script["me"], language=language, room_name=script["room"])
        settings.allow_plaintext = True
        SettingsStore().save(settings)
        root = tk.Tk(className="LanChat")
        root.geometry(SIZE + "+0+0")
        app = App(root, SettingsStore(), on_exit=lambda: None)
        port = free_port()
        app.start_view.port_var.set(str(port))
        app.host_clicked()
        pump_until(root, lambda: app.chat_view is not None and app.controller.session.model.welcomed)
        other = script["others"][0]
        member = make_client(Transport.TCP, ClientConfig("127.0.0.1", port, nick=other), lambda _e: None)
        member.start()
        terminal_nick, terminal_line = script["terminal"]
        with socket.create_connection(("127.0.0.1", port)) as terminal:  # as nc or telnet would
            terminal.sendall(f"{terminal_nick}\n".encode())
            pump_until(root, lambda: len(app.controller.members()) == 3)
            terminal.sendall(f"{terminal_line}\n".encode())
            pump_until(root, lambda: terminal_line in app.chat_view.panes[None].content())
            member.send_message(script["lines"][0][1])
            pump_until(root, lambda: script["lines"][0][1] in app.chat_view.panes[None].content())
            capture(root, f"invite-{language}")
        member.close()
        app.chat_view.leave_button.invoke()

        # A room with a password, hosted by another PC (another key).
        other_pc = load_or_create_identity(Path(directory) / "other-pc")
        locked = make_host(
            Transport.TCP,
            HostConfig(port=0, room=RoomConfig(name=script["locked"], password="s3cret"), identity=other_pc),
        )
        locked.start()
        try:
            address = f"127.0.0.1:{locked.port}"
            app.start_view.address_var.set(address)
            app.join_clicked()
            pump_until(root, lambda: isinstance(app.trust_dialog, PasswordDialog))
            app.trust_dialog.password_var.set("s3cr")
            capture_with_dialog(root, f"password-{language}")
            app.trust_dialog.cancel()

            # The same address showing another key than the one met before.
            app.controller.trust.verified(address, app.controller.trust.identity().fingerprint)
            app.join_clicked()
            pump_until(root, lambda: isinstance(app.trust_dialog, KeyWarningDialog))
            capture_with_dialog(root, f"key-warning-{language}")
            app.trust_dialog.cancel()
        finally:
            locked.stop()
        app.close()
        root.destroy()


def shoot_failed_join(language: str) -> None:
    """The start view after a double-click on a found chat where our nickname is taken: the
    reason below, and the list of found chats still shown (issue 15)."""
    script = CONVERSATIONS[language]
    with tempfile.TemporaryDirectory() as directory:
        os.environ["LANCHAT_CONFIG_DIR"] = directory
        SettingsStore().save(Settings(nickname=script["me"], language=language))
        other_pcs = load_or_create_identity(Path(directory) / "other-pcs")
        others = [
            start_discoverable_host(
                Transport.TCP,
                HostConfig(port=DEFAULT_PORT + 1, room=RoomConfig(name=name), identity=other_pcs),
                port_given=False,
                nick=nick,
            )
            for name, nick in script["found"]
        ]
        # Someone already has our nickname in the first chat.
        namesake = make_client(
            Transport.TCP, ClientConfig("127.0.0.1", others[0].port, nick=script["me"]), lambda _e: None
        )
        namesake.start()
        root = tk.Tk(className="LanChat")
        root.geometry(SIZE + "+0+0")
        app = App(root, SettingsStore(), on_exit=lambda: None)
        rooms = {name for name, _nick in script["found"]}

        def listed() -> dict[str, str]:
            return {entry.room: item for item, entry in app.start_view.found.items() if entry.room in rooms}

        pump_until(root, lambda: len(listed()) == len(rooms) and namesake.state.value == "connected")
        view = app.start_view
        item = listed()[script["found"][0][0]]
        x, y, _width, height = view.found_tree.bbox(item)
        for _ in range(2):  # a double-click on the chat
            view.found_tree.event_generate("<ButtonPress-1>", x=x + 10, y=y + height // 2)
            view.found_tree.event_generate("<ButtonRelease-1>", x=x + 10, y=y + height // 2)
        pump_until(root, lambda: app.start_view is not view and app.start_view.error_label.cget("text"))
        pump_until(root, lambda: len(listed()) == len(rooms))
        capture(root, f"found-after-failed-join-{language}")
        namesake.close()
        for host in others:
            host.stop()


def shoot_small(language: str) -> None:
    """The smallest window the chat view holds its layout in, hosting: the conversation
    with the member list a click away ("Members"), then the member list in its place."""
    script = CONVERSATIONS[language]
    with tempfile.TemporaryDirectory() as directory:
        os.environ["LANCHAT_CONFIG_DIR"] = directory
        SettingsStore().save(Settings(nickname=script["me"], language=language, room_name=script["room"]))
        root = tk.Tk(className="LanChat")
        app = App(root, SettingsStore(), on_exit=lambda: None)
        members, _by_nick = host_and_talk(root, app, script, SMALL_SIZE + "+0+0")
        capture(root, f"small-{language}")
        app.chat_view.header.members_button.invoke()
        capture(root, f"small-members-{language}")
        for client in members:
            client.close()
        app.close()
        root.destroy()


EMOJI_TALK = {
    "en": {
        "room": "Friday lunch 🍕",
        "me": "alice",
        "others": ("bob", "𠮷田"),
        "lines": [
            ("bob", "Pizza or sushi? 🍕🍣 Vote with 👍 or 👎", False),
            ("𠮷田", "🍣 of course! 👍🏽👍🏽", False),
            ("alice", "Sushi wins 🎉 Table for 3️⃣ at 12:30 ✅", False),
            ("bob", "dances 💃🕺", True),
            ("𠮷田", "My family is coming too 👨‍👩‍👧 see you there 🇯🇵❤️", False),
        ],
        "draft": "On my way 🚀🔥",
    },
    "zh_CN": {
        "room": "周五午饭 🍕",
        "me": "小王",
        "others": ("老李", "𠮷田"),
        "lines": [
            ("老李", "披萨还是寿司？🍕🍣 用 👍 或 👎 投票", False),
            ("𠮷田", "当然是 🍣！👍🏽👍🏽", False),
            ("小王", "寿司胜出 🎉 十二点半，3️⃣ 个人 ✅", False),
            ("老李", "跳起舞来 💃🕺", True),
            ("𠮷田", "我家人也来 👨‍👩‍👧 到时见 🇯🇵❤️", False),
        ],
        "draft": "马上到 🚀🔥",
    },
}


def shoot_emoji(language: str, theme: str) -> None:
    """A chat full of emoji (sequences, skin tones, flags, a keycap, a name with a rare CJK
    character), then the same with the emoji picker open over a draft."""
    script = EMOJI_TALK[language]
    with tempfile.TemporaryDirectory() as directory:
        os.environ["LANCHAT_CONFIG_DIR"] = directory
        settings = Settings(nickname=script["me"], language=language, theme=theme, room_name=script["room"])
        SettingsStore().save(settings)
        root = tk.Tk(className="LanChat")
        root.geometry(SIZE + "+0+0")
        app = App(root, SettingsStore(), on_exit=lambda: None)
        members, _by_nick = host_and_talk(root, app, script)
        capture(root, f"emoji-messages-{language}-{theme}")
        app.chat_view.input.insert("1.0", script["draft"])
        app.chat_view.emoji_button.invoke()
        capture(root, f"emoji-picker-{language}-{theme}")
        for client in members:
            client.close()
        app.close()
        root.destroy()


HISTORY = {
    "en": {"later": ("bob", "Back again: the build passed overnight."), "search": "build"},
    "zh_CN": {"later": ("老李", "我回来了：新版本昨晚测试通过。"), "search": "版本"},
}


def shoot_history(language: str) -> None:
    """Talk, restart the window and host the room again: the earlier conversation shows above
    the divider; then search every kept conversation."""
    script = CONVERSATIONS[language]
    with tempfile.TemporaryDirectory() as directory:
        os.environ["LANCHAT_CONFIG_DIR"] = os.environ["LANCHAT_DATA_DIR"] = directory
        settings = Settings(nickname=script["me"], language=language, theme="light", room_name=script["room"])
        SettingsStore().save(settings)
        port = free_port()
        for run in ("first", "again"):
            root = tk.Tk(className="LanChat")
            root.geometry(SIZE + "+0+0")
            app = App(root, SettingsStore(), on_exit=lambda: None)
            sender, text = HISTORY[language]["later"]
            lines = script["lines"] if run == "first" else [(sender, text, False)]
            members, _by_nick = host_and_talk(root, app, script, port=port, lines=lines)
            if run == "again":
                capture(root, f"history-reopened-{language}")
                app.search.open()
                dialog = app.search.dialog
                dialog.query.insert(0, HISTORY[language]["search"])
                dialog.search()
                pump_until(root, lambda d=dialog: len(d.results.get_children()) >= 2)
                first = dialog.results.get_children()[-1]
                dialog.results.selection_set(first)
                assert app.search.go_to(dialog.hits[int(first)])  # in this room: it goes there
                root.update()
                app.search.open()
                dialog = app.search.dialog
                dialog.query.insert(0, HISTORY[language]["search"])
                dialog.search()
                pump_until(root, lambda d=dialog: len(d.results.get_children()) >= 2)
                dialog.results.selection_set(dialog.results.get_children()[0])
                capture_with_dialog(root, f"history-search-{language}")
            for client in members:
                client.close()
            app.close()
            root.destroy()


def main() -> int:
    if "DISPLAY" not in os.environ:
        print("set DISPLAY (e.g. start Xvfb :99 and use DISPLAY=:99)", file=sys.stderr)
        return 1
    os.environ.setdefault("LANCHAT_LOOPBACK_ONLY", "1")
    kept = tempfile.TemporaryDirectory()  # the windows' history: never the user's own
    os.environ["LANCHAT_DATA_DIR"] = kept.name
    if "--ipmsg-only" in sys.argv or not any(arg.endswith("-only") for arg in sys.argv):
        for language in ("en", "zh_CN"):
            shoot_ipmsg(language, CONVERSATIONS[language], host_and_talk, pump_until, capture, SIZE)
        if "--ipmsg-only" in sys.argv:
            return 0
    if "--files-only" in sys.argv or not any(arg.endswith("-only") for arg in sys.argv):
        from docs.screenshots.files_shots import shoot_files

        helpers = {"capture": capture, "pump_until": pump_until, "free_port": free_port, "size": SIZE}
        for language in ("en", "zh_CN"):
            shoot_files(language, CONVERSATIONS[language], helpers)
        if "--files-only" in sys.argv:
            return 0
    if "--handover-only" in sys.argv or not any(arg.endswith("-only") for arg in sys.argv):
        from docs.screenshots.handover_shots import shoot_handover

        helpers = {"capture": capture, "pump_until": pump_until, "size": SIZE}
        for language in ("en", "zh_CN"):
            shoot_handover(language, CONVERSATIONS[language], helpers)
        if "--handover-only" in sys.argv:
            return 0
    if "--history-only" in sys.argv:
        shoot_history("en")
        shoot_history("zh_CN")
        return 0
    if "--emoji-only" in sys.argv:
        shoot_emoji("en", "light")
        shoot_emoji("zh_CN", "dark")
        return 0
    for language in ("en", "zh_CN"):
        if "--found-only" in sys.argv:
            shoot_failed_join(language)
        if "--small-only" in sys.argv:
            shoot_small(language)
            continue
        if "--trust-only" not in sys.argv:
            for theme in ("light", "dark"):
                shoot(language, theme)
            shoot_failed_join(language)
            shoot_small(language)
        shoot_trust(language)
    if "--trust-only" not in sys.argv:
        shoot_emoji("en", "light")
        shoot_emoji("zh_CN", "dark")
        shoot_history("en")
        shoot_history("zh_CN")
    return 0


if __name__ == "__main__":
    sys.exit(main())
