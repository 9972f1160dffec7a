"""What the user typed in the input box: a message, or a slash command (pure parsing).

``/me waves`` sends an action, ``/msg bob hi`` a private message, ``/nick name`` renames,
``/clear`` empties the conversation, ``/help`` lists the commands, ``/quit`` leaves. A line
starting with ``//`` sends the rest literally (``//help`` sends ``/help``). ``/send PATH``
is in `COMMANDS` for ``/help`` only: `gui.files.input` takes it before this parser sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gui.i18n import N_, tr


@dataclass(frozen=True, slots=True)
class SendText:
    text: str
    action: bool = False


@dataclass(frozen=True, slots=True)
class PrivateMessage:
    nick: str
    text: str


@dataclass(frozen=True, slots=True)
class Rename:
    nick: str


@dataclass(frozen=True, slots=True)
class Clear:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Quit:
    pass


@dataclass(frozen=True, slots=True)
class Usage:
    """A known command used without what it needs; show its usage line."""

    name: str


@dataclass(frozen=True, slots=True)
class Unknown:
    name: str


@dataclass(frozen=True, slots=True)
class Nothing:
    """Only blank space was typed."""


Parsed = SendText | PrivateMessage | Rename | Clear | Help | Quit | Usage | Unknown | Nothing

#: Each command with the placeholder of its argument and what it does (translated when shown).
COMMANDS: dict[str, tuple[str, str]] = {
    "me": (N_("ACTION"), N_("describe what you do, e.g. /me waves")),
    "msg": (N_("NICK TEXT"), N_("send a private message (opens a tab)")),
    "nick": (N_("NAME"), N_("change your nickname")),
    "send": (N_("[PATH]"), N_("offer a file or folder in this conversation (alone: choose them)")),
    "clear": ("", N_("empty this conversation")),
    "help": ("", N_("list the commands")),
    "quit": ("", N_("leave the chat and close LanChat")),
}


def usage(name: str) -> str:
    """``/msg NICK TEXT``: the command with its (translated) argument placeholder."""
    argument = COMMANDS[name][0]
    return f"/{name} {tr(argument)}" if argument else f"/{name}"


def parse_input(text: str) -> Parsed:
    """Interpret one submitted input (it may span several lines)."""
    if not text.strip():
        return Nothing()
    if text.startswith("//"):
        return SendText(text[1:])
    if not text.startswith("/"):
        return SendText(text)
    head, _, rest = text[1:].partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = more + (" " + rest if rest else "")
    name = head.lower()
    rest = rest.strip()
    match name:
        case "me":
            return SendText(rest, action=True) if rest else Usage("me")
        case "msg" | "query" | "m":
            nick, _, message = rest.partition(" ")
            if not nick:
                return Usage("msg")
            return PrivateMessage(nick, message.strip())
        case "nick":
            return Rename(rest) if rest else Usage("nick")
        case "clear":
            return Clear()
        case "help" | "?":
            return Help()
        case "quit" | "exit":
            return Quit()
    return Unknown(head)
