"""Trust in the window, against real hosts on 127.0.0.1: the invite panel and its code, room
passwords, a changed or wrong key, and members connected without encryption."""

from __future__ import annotations

import socket

from gui.trust_dialogs import KeyWarningDialog, PasswordDialog
from net.api import ClientState, FailureKind, HostConfig, HostVerified, StateChanged, Transport
from net.protocol.nicknames import nick_key
from net.room import RoomConfig
from net.secure.identity import load_or_create_identity
from net.transports import make_host
from tests.gui.conftest import free_port
from tests.gui.driving import connected, host_from_window, join_from_window, room_text
from tests.identity import session_identity


def a_dialog(make_app, app, kind):
    """Waits for the app's join dialog of `kind` (a new one: the previous is gone by then)."""
    return make_app.wait(
        lambda: isinstance(app.trust_dialog, kind) and app.trust_dialog.winfo_exists() and app.trust_dialog,
        message=f"a {kind.__name__}",
    )


def start_error(app) -> str:
    assert app.start_view is not None
    return app.start_view.error_label.cget("text")


def test_the_invite_panel_shows_the_code_and_copyable_invites(make_app, headless_client):
    app = make_app()
    port = free_port()
    host_from_window(app, "alice", "Invited", port)
    make_app.wait(lambda: connected(app), message="the window to join its own host")
    code = app.controller.trust.identity().code
    view = app.chat_view
    panel = view.sidebar.invite
    assert panel.code_label.cget("text") == code
    assert panel.code_label.cget("style") == "SidebarCode.TLabel"  # large, fixed-width
    assert "Members can check this code" in panel.code_hint.cget("text")
    assert panel.invitation.links and all(
        link.startswith("lanchat://") and link.endswith(f":{port}#{code}") for link in panel.invitation.links
    )
    panel.copy_buttons[0].invoke()
    assert app.root.clipboard_get() == panel.invitation.links[0]
    panel.copy_code_button.invoke()
    assert app.root.clipboard_get() == code
    assert not panel.plaintext_label.winfo_manager()  # unencrypted members are not allowed
    # The window's own join checked this PC's key; the header and status bar say so.
    assert f"room code {code}" in view.header.subtitle_label.cget("text")
    assert view.status_bar.security_label.cget("text").strip() == "Encrypted"
    assert view.status_bar.security_label.winfo_manager() == "grid"

    # A member with the invite's code gets in, its key checked from the first time.
    _bob, bob_events = headless_client(port, "bob", expected_code=code)
    make_app.wait(lambda: "bob joined the chat." in room_text(app))
    assert bob_events.of(HostVerified)[0].fingerprint == app.controller.trust.identity().fingerprint


def test_hosting_with_a_password_keeps_out_who_lacks_it(make_app, headless_client):
    app = make_app()
    port = free_port()
    assert app.start_view.password_entry.cget("show") == "•"
    app.start_view.password_var.set("sesame")
    host_from_window(app, "alice", "Locked", port)
    make_app.wait(lambda: connected(app))
    _eve, eve_events = headless_client(port, "eve")
    make_app.wait(
        lambda: any(e.failure is FailureKind.PASSWORD for e in eve_events.of(StateChanged)),
        message="eve to be refused",
    )
    _bob, _ = headless_client(port, "bob", password="sesame")
    make_app.wait(lambda: "bob joined the chat." in room_text(app))
    assert "eve" not in room_text(app)
    assert "sesame" not in app.store.path.read_text(encoding="utf-8")  # never saved


def test_joining_a_room_with_a_password_asks_for_it(make_app, headless_host):
    host = headless_host(room="Locked", password="sesame")
    app = make_app()
    join_from_window(app, "dora", f"127.0.0.1:{host.port}")
    dialog = a_dialog(make_app, app, PasswordDialog)
    assert dialog.password_var.get() == "" and dialog.entry.cget("show") == "•"
    assert dialog.message.cget("text") == f"The chat at 127.0.0.1:{host.port} needs a password to join."
    dialog.ok_button.invoke()  # nothing typed: said in the dialog, nothing sent
    assert dialog.error_label.cget("text") == "Please type the chat’s password."
    dialog.password_var.set("open sesame")
    dialog.ok_button.invoke()
    assert app.start_view.connecting
    dialog = a_dialog(make_app, app, PasswordDialog)
    assert dialog.message.cget("text").startswith("That password was not right.")
    dialog.cancel_button.invoke()  # back to the start view, which says why
    assert start_error(app) == "The chat needs a password: none was given, or it was wrong."
    assert app.controller.session is None and not app.start_view.connecting

    join_from_window(app, "dora", f"127.0.0.1:{host.port}")
    dialog = a_dialog(make_app, app, PasswordDialog)
    dialog.password_var.set("sesame")
    dialog.ok_button.invoke()
    make_app.wait(lambda: connected(app), message="joining with the right password")
    assert app.chat_view.room_name == "Locked"


def impostor_host(port: int, directory):
    """A host on `port` with a key of its own (another PC, or someone posing as the host)."""
    identity = load_or_create_identity(directory)
    host = make_host(
        Transport.TCP, HostConfig(port=port, room=RoomConfig(name="Impostor"), identity=identity)
    )
    host.start()
    return host, identity


def test_a_changed_key_is_refused_until_the_user_connects_anyway(make_app, headless_host, tmp_path):
    port = free_port()
    original = headless_host(port=port, room="Original")
    app = make_app()
    where = f"127.0.0.1:{port}"
    join_from_window(app, "fay", where)
    make_app.wait(lambda: connected(app))
    old = session_identity()
    assert app.controller.trust.pinned(where, None) == old.fingerprint  # first use: pinned
    assert f"room code {old.code}" in app.chat_view.header.subtitle_label.cget("text")
    assert "first time you join this chat" in room_text(app)
    app.chat_view.leave_button.invoke()
    original.stop()

    impostor, new = impostor_host(port, tmp_path / "impostor")
    try:
        join_from_window(app, "fay", where)
        dialog = a_dialog(make_app, app, KeyWarningDialog)
        text = dialog.message.cget("text")
        assert old.code in text and new.code in text and "Nothing was sent" in text
        assert dialog.heading.cget("text") == "The chat’s room code has changed"
        assert dialog.focus_get() is dialog.dont_button  # the default
        dialog.dont_button.invoke()
        assert app.controller.session is None and not app.start_view.connecting
        assert "nothing was sent" in start_error(app)
        assert impostor.member_count == 0
        assert app.controller.trust.pinned(where, None) == old.fingerprint

        join_from_window(app, "fay", where)
        dialog = a_dialog(make_app, app, KeyWarningDialog)
        dialog.connect_button.invoke()
        make_app.wait(lambda: connected(app), message="connecting anyway")
        assert app.chat_view.room_name == "Impostor"
        assert app.controller.trust.pinned(where, None) == new.fingerprint  # pinned anew
        assert f"room code {new.code}" in app.chat_view.header.subtitle_label.cget("text")
        app.chat_view.leave_button.invoke()

        join_from_window(app, "fay", where)  # the new key is the expected one now
        make_app.wait(lambda: connected(app))
        assert app.trust_dialog is None
    finally:
        impostor.stop()


def test_an_invite_with_another_code_is_refused_with_the_warning(make_app, headless_host):
    host = headless_host()
    app = make_app()
    wrong = "0000-1111-2222-3333-4444"
    join_from_window(app, "gus", f"lanchat://127.0.0.1:{host.port}#{wrong}")
    dialog = a_dialog(make_app, app, KeyWarningDialog)
    assert dialog.warning.invited and dialog.warning.expected == wrong
    assert dialog.warning.shown == session_identity().code
    assert dialog.heading.cget("text") == "This is not the chat the invite names"
    app.root.tk.call(dialog.protocol("WM_DELETE_WINDOW"))  # closing it is "Don't connect"
    assert app.trust_dialog is None and app.controller.session is None
    assert "does not have the room code the invite names" in start_error(app)
    assert host.member_count == 0


def test_an_unencrypted_member_is_marked_when_this_pc_allows_them(make_app):
    app = make_app(allow_plaintext=True)
    port = free_port()
    host_from_window(app, "hal", "Mixed", port)
    make_app.wait(lambda: connected(app))
    panel = app.chat_view.sidebar.invite
    assert panel.plaintext_label.winfo_manager() == "grid"
    assert "Unencrypted connections are allowed" in panel.plaintext_label.cget("text")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:  # as nc or telnet would
        raw.sendall(b"netcat\n")
        make_app.wait(lambda: "netcat joined the chat (unencrypted)." in room_text(app))
        tree = app.chat_view.members_tree
        assert tree.item(nick_key("netcat"), "text").endswith("· unencrypted")
        assert "plaintext" in tree.item(nick_key("netcat"), "tags")
        assert "unencrypted" not in tree.item(nick_key("hal"), "text")
        raw.sendall(b"hello from a terminal\n")
        make_app.wait(lambda: "hello from a terminal" in room_text(app))


def test_the_setting_is_off_by_default_and_then_plain_text_is_refused(make_app):
    app = make_app(nickname="ivy")
    assert not app.settings.allow_plaintext
    dialog = app.open_settings()
    assert "nc or telnet" in dialog.plaintext_hint.cget("text")
    assert "marked “unencrypted”" in dialog.plaintext_hint.cget("text")
    dialog.plaintext_button.invoke()
    dialog.ok_button.invoke()
    assert app.settings.allow_plaintext
    assert '"allow_plaintext": true' in app.store.path.read_text(encoding="utf-8")
    dialog = app.open_settings()
    dialog.plaintext_button.invoke()
    dialog.ok_button.invoke()
    port = free_port()
    host_from_window(app, "ivy", "Encrypted only", port)
    make_app.wait(lambda: connected(app))
    assert not app.chat_view.sidebar.invite.plaintext_label.winfo_manager()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"netcat\n")
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk
    assert answer  # told why, then closed
    assert app.controller.status().state is ClientState.CONNECTED
    assert "netcat" not in room_text(app)
