"""`/msg NAME` finds the member NAME means as the room compares names, and refuses, before a
tab opens, a name nobody in the chat has."""

from __future__ import annotations

import pytest

from gui import i18n
from gui.model.nicks import key_of, member_named
from gui.model.values import ROOM
from net.protocol import events as ev
from tests.gui.driving import connected, join_from_window, room_text, say


def members(*nicks: str) -> dict[str, ev.MemberInfo]:
    return {key_of(nick): ev.MemberInfo(nick) for nick in nicks}


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("alice", "alice"),
        ("Alice", "alice"),  # case
        ("ＡＬＩＣＥ", "alice"),  # full-width, as an input method in full-width mode types it
        ("B0B", "bob"),  # looks like bob: the room would not let both in
        ("Ian", "lan"),
        ("nobody", None),
        ("bob!", None),  # not even a possible nickname
    ],
)
def test_a_typed_name_means_the_member_the_room_would_take_it_for(typed, meant):
    found = member_named(typed, members("alice", "bob", "lan"))
    assert (found.nick if found else None) == meant


@pytest.fixture
def chat(make_app, headless_host, headless_client):
    host = headless_host(room="Names")
    _alice, alice_events = headless_client(host.port, "alice")
    app = make_app(nickname="yann")
    join_from_window(app, "yann", f"127.0.0.1:{host.port}")
    make_app.wait(lambda: connected(app) and len(app.controller.members()) == 2)
    return app, alice_events


@pytest.mark.parametrize(
    ("language", "sentence"),
    [("en", "Nobody called “nobody” is in the chat."), ("zh_CN", "聊天中没有叫“nobody”的人。")],
)
def test_msg_to_nobody_is_refused_before_a_tab_opens(chat, make_app, language, sentence):
    app, _ = chat
    i18n.set_language(language)
    view = app.chat_view
    say(view, "/msg nobody hi")
    assert sentence in room_text(app)
    assert list(view.panes) == [ROOM] and view.current_key() is ROOM
    assert view.input.get("1.0", "end-1c") == "/msg nobody hi"  # kept, to fix the name
    assert not view.current_pane().pending_ids()
    say(view, "/msg nobody")  # without text the same
    assert room_text(app).count(sentence) == 2 and list(view.panes) == [ROOM]


def test_msg_reaches_the_member_as_the_room_compares_names(chat, make_app):
    app, alice_events = chat
    view = app.chat_view
    say(view, "/msg ALICE psst")
    make_app.wait(lambda: any(m.text == "psst" and m.to == "alice" for m in alice_events.of(ev.ChatMessage)))
    assert list(view.panes) == [ROOM, "alice"] and view.titles["alice"] == "alice"
    # A look-alike means alice too; it goes to her name (the host knows no "A1ice").
    say(view, "/msg A1ice again")
    make_app.wait(lambda: any(m.text == "again" and m.to == "alice" for m in alice_events.of(ev.ChatMessage)))
    assert list(view.panes) == [ROOM, "alice"]
    assert "Nobody called" not in room_text(app)
    make_app.wait(lambda: not view.panes["alice"].pending_ids(), message="the host's acks")


def test_a_member_who_left_is_not_opened_from_the_member_list_either(chat, make_app):
    app, _ = chat
    assert app.controller.open_private("zoe") is None  # as a stale double-click would ask
    make_app.pump()
    assert list(app.chat_view.panes) == [ROOM]
