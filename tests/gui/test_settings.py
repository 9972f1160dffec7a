"""Settings: checking typed values, the JSON file, and the dialog and restart in the window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gui import settings as st
from gui.files import rules
from gui.settings import Settings, SettingsStore
from net import paths
from tests.gui.driving import type_into

# -- checking typed values (no window) ------------------------------------------------------


@pytest.mark.parametrize("text", ["alice", " 小王 ", "o'brien", "Ana-María"])
def test_good_nicknames(text):
    assert st.check_nickname(text) == text.strip()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("", "Please enter"), ("a" * 25, "at most 24"), ("bob smith", "may contain"), ("-bob", "must start")],
)
def test_bad_nicknames(text, fragment):
    with pytest.raises(st.SettingError, match=fragment):
        st.check_nickname(text)


@pytest.mark.parametrize("text", ["0", "65536", "port", "", "-5", "1.5"])
def test_bad_ports(text):
    with pytest.raises(st.SettingError):
        st.check_port(text)


def test_good_values():
    assert st.check_port(" 47800 ") == 47800
    assert st.check_font_size("14") == 14
    assert st.check_scrollback("5,000") == 5000
    assert st.check_room_name("  Our   room ") == "Our room"
    assert st.check_discovery_targets("10.0.5.7, 10.0.6.0/24 ::1") == ["10.0.5.7", "10.0.6.0/24", "::1"]


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (st.check_font_size, "7"),
        (st.check_font_size, "big"),
        (st.check_scrollback, "100"),
        (st.check_scrollback, "1000000"),
        (st.check_room_name, "   "),
        (st.check_room_name, "x" * 49),
        (st.check_discovery_targets, "my-pc"),
        (st.check_discovery_targets, "10.0.0.0/8"),
    ],
)
def test_bad_values(check, value):
    with pytest.raises(st.SettingError):
        check(value)


def test_recent_hosts_are_distinct_and_few():
    settings = Settings()
    for number in range(10):
        settings.remember_host(f"10.0.0.{number}")
    settings.remember_host("10.0.0.5")
    assert settings.recent_hosts[0] == "10.0.0.5"
    assert len(settings.recent_hosts) == st.RECENT_HOSTS_KEPT
    assert settings.recent_hosts.count("10.0.0.5") == 1


# -- the file (no window) ---------------------------------------------------------------------


def test_missing_file_gives_defaults_and_a_welcome(tmp_path):
    loaded = SettingsStore(tmp_path / "none").load()
    assert loaded.settings == Settings()
    assert loaded.problem == "missing"
    assert "Welcome" in loaded.notice()


def test_round_trip_is_readable_json(tmp_path):
    store = SettingsStore(tmp_path)
    original = Settings(nickname="小王", default_port=47900, transport="udp", theme="dark", font_size=14)
    original.recent_hosts = ["192.168.1.20"]
    assert store.save(original) is None
    data = json.loads(store.path.read_text(encoding="utf-8"))
    assert data["user"]["nickname"] == "小王"
    assert data["network"]["transport"] == "udp"
    loaded = store.load()
    assert loaded.problem is None and loaded.notice() is None
    assert loaded.settings == original


def test_desktop_notification_options_round_trip_and_fall_back(tmp_path):
    store = SettingsStore(tmp_path)
    assert Settings().desktop_notifications and Settings().notify_for == "all"
    assert store.save(Settings(desktop_notifications=False, notify_for="mentions")) is None
    data = json.loads(store.path.read_text(encoding="utf-8"))
    assert data["attention"]["desktop_notifications"] is False
    assert data["attention"]["notify_for"] == "mentions"
    loaded = store.load().settings
    assert (loaded.desktop_notifications, loaded.notify_for) == (False, "mentions")
    data["attention"] = {"desktop_notifications": "no", "notify_for": "everything"}
    store.path.write_text(json.dumps(data), encoding="utf-8")
    loaded_bad = store.load()
    assert (loaded_bad.settings.desktop_notifications, loaded_bad.settings.notify_for) == (True, "all")
    assert "attention.notify_for" in loaded_bad.notice()


def test_corrupt_file_is_kept_aside(tmp_path):
    store = SettingsStore(tmp_path)
    store.path.write_text("{ not json", encoding="utf-8")
    loaded = store.load()
    assert loaded.settings == Settings()
    assert loaded.problem == "corrupt"
    assert loaded.kept_as is not None and loaded.kept_as.read_text(encoding="utf-8") == "{ not json"
    assert not store.path.exists()
    assert loaded.kept_as.name in loaded.notice()


def test_one_bad_value_falls_back_alone(tmp_path):
    store = SettingsStore(tmp_path)
    store.path.write_text(
        json.dumps(
            {"user": {"nickname": "bob"}, "network": {"default_port": 99999}, "appearance": {"theme": "pink"}}
        ),
        encoding="utf-8",
    )
    loaded = store.load()
    assert loaded.settings.nickname == "bob"
    assert loaded.settings.default_port == Settings().default_port
    assert loaded.settings.theme == "light"
    assert loaded.problem == "invalid"
    assert "network.default_port" in loaded.notice() and "appearance.theme" in loaded.notice()


def test_environment_variable_chooses_the_directory(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.CONFIG_DIR_ENV, str(tmp_path / "elsewhere"))
    assert SettingsStore().path == tmp_path / "elsewhere" / "settings.json"


def test_unwritable_directory_is_a_sentence_not_a_crash(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "could not be saved" in SettingsStore(blocker / "sub").save(Settings())


# -- in the window ------------------------------------------------------------------------------


def test_settings_survive_a_restart(make_app):
    app = make_app(nickname="alice")
    dialog = app.open_settings()
    dialog.nick_var.set("alicia")
    dialog.port_var.set("47999")
    dialog.udp_button.invoke()
    dialog.theme_var.set("dark")
    dialog.font_var.set("13")
    dialog.scrollback_var.set("800")
    dialog.sound_var.set(False)
    dialog.ok_button.invoke()
    make_app.pump()
    assert app.settings.theme == "dark"
    assert app.palette.name == "dark"
    app.close()

    again = make_app()
    assert again.settings.nickname == "alicia"
    assert again.settings.default_port == 47999
    assert again.settings.transport == "udp"
    assert again.settings.font_size == 13
    assert again.settings.scrollback_lines == 800
    assert again.settings.sounds is False
    assert again.start_view.nick_var.get() == "alicia"
    assert again.start_view.port_var.get() == "47999"
    assert "UDP" in again.start_view.transport_label.cget("text")


def test_dialog_refuses_bad_values_and_keeps_the_old_ones(make_app):
    app = make_app(nickname="bob")
    dialog = app.open_settings()
    dialog.port_var.set("70000")
    dialog.ok_button.invoke()
    assert dialog.winfo_exists()
    assert "1 to 65535" in dialog.error_label.cget("text")
    assert app.settings.default_port == Settings().default_port
    dialog.cancel_button.invoke()
    assert app.settings.nickname == "bob"


def test_corrupt_file_gives_defaults_and_a_notice_in_the_window(make_app, config_dir):
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "settings.json").write_text("\x00garbage", encoding="utf-8")
    window = make_app()  # loads the file as it is
    notice = window.start_view.notice
    assert notice.winfo_ismapped()
    assert "could not be read" in notice.cget("text")
    assert list(config_dir.glob("settings.json.corrupt-*"))
    assert window.settings.nickname == ""


def test_language_switches_live(make_app):
    app = make_app(nickname="carol")
    dialog = app.open_settings()
    dialog.language_var.set("简体中文")
    dialog.ok_button.invoke()
    make_app.pump()
    assert app.start_view.host_button.cget("text") == "创建聊天"
    assert app.settings.language == "zh_CN"
    dialog = app.open_settings()
    dialog.language_var.set("English")
    dialog.ok_button.invoke()
    assert app.start_view.host_button.cget("text") == "Host a chat"


def test_typing_in_the_dialog_works_like_a_user(make_app):
    app = make_app(nickname="dan")
    dialog = app.open_settings()
    dialog.nick_entry.delete(0, "end")
    type_into(dialog.nick_entry, "daniel")
    dialog.ok_button.invoke()
    assert app.settings.nickname == "daniel"


# -- the file settings (issue 16) -------------------------------------------------------------


def test_file_setting_checks(tmp_path):
    assert st.check_download_folder("  ") == ""
    assert st.check_download_folder(f" {tmp_path} ") == str(tmp_path)
    assert st.check_download_folder("~/收件") == "~/收件"  # expanded when used
    assert st.check_auto_accept_mb(" 20 ") == 20
    assert st.check_auto_accept_mb(0) == 0
    (tmp_path / "a file").write_text("x")
    for folder in ("relative/in", str(tmp_path / "a file"), "/in\x07", "/" + "x" * 5000):
        with pytest.raises(st.SettingError):
            st.check_download_folder(folder)
    for size in ("-1", "101", "lots", "2.5"):
        with pytest.raises(st.SettingError):
            st.check_auto_accept_mb(size)


def test_the_dialog_sets_the_download_folder_and_the_image_size_and_they_survive(make_app, tmp_path):
    app = make_app(nickname="erin")
    dialog = app.open_settings()
    assert dialog.folder_var.get() == "" and dialog.auto_accept_var.get() == "5"
    chosen = tmp_path / "收件"
    asked: list[Path] = []
    dialog.choose_folder = lambda initial: asked.append(initial) or chosen
    dialog.folder_button.invoke()
    assert asked == [rules.default_folder()] and dialog.folder_var.get() == str(chosen)
    dialog.auto_accept_box.set("20")
    dialog.ok_button.invoke()
    assert (app.settings.download_folder, app.settings.auto_accept_images_mb) == (str(chosen), 20)
    app.close()

    again = make_app()
    assert (again.settings.download_folder, again.settings.auto_accept_images_mb) == (str(chosen), 20)
    dialog = again.open_settings()
    assert dialog.folder_var.get() == str(chosen) and dialog.auto_accept_box.get() == "20"
    dialog.choose_folder = lambda initial: asked.append(initial) or None  # cancelled: unchanged
    dialog.folder_button.invoke()
    assert asked[-1] == chosen and dialog.folder_var.get() == str(chosen)


def test_the_dialog_refuses_bad_file_settings_and_points_at_them(make_app, tmp_path):
    app = make_app(nickname="fay")
    dialog = app.open_settings()
    make_app.pump()
    assert dialog.winfo_reqheight() <= dialog.winfo_screenheight()  # OK is on the screen
    assert not dialog.column.visible(dialog.auto_accept_box)  # the last section is below: it scrolls
    dialog.auto_accept_box.set("500")
    dialog.ok_button.invoke()
    make_app.pump()
    assert dialog.winfo_exists() and "100 MB" in dialog.error_label.cget("text")
    assert dialog.focus_get() is dialog.auto_accept_box
    assert dialog.column.visible(dialog.auto_accept_box)  # scrolled to it, the last section
    dialog.auto_accept_box.set("0")
    dialog.folder_var.set("relative/folder")
    dialog.ok_button.invoke()
    make_app.pump()
    assert "full path" in dialog.error_label.cget("text")
    assert dialog.focus_get() is dialog.folder_entry
    assert (app.settings.download_folder, app.settings.auto_accept_images_mb) == ("", 5)
    dialog.folder_var.set("")
    dialog.ok_button.invoke()
    assert app.settings.auto_accept_images_mb == 0
