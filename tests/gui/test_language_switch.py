"""Switching the language in Settings while texts are shown: everything visible follows.

Texts that were made once and kept (the member list's marks, who is typing, the status
bar's reason, an error under the start view's form, "Connecting to …") used to stay in the
language they were made in until the next session.
"""

from __future__ import annotations

import socket

from gui import i18n
from gui.i18n import retranslated, tr
from gui.model.values import ROOM
from gui.settings import SettingError, check_nickname
from gui.wording import failure_sentence
from net.api import FailureKind
from net.protocol.nicknames import nick_key
from tests.gui.conftest import free_port
from tests.gui.driving import connected, host_from_window, join_from_window, room_text


def switch_language(app, name: str) -> None:
    """Choose `name` ("简体中文", "English") in the Settings dialog and press OK, as a user would."""
    dialog = app.open_settings()
    dialog.language_var.set(name)
    dialog.ok_button.invoke()
    assert not dialog.winfo_exists(), dialog.error_label.cget("text")
    app.root.update()


def test_a_kept_text_says_itself_again_in_the_new_language():
    try:
        check_nickname("")
    except SettingError as exc:
        error = str(exc)  # as the controller hands it to the start view
    refused = failure_sentence(FailureKind.REFUSED)  # formatted with a translated argument
    plain = "typed by someone"
    i18n.set_language("zh_CN")
    assert retranslated(error) == "请输入昵称。"
    assert retranslated(refused).startswith("主持人 上没有人在主持聊天")
    assert retranslated(plain) is plain
    i18n.set_language("en")
    assert retranslated(error) == "Please enter a nickname."
    assert retranslated(tr("{count} is typing…")) == "{count} is typing…"  # no catalog entry


def test_the_member_list_marks_typing_and_invites_follow_the_language(make_app, headless_client):
    app = make_app(allow_plaintext=True)
    port = free_port()
    host_from_window(app, "hal", "Mixed", port)
    make_app.wait(lambda: connected(app))
    bob, _ = headless_client(port, "bob", expected_code=app.controller.trust.identity().code)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:  # as nc would
        raw.sendall(b"netcat\n")
        make_app.wait(lambda: "netcat joined the chat (unencrypted)." in room_text(app))
        make_app.wait(lambda: "bob" in {m.nick for m in app.controller.members()})
        view = app.chat_view
        tree = view.members_tree
        bob.set_typing(True)
        pane = view.panes[ROOM]
        make_app.wait(lambda: pane.typing_label.cget("text") == "bob is typing…")
        assert tree.item(nick_key("hal"), "text") == "★ hal  (host)"
        view.sidebar.invite.copy_code_button.invoke()

        switch_language(app, "简体中文")
        view = app.chat_view
        assert view.send_button.cget("text") == "发送"
        assert tree.item(nick_key("hal"), "text") == "★ hal  (主持人)"
        assert tree.item(nick_key("netcat"), "text").endswith("· 未加密")
        assert pane.typing_label.cget("text") == "bob 正在输入…"
        assert view.sidebar.invite.copy_code_button.cget("text") == "✓ 已复制"

        switch_language(app, "English")
        assert tree.item(nick_key("hal"), "text") == "★ hal  (host)"
        assert pane.typing_label.cget("text") == "bob is typing…"


def test_the_status_bars_reason_and_the_find_bar_follow_the_language(make_app, headless_host):
    port = free_port()
    host = headless_host(port=port)
    app = make_app()
    join_from_window(app, "kim", f"127.0.0.1:{port}")
    make_app.wait(lambda: connected(app))
    view = app.chat_view
    pane = view.panes[ROOM]
    pane.show_find()
    pane.find_var.set("no such words anywhere")
    pane.find_next()
    assert pane.find_status.cget("text") == "Not found"
    host.stop()
    make_app.wait(lambda: "The host closed the chat." in view.status_label.cget("text"))

    switch_language(app, "简体中文")
    assert "主持人关闭了聊天。" in view.status_label.cget("text")
    assert "The host closed" not in view.status_label.cget("text")
    assert pane.find_status.cget("text") == "未找到"


def test_the_start_views_error_and_progress_follow_the_language(make_app):
    app = make_app(nickname="lin")
    view = app.start_view
    assert view.room_var.get() == "lin's chat"  # offered, not typed: it follows too
    switch_language(app, "简体中文")
    assert view.room_var.get() == "lin的聊天室"
    switch_language(app, "English")
    join_from_window(app, "", "127.0.0.1")
    assert view.error_label.cget("text") == "Please enter a nickname."
    switch_language(app, "简体中文")
    assert view.error_label.cget("text") == "请输入昵称。"

    # Something that accepts the connection and then says nothing: the join stays "connecting".
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        join_from_window(app, "lin", address)
        assert view.connecting
        assert view.progress_label.cget("text") == f"正在连接 {address}…"
        switch_language(app, "English")
        assert view.progress_label.cget("text") == f"Connecting to {address}…"
        assert view.room_var.get() == "lin's chat"
        view.cancel_button.invoke()
