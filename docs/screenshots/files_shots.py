"""The files screenshots (issue 16), for make_screenshots.py --files-only: an offer, a
transfer in progress, a picture shown inline and a pasted screenshot, in one window that
hosts a chat on 127.0.0.1 with two scripted members who have the real file-transfer engine.

The transfer "in progress" is an accepted offer whose sender holds back the grant while the
script reports progress through the session's own event sink: a real transfer on loopback
ends before a screenshot can be taken.
"""

from __future__ import annotations

import os
import tempfile
import tkinter as tk
from pathlib import Path

from gui.app import App
from gui.files import input as files_input
from gui.settings import Settings, SettingsStore
from net.api import ClientConfig, ClientState, Transport
from net.files import events as fe
from net.files.transfers import FileTransfers
from net.protocol import events as ev
from net.secure.identity import load_or_create_identity
from net.transports import make_client

FILES = {
    "en": {
        "offer": ("Q3 report.pdf", "budget.xlsx"),
        "line": "Here are the files for Friday 📎",
        "big": "install.iso",
    },
    "zh_CN": {
        "offer": ("第三季度报告.pdf", "预算.xlsx"),
        "line": "周五要用的文件在这里 📎",
        "big": "安装盘.iso",
    },
}


class Member:
    """A scripted member with file transfers (it may hold back its grants)."""

    def __init__(self, port: int, nick: str, folder: Path) -> None:
        self.hold = False
        config = ClientConfig("127.0.0.1", port, nick=nick, files=True)
        self.client = make_client(Transport.TCP, config, lambda event: self.transfers.deliver(event))
        identity = load_or_create_identity(folder / f"identity-{len(nick)}-{abs(hash(nick))}")
        self.transfers = FileTransfers(
            identity,
            self._step,
            lambda _e: None,
            own_nick=lambda: nick,
            host_address="127.0.0.1",
            bind="127.0.0.1",
        )
        self.transfers.start()
        self.client.start()

    def _step(self, step: ev.FileControl) -> bool:
        return True if self.hold and step.op == "grant" else self.client.send_file_step(step)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.transfers.close()
        self.client.close()


def picture(path: Path, size: tuple[int, int], screenshot: bool = False) -> Path:
    """A photo-like gradient, or a screenshot-like window drawing."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    width, height = size
    if screenshot:
        draw.rectangle((0, 0, width, 40), fill="#2b5797")
        for row in range(6):
            top = 70 + row * 60
            draw.rectangle((30, top, width - 30, top + 40), fill="#e8eef7" if row % 2 else "#f6f8fb")
        draw.rectangle((width - 200, height - 70, width - 30, height - 30), fill="#f0a030")
    else:
        for y in range(height):
            shade = int(255 * y / height)
            draw.line((0, y, width, y), fill=(255 - shade // 3, 140 + shade // 3, 60 + shade // 2))
        draw.ellipse((width * 0.6, height * 0.15, width * 0.8, height * 0.15 + width * 0.2), fill="#fff6c0")
        draw.polygon([(0, height), (width * 0.35, height * 0.45), (width * 0.7, height)], fill="#3d5a40")
    image.save(path)
    return path


def shoot_files(language: str, script: dict, helpers: dict) -> None:
    capture, pump_until, free_port, size = (
        helpers["capture"],
        helpers["pump_until"],
        helpers["free_port"],
        helpers["size"],
    )
    words = FILES[language]
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        os.environ["LANCHAT_CONFIG_DIR"] = os.environ["LANCHAT_DATA_DIR"] = str(folder / "config")
        settings = Settings(
            nickname=script["me"], language=language, theme="light", room_name=script["room"],
            download_folder=str(folder / "Downloads"),
        )  # fmt: skip
        SettingsStore().save(settings)
        root = tk.Tk(className="LanChat")
        root.geometry(size + "+0+0")
        app = App(root, SettingsStore(), on_exit=lambda: None)
        port = free_port()
        app.start_view.port_var.set(str(port))
        app.host_clicked()
        pump_until(root, lambda: app.chat_view is not None and app.controller.session.model.welcomed)
        first, second = (Member(port, nick, folder) for nick in script["others"])
        try:
            pump_until(root, lambda: len(app.controller.members()) == 3)
            for client in (first.client, second.client):
                pump_until(root, lambda c=client: c.state is ClientState.CONNECTED)
            room = app.chat_view.panes[None]
            _sender, text, _action = script["lines"][0]
            first.client.send_message(text)
            first.client.send_message(words["line"])
            pump_until(root, lambda: words["line"] in room.content())
            sources = folder / "sources"
            sources.mkdir()
            for name in words["offer"]:
                (sources / name).write_bytes(os.urandom(180_000))
            first.transfers.offer([sources / name for name in words["offer"]])
            pump_until(root, lambda: len(room.text.window_names()) == 1)
            capture(root, f"files-offer-{language}")

            second.hold = True
            (sources / words["big"]).write_bytes(os.urandom(64_000))
            big = second.transfers.offer([sources / words["big"]])
            pump_until(root, lambda: len(room.text.window_names()) == 2)
            card = root.nametowidget(room.text.window_names()[-1])
            app.files.choose_folder = lambda initial: initial
            card.buttons[next(iter(card.buttons))].invoke()  # Accept
            total = 3_800 * 2**20
            app.files.session.sink(
                fe.TransferProgress(big, second.client.nick, total * 37 // 100, total, 41.5 * 2**20, 0, 1)
            )
            pump_until(root, lambda: "/" in str(card.status.cget("text")))
            capture(root, f"files-progress-{language}")

            photo = picture(sources / "IMG_2041.jpg", (1600, 1000))
            first.transfers.offer([photo])
            pump_until(root, lambda: app.files.pictures.count(room) == 1)  # (emoji are images too)
            capture(root, f"files-image-{language}")

            shot = tk.PhotoImage()  # noqa: F841 (keeps Tk's image names apart from ours)
            from PIL import Image

            with Image.open(picture(sources / "shot.png", (900, 560), screenshot=True)) as pasted:
                files_input.paste(app.chat_view, app.files, pasted.copy())
            pump_until(root, lambda: app.files.pictures.count(room) == 2)
            capture(root, f"files-pasted-{language}")
        finally:
            first.close()
            second.close()
            app.close()
            root.destroy()
