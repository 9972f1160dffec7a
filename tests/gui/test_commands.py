"""Parsing what the user typed: messages and slash commands."""

from __future__ import annotations

import pytest

from gui import commands as cmd


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("hello", cmd.SendText("hello")),
        ("  ", cmd.Nothing()),
        ("/me waves", cmd.SendText("waves", action=True)),
        ("/ME waves", cmd.SendText("waves", action=True)),
        ("/me", cmd.Usage("me")),
        ("/msg bob hi there", cmd.PrivateMessage("bob", "hi there")),
        ("/msg bob", cmd.PrivateMessage("bob", "")),
        ("/msg", cmd.Usage("msg")),
        ("/nick 小王", cmd.Rename("小王")),
        ("/nick", cmd.Usage("nick")),
        ("/clear", cmd.Clear()),
        ("/help", cmd.Help()),
        ("/quit", cmd.Quit()),
        ("/frob x", cmd.Unknown("frob")),
        ("//help", cmd.SendText("/help")),
        ("line one\nline two", cmd.SendText("line one\nline two")),
        ("/me jumps\nand lands", cmd.SendText("jumps\nand lands", action=True)),
    ],
)
def test_parse(typed, parsed):
    assert cmd.parse_input(typed) == parsed


def test_usage_lines():
    assert cmd.usage("msg") == "/msg NICK TEXT"
    assert cmd.usage("clear") == "/clear"


def test_help_lists_send_with_its_usage():
    from gui.chat_wording import help_lines

    lines = help_lines()
    assert any(line.startswith("/send [PATH] — offer a file or folder") for line in lines)
    assert cmd.usage("send") == "/send [PATH]"
