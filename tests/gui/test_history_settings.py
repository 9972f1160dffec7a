"""History settings: keep it or not, and for how long (forever, 30 days, 90 days, 1 year),
in one row of the Settings dialog; how long is applied when the window starts."""

from __future__ import annotations

import time

from gui.settings import SettingsStore
from history import store
from history.database import HistoryDatabase, open_reader
from net.paths import history_file

DAY = 24 * 60 * 60


def seed(*ages_in_days: float) -> None:
    database = HistoryDatabase.open(history_file())
    connection = database.connect()
    now = time.time()
    messages = [
        store.NewMessage("room:CODE", "Kept", f"m{i}", now - age * DAY, "bob", f"said {age} days ago")
        for i, age in enumerate(ages_in_days)
    ]
    connection.execute("BEGIN")
    store.append(connection, messages, database.fts)
    connection.execute("COMMIT")
    connection.close()
    database.close()


def kept_bodies() -> list[str]:
    connection, _fts = open_reader(history_file())
    try:
        return [m.body for m in store.page(connection, "room:CODE")]
    finally:
        connection.close()


def test_how_long_history_is_kept_is_applied_at_start(make_app):
    seed(400, 100, 40, 29, 1)
    make_app(history_days=30)
    make_app.wait(lambda: len(kept_bodies()) == 2, message="the older messages forgotten")
    assert kept_bodies() == ["said 29 days ago", "said 1 days ago"]


def test_kept_forever_by_default(make_app):
    seed(4000, 1)
    app = make_app()
    assert app.settings.history_days == 0
    app.close()  # the writer has done all it was given
    assert len(kept_bodies()) == 2


def test_the_settings_dialog_sets_history_in_one_row(make_app, config_dir):
    app = make_app(nickname="ann")
    dialog = app.open_settings()
    assert dialog.keep_var.get() and dialog.days_var.get() == "forever"
    dialog.days_var.set("for 90 days")
    dialog.ok_button.invoke()
    assert app.settings.history_days == 90
    assert SettingsStore(config_dir).load().settings.history_days == 90

    dialog = app.open_settings()
    assert str(dialog.days_box.cget("state")) == "readonly"
    dialog.keep_var.set(False)
    dialog._keep_toggled()  # as the check button's command does
    assert str(dialog.days_box.cget("state")) == "disabled"
    assert dialog.days_box.winfo_parent() == dialog.keep_button.winfo_parent()  # one row
    dialog.ok_button.invoke()
    assert app.settings.keep_history is False


def test_a_shorter_keeping_time_applies_at_once_without_a_restart(make_app):
    seed(400, 100, 40, 1)
    app = make_app(nickname="ann")  # (the dialog's OK wants a nickname)
    assert len(kept_bodies()) == 4  # kept forever so far
    dialog = app.open_settings()
    dialog.days_var.set("for 90 days")
    dialog.ok_button.invoke()
    make_app.wait(lambda: len(kept_bodies()) == 2, message="messages older than 90 days forgotten at once")
    assert kept_bodies() == ["said 40 days ago", "said 1 days ago"]


def test_keeping_nothing_stops_writing_at_once_and_keeps_what_is_there(make_app):
    seed(1)
    app = make_app(nickname="ann")
    assert app.history.keeping
    dialog = app.open_settings()
    dialog.keep_var.set(False)
    dialog._keep_toggled()
    dialog.ok_button.invoke()
    assert not app.history.keeping and app.history.path is None
    assert kept_bodies() == ["said 1 days ago"]  # nothing deleted behind the user's back
