"""The start view in the real window (issue 15): the list of found chats after a failed join,
the room name offered for hosting, and the list's columns at the default size and at 640x480."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from gui.start_view import StartView
from hosting import DiscoverableHost, start_discoverable_host
from net.api import HostConfig, Transport
from net.protocol.limits import DEFAULT_PORT
from net.room import RoomConfig
from tests.gui.conftest import free_port
from tests.gui.driving import double_click
from tests.identity import secure

FOUND_SENTENCE = "Chats found on your network — double-click one to join:"


@pytest.fixture
def found_host() -> Iterator[DiscoverableHost]:
    """A discoverable chat on loopback (the window's browser probes the default port range)."""
    host = start_discoverable_host(
        Transport.TCP,
        HostConfig(port=DEFAULT_PORT, room=RoomConfig(name="Tea corner"), **secure({})),
        port_given=False,
        nick="tina",
    )
    try:
        yield host
    finally:
        host.stop()


def listed(view: StartView, room: str) -> str | None:
    """The tree item showing `room`, when the list shows it."""
    return next((item for item, entry in view.found.items() if entry.room == room), None)


def list_shown(view: StartView) -> bool:
    return view.found_tree.winfo_ismapped() and view.found_label.cget("text") == FOUND_SENTENCE


def test_the_found_list_stays_after_a_join_refused_for_a_taken_nickname(
    make_app, headless_client, found_host
):
    """Issue 15.1: the error shows, and the list of found chats stays (it used to be replaced
    by the "type the address" hint until a chat was joined and left)."""
    headless_client(found_host.port, "alice")  # the nickname is taken there
    app = make_app(nickname="alice")
    make_app.wait(lambda: listed(app.start_view, "Tea corner"), timeout=15, message="the chat listed")
    view = app.start_view
    item = listed(view, "Tea corner")
    view.found_tree.see(item)
    make_app.pump()
    x, y, _w, h = view.found_tree.bbox(item)
    double_click(view.found_tree, x + 10, y + h // 2)
    make_app.wait(
        lambda: app.start_view is not view and "already" in app.start_view.error_label.cget("text"),
        message="the join to fail with the reason",
    )
    view = app.start_view
    make_app.wait(lambda: listed(view, "Tea corner"), timeout=10, message="the chat listed again")
    assert list_shown(view)


def test_the_found_list_stays_after_joining_a_wrong_port(make_app, found_host):
    app = make_app(nickname="bert")
    make_app.wait(lambda: listed(app.start_view, "Tea corner"), timeout=15, message="the chat listed")
    view = app.start_view
    view.address_var.set(f"127.0.0.1:{free_port()}")  # nobody hosts there
    view.join_button.invoke()
    make_app.wait(
        lambda: app.start_view is not view and app.start_view.error_label.cget("text"),
        message="the join to fail",
    )
    view = app.start_view
    make_app.wait(lambda: listed(view, "Tea corner"), timeout=10, message="the chat listed again")
    assert list_shown(view)
    assert not view.found_empty.winfo_ismapped()


def test_the_room_offered_for_hosting_is_named_after_the_nickname(make_app):
    """Issue 15.14: every host's room used to be "Our chat"."""
    app = make_app(nickname="alice")
    view = app.start_view
    assert view.room_var.get() == "alice's chat"
    view.nick_entry.delete(0, "end")
    view.nick_entry.insert(0, "bob")  # typed: the offered name follows
    assert view.room_var.get() == "bob's chat"
    view.nick_var.set("")
    assert view.room_var.get() == ""
    view.nick_var.set("bob")
    assert view.room_var.get() == "bob's chat"

    view.room_var.set("Design team")  # a name of the user's own stays
    view.nick_var.set("carol")
    assert view.room_var.get() == "Design team"

    view.room_var.set("carol's chat")
    view.port_var.set(str(free_port()))
    view.host_button.invoke()
    make_app.wait(lambda: app.chat_view is not None and app.chat_view.room_name, message="the chat hosted")
    assert app.chat_view.room_name == "carol's chat"


def test_the_room_offered_follows_the_language_and_forgets_the_old_default(make_app):
    app = make_app(nickname="小王", language="zh_CN", room_name="我们的聊天")  # kept by an older version
    view = app.start_view
    assert view.room_var.get() == "小王的聊天室"
    app.apply_settings(dataclasses.replace(app.settings, language="en"))
    assert view.room_var.get() == "小王's chat"

    again = make_app(nickname="dora", room_name="Our chat")
    assert again.start_view.room_var.get() == "dora's chat"
    remembered = make_app(nickname="dora", room_name="Book club")
    assert remembered.start_view.room_var.get() == "Book club"
