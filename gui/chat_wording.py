"""Sentences for what happens in a chat: people coming and going, the input's commands.

The model and the controller decide *what* to say; the words live here (as the network's
failures live in `gui.wording`) so that they are translated in one place and the deciding
code stays readable.
"""

from __future__ import annotations

from gui import commands as cmd
from gui.i18n import tr
from net.protocol.events import LeaveCause

# -- lines in the room ------------------------------------------------------------------------


def joined(nick: str, host: bool, plaintext: bool = False) -> str:
    if plaintext:  # told to everyone: what they write reaches this member unencrypted
        return tr("{nick} joined the chat (unencrypted).").format(nick=nick)
    if host:
        return tr("{nick} (the host) joined the chat.").format(nick=nick)
    return tr("{nick} joined the chat.").format(nick=nick)


def left(nick: str, cause: str | None = None) -> str:
    """What happened to someone who left, by the cause the host gave (`LeaveCause`): a
    goodbye, or none from an older host, is "left"."""
    match cause:
        case LeaveCause.LOST:
            return tr("{nick} lost the connection.").format(nick=nick)
        case LeaveCause.TIMED_OUT:
            return tr("{nick} timed out: nothing was heard from them for a while.").format(nick=nick)
        case LeaveCause.REMOVED:
            return tr("{nick} was removed from the chat by the host.").format(nick=nick)
    return tr("{nick} left the chat.").format(nick=nick)


def renamed(old: str, new: str) -> str:
    return tr("{old} is now known as {new}.").format(old=old, new=new)


def renamed_self(new: str) -> str:
    return tr("You are now known as {new}.").format(new=new)


def welcomed(room: str, nick: str) -> str:
    return tr("You joined “{room}” as {nick}.").format(room=room, nick=nick)


def first_meeting(code: str) -> str:
    """Shown in the room the first time this PC joins it (its key is remembered from now on)."""
    return tr(
        "This is the first time you join this chat from this PC. Its room code is {code}: "
        "the host sees the same code under “Invite others”."
    ).format(code=code)


def earlier_above() -> str:
    """Where this session starts, below the earlier conversation (replayed or kept here)."""
    return tr("— earlier conversation above —")


def reconnected(room: str) -> str:
    return tr("Reconnected to “{room}”.").format(room=room)


def new_host(nick: str, mine: bool = False) -> str:
    """The host handed the room over, or vanished and a successor took it (issue 18);
    `mine`: this window's member took it (`gui.takeover`)."""
    if mine:
        return tr("You host the chat now, on this PC.")
    return tr("{nick} hosts the chat now").format(nick=nick)


def moved(transport: str, address: str) -> str:
    """The host came back elsewhere (another transport, address or port) with the room's key."""
    return tr("The chat moved to {transport} at {address}; reconnecting there.").format(
        transport=transport, address=address
    )


def connection_lost() -> str:
    """When the connection drops and the net layer gave no kind of failure."""
    return tr("The connection to the host was lost.")


def disconnected() -> str:
    return tr("Disconnected.")


def host_stopped(reason: str) -> str:
    return tr("The chat hosted on this PC stopped ({reason}).").format(reason=reason)


def skipped(count: int) -> str:
    return tr("{count} messages were skipped because the window fell behind.").format(count=count)


# -- starting a chat --------------------------------------------------------------------------


def address_problem(address: str) -> str:
    """Why `address` (which did not parse) cannot be joined."""
    if not address.strip():
        return tr("Please enter the address of the PC that hosts the chat.")
    return tr(
        "“{address}” is not an address. Type a name or IP address, "
        "optionally followed by :port (for example 192.168.1.20:47800)."
    ).format(address=address.strip())


def port_is_free(port: int) -> str:
    """Offered after the chosen port was taken."""
    return tr("Port {port} is free: press “Host a chat” again to use it.").format(port=port)


def port_moved(port: int, new: int) -> str:
    """The default port was taken by another chat on this PC, so the host moved on."""
    return tr("Port {port} is used by another chat on this PC, so this chat uses port {new}.").format(
        port=port, new=new
    )


# -- commands ---------------------------------------------------------------------------------


def help_lines() -> list[str]:
    """What /help shows: every command with what it does."""
    lines = [tr("Commands:")]
    lines += [f"{cmd.usage(name)} — {tr(description)}" for name, (_arg, description) in cmd.COMMANDS.items()]
    lines.append(tr("Start a line with // to send it as it is (//help sends /help)."))
    return lines


def nobody_called(nick: str) -> str:
    """`/msg` named someone who is not in the chat."""
    return tr("Nobody called “{nick}” is in the chat.").format(nick=nick)


def usage(name: str) -> str:
    return tr("Usage: {usage}").format(usage=cmd.usage(name))


def unknown_command(name: str) -> str:
    return tr("There is no command /{name}. Type /help to see the commands.").format(name=name)
