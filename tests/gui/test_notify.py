"""Desktop notifications without a window or a desktop: the policy, the wording, the pacing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gui import i18n
from gui.model.changes import Incoming
from gui.model.values import ROOM
from gui.notify.center import Notices, NotificationClicked
from gui.notify.pacing import MAX_WAITING, Pacer, Pile
from gui.notify.policy import should_notify
from gui.notify.wording import FIRST_LINE_CHARS, first_line, toast_text
from gui.settings import Settings

ME = "yann"


def room_message(text: str = "hello", sender: str = "zoe") -> Incoming:
    return Incoming(ROOM, sender, text)


def private_message(text: str = "psst", sender: str = "zoe") -> Incoming:
    return Incoming(sender.lower(), sender, text, private=True)


# -- the policy ---------------------------------------------------------------------------------


def test_a_message_in_the_background_notifies():
    assert should_notify(room_message(), False, True, Settings(), ME)  # window not focused
    assert should_notify(room_message(), True, False, Settings(), ME)  # another tab in front


def test_none_while_its_conversation_is_in_front():
    assert not should_notify(room_message(), True, True, Settings(), ME)
    assert not should_notify(private_message(), True, True, Settings(), ME)


@pytest.mark.parametrize("sender", ["yann", "YANN", "Yann"])
def test_none_for_our_own_messages(sender):
    assert not should_notify(room_message(sender=sender), False, False, Settings(), ME)


def test_none_when_switched_off():
    off = Settings(desktop_notifications=False)
    assert not should_notify(private_message(), False, False, off, ME)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (room_message("lunch, anyone?"), False),
        (room_message("yann: lunch?"), True),
        (room_message("ask Yann."), True),
        (room_message("yannick is late"), False),  # a word of its own, not part of another
        (private_message("lunch?"), True),  # written to us alone: counts as a mention
    ],
)
def test_mention_only_mode(message, expected):
    settings = Settings(notify_for="mentions")
    assert should_notify(message, False, False, settings, ME) is expected


def test_mentions_of_a_chinese_nickname_need_no_spaces():
    settings = Settings(notify_for="mentions")
    assert should_notify(room_message("小王你好"), False, False, settings, "小王")


# -- the wording ----------------------------------------------------------------------------------


def test_first_line_is_the_first_with_something_on_it_cleaned_and_shortened():
    assert first_line("\n  \n  hello   there \nsecond") == "hello there"
    assert first_line("evil\u202etxt.exe\x07bell") == "evil txt.exe bell"  # no bidi override, no bell
    long = first_line("x" * 500)
    assert len(long) == FIRST_LINE_CHARS and long.endswith("…")
    assert first_line("") == ""


def test_toast_names_the_sender_and_the_room_or_private():
    assert toast_text(Pile.of(room_message("hi\nmore"), "Lobby")) == ("zoe in Lobby", "hi")
    assert toast_text(Pile.of(private_message("psst"), "Lobby")) == ("zoe (private message)", "psst")
    action = Incoming(ROOM, "zoe", "waves", action=True)
    assert toast_text(Pile.of(action, "Lobby")) == ("zoe in Lobby", "* zoe waves")


def test_a_pile_says_how_many_and_shows_the_latest():
    pile = Pile.of(room_message("one"), "Lobby").then(Pile.of(room_message("two", "bob"), "Lobby"))
    assert toast_text(pile) == ("2 new messages in Lobby", "bob: two")
    private = Pile.of(private_message("a"), "").then(Pile.of(private_message("b"), ""))
    assert toast_text(private) == ("2 new private messages from zoe", "b")


def test_the_wording_is_translated():
    i18n.set_language("zh_CN")
    try:
        title, _body = toast_text(Pile.of(room_message(), "大厅").then(Pile.of(room_message(), "大厅")))
        private_title, _ = toast_text(Pile.of(private_message(), ""))
    finally:
        i18n.set_language("en")
    assert title == "大厅 有 2 条新消息"
    assert private_title == "zoe（私聊）"


def test_a_file_offer_is_worded_as_one_and_follows_the_rules_of_messages():
    from gui.files.wording import offer_notice
    from net.files import events as fe

    private = offer_notice(fe.OfferReceived("f1", "zoe", ("report.pdf",), 1, 48213, True), "zoe")
    room = offer_notice(fe.OfferReceived("f2", "zoe", ("a.png", "b\u202etxt.exe"), 3, 2048, False), ROOM)
    assert toast_text(Pile.of(private, "Lobby")) == ("zoe sends you files", "report.pdf · 1 file, 47.1 KB")
    assert toast_text(Pile.of(room, "Lobby")) == (
        "zoe sends files to Lobby",
        "a.png, b txt.exe and 1 more · 3 files, 2.0 KB",  # no bidirectional override shown
    )
    after_a_message = Pile.of(room_message(), "Lobby").then(Pile.of(room, "Lobby"))
    assert toast_text(after_a_message)[0] == "zoe sends files to Lobby"
    mentions = Settings(notify_for="mentions")
    assert should_notify(private, False, True, mentions, ME)  # to us alone: like a private message
    assert not should_notify(room, False, True, mentions, ME)  # to the room, not naming us
    assert should_notify(room, False, True, Settings(), ME)
    assert not should_notify(room, True, True, Settings(), ME)  # its conversation in front
    assert not should_notify(private, False, False, Settings(desktop_notifications=False), ME)
    i18n.set_language("zh_CN")
    try:
        assert toast_text(Pile.of(private, ""))[0] == "zoe 给你发送了文件"
    finally:
        i18n.set_language("en")


# -- the pacing -----------------------------------------------------------------------------------


def test_the_first_is_shown_at_once_the_next_ones_together_after_the_gap():
    pacer = Pacer(gap=4.0)
    pacer.add(Pile.of(room_message("one"), "Lobby"))
    assert [pile.text for pile in pacer.due(100.0)] == ["one"]
    assert pacer.wait(100.0) is None
    pacer.add(Pile.of(room_message("two"), "Lobby"))
    pacer.add(Pile.of(room_message("three"), "Lobby"))
    pacer.add(Pile.of(private_message("psst"), "Lobby"))  # another conversation: not held back
    assert [pile.text for pile in pacer.due(101.0)] == ["psst"]
    assert pacer.wait(101.0) == pytest.approx(3.0)
    assert pacer.due(103.9) == []
    (pile,) = pacer.due(104.0)
    assert (pile.text, pile.count) == ("three", 2)
    assert len(pacer) == 0


def test_what_waits_is_bounded_and_can_be_forgotten():
    pacer = Pacer(gap=4.0)
    for number in range(MAX_WAITING + 10):
        pacer.add(Pile.of(private_message(sender=f"p{number}"), ""))
        pacer.add(Pile.of(private_message(sender=f"p{number}"), ""))
    assert len(pacer) == MAX_WAITING
    pacer.forget("p41")
    assert len(pacer) == MAX_WAITING - 1
    assert {pile.sender for pile in pacer.due(0.0)} == {f"p{n}" for n in range(10, MAX_WAITING + 9)}


# -- the window's side, with a backend that records -----------------------------------------------


class RecordingBackend:
    def __init__(self, on_click) -> None:
        self.on_click = on_click
        self.shown: list[Pile] = []
        self.forgotten: list[str | None] = []
        self.closed = False

    def show(self, pile: Pile) -> None:
        self.shown.append(pile)

    def forget(self, conversation: str | None) -> None:
        self.forgotten.append(conversation)

    def close(self) -> None:
        self.closed = True


def test_notices_hand_over_one_pile_per_conversation_and_post_clicks():
    posted: list[object] = []
    notices = Notices(Settings(), posted.append, RecordingBackend)
    batch = [room_message("a"), room_message("b"), private_message("c"), room_message("mine", ME)]
    piles = notices.offer(batch, ME, "Lobby", window_focused=False, in_front=ROOM)
    assert [(pile.conversation, pile.count, pile.text) for pile in piles] == [(ROOM, 2, "b"), ("zoe", 1, "c")]
    backend = notices.backend
    assert isinstance(backend, RecordingBackend) and backend.shown == piles
    backend.on_click(piles[1])  # from the backend's thread: only an event is posted
    assert posted == [NotificationClicked("zoe", "zoe")]
    notices.close()
    assert backend.closed


def test_notices_make_no_backend_when_nothing_deserves_one():
    notices = Notices(Settings(), print, RecordingBackend)
    assert notices.offer([room_message("mine", ME)], ME, "Lobby", False, ROOM) == []
    assert notices.offer([room_message()], ME, "Lobby", True, ROOM) == []  # it is in front
    assert notices.backend is None


# -- what loads when --------------------------------------------------------------------------------

STARTS_WINDOW = """
import sys, tkinter as tk
from pathlib import Path
from gui.app import App
from gui.settings import SettingsStore
root = tk.Tk()
app = App(root, SettingsStore(Path(sys.argv[1])))
root.update()
print(sorted(m for m in ("desktop_notifier", "dbus_fast", "asyncio") if m in sys.modules))
app.close()
"""


def test_the_window_starts_without_the_notification_library(tk_root, tmp_path):
    """desktop-notifier (and asyncio under it) is imported in the backend's own thread when the
    first notification is due, never while the window starts."""
    result = subprocess.run(
        [sys.executable, "-c", STARTS_WINDOW, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_notify_package_needs_no_tk():
    code = "import sys, gui.notify.center; print('tkinter' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
