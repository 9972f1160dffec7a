"""The chat view holds at 640 x 480 and 640 x 460 (issue 15, defect 15).

The member list kept its width there and squeezed the conversation to ~180 pixels, and the
"copied" confirmation under the invites was cut off at the bottom. Driven in the real
window, hosting (the widest side panel, with "Invite others") and as a member: the
conversation keeps a usable width, the input and Send stay whole, the member list is one
click away and shows whole, and a Copy button's confirmation is on screen.
"""

from __future__ import annotations

import pytest

from gui.model.values import ROOM
from gui.side_panel import MIN_CONVERSATION, side_by_side
from tests.gui.conftest import free_port
from tests.gui.driving import connected, double_click, host_from_window, join_from_window


def test_the_panel_goes_beside_the_chat_only_where_the_chat_keeps_its_width():
    assert side_by_side(1000, 406)  # hosting, in the default window
    assert not side_by_side(640, 406)
    assert not side_by_side(640, 258)  # a member's panel, at 640
    assert side_by_side(760, 258)
    assert not side_by_side(760, 406)
    assert side_by_side(MIN_CONVERSATION + 300, 300) and not side_by_side(MIN_CONVERSATION + 299, 300)


@pytest.fixture
def restore_geometry(tk_root):
    geometry, minimum = tk_root.geometry(), tk_root.minsize()
    yield
    tk_root.minsize(*minimum)
    tk_root.geometry(geometry)


def inside(widget, outer) -> bool:
    """`widget` is mapped and wholly within `outer` on screen."""
    x, y = widget.winfo_rootx(), widget.winfo_rooty()
    ox, oy = outer.winfo_rootx(), outer.winfo_rooty()
    return (
        bool(widget.winfo_ismapped())
        and ox <= x
        and oy <= y
        and x + widget.winfo_width() <= ox + outer.winfo_width()
        and y + widget.winfo_height() <= oy + outer.winfo_height()
    )


def in_chat(make_app, headless_host, headless_client, hosting: bool):
    if hosting:
        app = make_app(nickname="alice")
        port = free_port()
        host_from_window(app, "alice", "A room with a rather long name", port)
    else:
        port = headless_host(room="A room with a rather long name").port
        app = make_app(nickname="alice")
        join_from_window(app, "alice", f"127.0.0.1:{port}")
    make_app.wait(lambda: connected(app))
    headless_client(port, "bob")
    make_app.wait(lambda: len(app.controller.members()) == 2)
    return app


@pytest.mark.usefixtures("restore_geometry")
@pytest.mark.parametrize("size", ["640x480", "640x460"])
@pytest.mark.parametrize("hosting", [True, False], ids=["hosting", "member"])
def test_the_chat_view_holds_in_a_small_window(make_app, headless_host, headless_client, size, hosting):
    app = in_chat(make_app, headless_host, headless_client, hosting)
    root, view = app.root, app.chat_view
    assert root.minsize() == (640, 480)  # the window goes down to 640 x 480
    if size == "640x460":  # below the minimum: as a window manager that ignores it makes it
        root.minsize(640, 460)  # (a maximised window on a 640 x 480 screen with a taskbar)
    root.geometry(size)
    make_app.wait(lambda: root.winfo_width() == 640 and root.winfo_height() == int(size[4:]))
    make_app.pump()

    pane = view.panes[ROOM]
    assert pane.text.winfo_width() >= MIN_CONVERSATION, "the conversation keeps a usable width"
    for widget in (pane.text, view.input, view.emoji_button, view.send_button, view.header.leave_button):
        assert inside(widget, root), widget
    code = app.controller.status().code
    subtitle = view.header.subtitle_label
    assert code in subtitle.cget("text") and subtitle.winfo_reqwidth() <= subtitle.winfo_width()

    # The member list is a click away, in the conversation's place, and shows whole.
    assert not view.sidebar.winfo_ismapped()
    view.header.members_button.invoke()
    make_app.pump()
    assert not pane.winfo_ismapped() and view.header.members_button.cget("text") == "Back to the chat"
    tree = view.sidebar.members_tree
    assert inside(tree, root) and tree.winfo_width() >= 200
    assert len(tree.get_children()) == 2 and tree.bbox(tree.get_children()[-1])  # bob's row on screen

    if hosting:  # scroll to the invites as a user would, copy one: the confirmation shows
        invite, column = view.sidebar.invite, view.sidebar.column
        button = invite.copy_buttons[0]
        for _ in range(20):
            if column.visible(button):
                break
            column.body.event_generate("<Button-5>")  # the mouse wheel, down
            make_app.pump()
        button.invoke()
        make_app.pump()
        assert button.cget("text") == "✓ Copied"
        assert column.visible(button) and inside(button, root)
        assert root.clipboard_get() == invite.invitation.links[0]

    # Choosing someone to talk to brings the conversations back, with the private one.
    item = tree.get_children()[-1]
    x, y, _width, height = tree.bbox(item)
    double_click(tree, x + 5, y + height // 2)
    make_app.pump()
    assert view.current_key() == "bob" and view.panes["bob"].winfo_ismapped()
    assert view.header.members_button.cget("text") == "Members"

    # In a wide window again, the member list is beside the conversation.
    root.geometry("1000x680")
    make_app.wait(lambda: view.sidebar.winfo_ismapped() and not view.header.members_button.winfo_ismapped())
    assert view.sidebar.winfo_width() >= view.sidebar.winfo_reqwidth() - 1
