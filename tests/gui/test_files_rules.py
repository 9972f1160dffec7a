"""The window's file rules and wording without a window: sizes, speeds, time left, the
auto-accept rule, thumbnail sizes, /send, the opener's commands, the new settings."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from gui import i18n
from gui.files import rules
from gui.files import wording as words
from gui.files.clipboard import save_png
from gui.files.opener import open_command, reveal_command
from gui.files.states import OWN, Transfer, Upload, counts
from gui.files.thumbnails import read_thumbnail
from gui.files.worker import Worker
from gui.settings import Settings, SettingsStore
from net.files import events as fe
from tests.helpers import wait_until

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KB"),
        (1536, "1.5 KB"),
        (5 * MB, "5.0 MB"),
        (3 * 2**40, "3.0 TB"),
    ],
)
def test_sizes(size, text):
    assert words.size_text(size) == text


def test_speed_and_time_left():
    assert words.speed_text(2.5 * MB) == "2.5 MB/s"
    assert words.time_left_text(None) == ""
    assert words.time_left_text(0.2) == "1 s left"
    assert words.time_left_text(59.4) == "59 s left"
    assert words.time_left_text(150) == "3 min left"
    assert words.time_left_text(2 * 3600 + 5 * 60) == "2 h 5 min left"
    assert words.progress(MB, 4 * MB, MB, 3.0) == "1.0 MB of 4.0 MB · 1.0 MB/s · 3 s left"
    assert words.progress(0, 4 * MB, 0, None) == "0 B of 4.0 MB"  # no speed yet: nothing guessed
    assert words.summary(2, 3 * MB, 90) == "2 transfers · 3.0 MB/s · 2 min left"


def test_paused_transfers_are_counted_as_paused_not_running():
    progress = fe.TransferProgress("o1", "zoe", 30 * MB, 100 * MB, 2 * MB, 0, 1)
    running = Transfer(None, "zoe", "o1", "receiving", progress=progress)  # type: ignore[arg-type]
    paused_here = Transfer(None, "zoe", "o2", "paused", progress=progress)  # type: ignore[arg-type]
    ours = Transfer(None, OWN, "o3", "offered")  # type: ignore[arg-type]
    ours.upload.accepted("bob")
    ours.upload.pause()
    assert counts([running, paused_here, ours]) == ([progress], 2)
    assert words.running_summary(*counts([running, paused_here, ours])) == (
        "1 transfer · 2.0 MB/s · 35 s left · 2 paused"
    )
    assert words.running_summary(*counts([paused_here])) == "1 transfer paused"
    assert words.running_summary([], 0) == ""
    assert words.paused(progress) == "Paused at 30.0 MB of 100.0 MB."
    assert (
        words.paused(progress, "zoe") == "Paused by zoe at 30.0 MB of 100.0 MB; it goes on when they resume."
    )
    assert words.paused(None, "zoe") == "Paused by zoe."


def test_an_offer_of_ours_pauses_and_resumes_its_members_at_once():
    upload = Upload()
    assert not upload.can_pause  # nobody fetches it
    assert upload.accepted("bob") is False and upload.accepted("carol") is False
    assert upload.can_pause
    assert upload.pause() == ["bob", "carol"]
    assert not upload.can_pause
    assert upload.accepted("dave") is True  # accepting a paused offer: asked to pause too
    assert upload.served("bob", "connection: reset") is True  # stopped by our pause: paused
    assert upload.served("carol", None) is False  # it had all it wanted before the pause
    assert upload.resume() == ["bob", "dave"]
    assert upload.served("bob", "connection: reset") is False  # stopped, not by us
    assert upload.fetching == {"dave"}
    upload.withdrawn()
    assert (upload.fetching, upload.asked, upload.paused) == (set(), set(), False)


def test_offer_wording_and_names():
    assert words.offer_received("zoe", 1, 12, True) == "zoe sends you 1 file, 12 B"
    assert words.offer_made(None, 3, 2048) == "You offer the room 3 files, 2.0 KB"
    names = tuple(f"{n}.txt" for n in range(7))
    assert words.names_text(names, 30) == "0.txt, 1.txt, 2.txt, 3.txt, 4.txt and 25 more"


def test_chinese_wording():
    i18n.set_language("zh_CN")
    try:
        assert words.offer_received("小红", 2, 3 * MB, False) == "小红 向聊天室发送 2 个文件，3.0 MB"
        assert words.time_left_text(30) == "剩余 30 秒"
        assert words.running_summary([], 1) == "1 个传输已暂停"
        assert words.resumed("小红") == "小红 已继续"
    finally:
        i18n.set_language("en")


def test_auto_accept_takes_small_pictures_only():
    assert rules.auto_accepts(("cat.PNG",), 1, 4 * MB, 5)
    assert rules.auto_accepts(("a.jpg", "b.webp"), 2, 5 * MB, 5)
    assert not rules.auto_accepts(("cat.png",), 1, 5 * MB + 1, 5)  # over the size set
    assert not rules.auto_accepts(("cat.png",), 1, 10, 0)  # 0: never
    assert not rules.auto_accepts(("cat.png", "notes.txt"), 2, 10, 5)
    assert not rules.auto_accepts(("pictures",), 3, 10, 5)  # a folder: its count says more files
    assert not rules.auto_accepts(("cat.png.exe",), 1, 10, 5)


def test_thumbnail_sizes_keep_the_shape_and_never_enlarge():
    assert rules.thumbnail_size(800, 400) == (240, 120)
    assert rules.thumbnail_size(400, 4000) == (24, 240)
    assert rules.thumbnail_size(100, 50) == (100, 50)
    assert rules.thumbnail_size(10000, 1) == (240, 1)
    assert rules.thumbnail_size(0, 5) == (1, 1)


def test_send_command():
    assert rules.send_command("/send /tmp/a b.txt") == "/tmp/a b.txt"
    assert rules.send_command('/SEND "/tmp/x y"') == "/tmp/x y"
    assert rules.send_command("/send") == ""
    assert rules.send_command("/sendto x") is None
    assert rules.send_command("hello") is None


def test_names_of_pasted_pictures_and_folders(tmp_path, monkeypatch):
    from PIL import Image

    assert rules.screenshot_name(0).startswith("screenshot-1970")
    first = save_png(Image.new("RGB", (4, 4)), tmp_path, when=1e9)
    second = save_png(Image.new("RGB", (4, 4)), tmp_path, when=1e9)
    assert first.name.endswith(".png") and second.name == first.name.replace(".png", "-2.png")
    monkeypatch.setattr(rules, "user_downloads_dir", lambda: str(tmp_path / "Downloads"))
    assert rules.download_folder("") == tmp_path / "Downloads" / "LanChat"
    assert rules.download_folder(str(tmp_path / "x")) == tmp_path / "x"


def test_a_thumbnail_never_changes_the_file(tmp_path):
    from PIL import Image

    path = tmp_path / "big.jpg"
    Image.new("RGB", (1200, 900), "navy").save(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    thumbnail = read_thumbnail(path)
    assert thumbnail.size == (240, 180)  # type: ignore[attr-defined]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    (tmp_path / "fake.png").write_bytes(b"not a picture")
    assert read_thumbnail(tmp_path / "fake.png") is None


def test_opener_commands_are_lists_per_platform():
    path = Path("/home/u/Downloads/LanChat/a b.txt")
    assert open_command(path, "linux") == ["xdg-open", str(path)]
    assert open_command(path, "darwin") == ["open", str(path)]
    assert open_command(path, "win32") is None  # os.startfile
    assert reveal_command(path, "linux") == ["xdg-open", str(path.parent)]
    assert reveal_command(path, "darwin") == ["open", "-R", str(path)]
    assert reveal_command(path, "win32") == ["explorer", "/select,", str(path)]


def test_the_worker_runs_jobs_in_order_is_bounded_and_joins():
    done: list[int] = []
    started, gate = threading.Event(), threading.Event()
    worker = Worker("test", limit=2)
    assert worker.submit(lambda: (started.set(), gate.wait(5)))
    assert started.wait(5)
    assert worker.submit(lambda: done.append(1)) and worker.submit(lambda: done.append(2))
    assert not worker.submit(lambda: done.append(3))  # two wait already: refused
    gate.set()
    wait_until(lambda: done == [1, 2], message="both jobs ran, in order")
    worker.close()
    assert not worker.submit(lambda: done.append(4))  # stopped
    assert not any(t.name == "test" for t in threading.enumerate())  # joined


def test_the_file_settings_are_kept_and_checked(tmp_path):
    store = SettingsStore(tmp_path)
    assert store.save(Settings(download_folder="/data/in", auto_accept_images_mb=20)) is None
    loaded = store.load()
    assert (loaded.settings.download_folder, loaded.settings.auto_accept_images_mb) == ("/data/in", 20)
    text = store.path.read_text().replace('"auto_accept_images_mb": 20', '"auto_accept_images_mb": -3')
    store.path.write_text(text)
    loaded = store.load()
    assert loaded.settings.auto_accept_images_mb == 5 and loaded.invalid == ("files.auto_accept_images_mb",)


def test_each_route_is_worded_on_the_cards() -> None:
    from gui.files import wording

    assert "direct" in wording.route("direct")
    assert "through the host" in wording.route("host")
    assert "host's copy" in wording.route("cache")
    assert wording.served("zoe", 2048, None, "direct").startswith("zoe received")
    once = wording.served("(host cache)", 2048, None, "cache")
    assert once == "Sent 2.0 KB to the host once for the whole room"
