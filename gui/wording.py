"""Sentences for what the network layer reports: failures, connection states, refusals.

The net layer reports *kinds* (`FailureKind`, `ClientState`, an error code, an exception
class); the words live here so they can be translated. Every failure gets a sentence that
says what happened and what to try.
"""

from __future__ import annotations

import errno

from gui.i18n import N_, tr
from gui.trust import KeyWarning
from net.addresses import format_address
from net.api import ClientState, FailureKind
from net.client.errors import MessageEmpty, MessageTooLong, SendRefused
from net.host.returning import RoomElsewhere

#: The host's refusal `session_in_use` reaches the client as a PROTOCOL failure with this
#: text (net/room/room.py): another connection of ours still holds the session.
_SESSION_IN_USE = "another connection holds this session"

_FAILURES: dict[FailureKind, str] = {
    FailureKind.REFUSED: N_(
        "Nobody is hosting a chat at {address}: the connection was refused. "
        "Check the address and port, and that the host has started the chat."
    ),
    FailureKind.TIMEOUT: N_(
        "{address} did not answer in time. Check the address, and that no firewall blocks the port."
    ),
    FailureKind.UNREACHABLE: N_(
        "{address} cannot be reached from this PC. Check that both PCs are on the same network."
    ),
    FailureKind.RESOLVE: N_(
        "The host name in {address} could not be found on the network. Try the host's IP address instead."
    ),
    FailureKind.VERSION: N_(
        "The host runs a different version of LanChat. Please use the same version on every PC."
    ),
    FailureKind.NICK_TAKEN: N_("Someone in this chat already uses that nickname. Please choose another one."),
    FailureKind.NICK_INVALID: N_("The host did not accept that nickname. Please choose another one."),
    FailureKind.ROOM_FULL: N_("The chat is full: it has as many members as the host allows."),
    FailureKind.PASSWORD: N_("The chat needs a password: none was given, or it was wrong."),
    FailureKind.PROTOCOL: N_(
        "The host sent something LanChat does not understand; it may be another program or version."
    ),
    FailureKind.ENCRYPTION: N_(
        "The connection to {address} could not be encrypted. The host may run an older LanChat "
        "(please use the same version on every PC), or it is not a LanChat chat."
    ),
    FailureKind.KEY_CHANGED: N_(
        "The chat at {address} shows another room code than when you joined it before. "
        "Someone may be posing as the host, so nothing was sent."
    ),
    FailureKind.KEY_MISMATCH: N_(
        "The chat at {address} does not have the room code the invite names. "
        "Someone may be posing as the host, so nothing was sent."
    ),
    FailureKind.HOST_LEFT: N_("The host closed the chat."),
    FailureKind.HANDED_OVER: N_("The host left and handed the chat over: following it."),
    FailureKind.KICKED: N_("The host disconnected you (for example for sending too much too fast)."),
    FailureKind.TIMED_OUT_BY_HOST: N_(
        "The host heard nothing from this PC for too long and dropped the connection (timed out)."
    ),
    FailureKind.LOST: N_("The connection to the host was lost."),
    FailureKind.CLOSED: N_("You left the chat."),
}


def failure_sentence(failure: FailureKind | None, address: str = "", reason: str = "") -> str:
    """The sentence for a failure; `reason` (English, from the net layer) only when no kind is known."""
    if failure is None:
        return reason or tr("The connection ended.")
    if failure is FailureKind.PROTOCOL and _SESSION_IN_USE in reason:
        return tr(
            "The host still holds your previous connection to this chat. Wait a few seconds and try again."
        )
    return tr(_FAILURES[failure]).format(address=address or tr("the host"))


def state_text(state: ClientState, address: str = "", retry_in: float | None = None) -> str:
    """Short status-bar wording of a connection state (the reason is shown separately)."""
    match state:
        case ClientState.CONNECTING:
            return tr("Connecting to {address}…").format(address=address)
        case ClientState.CONNECTED:
            return tr("Connected")
        case ClientState.RECONNECTING if retry_in is not None and retry_in >= 0.5:
            return tr("Reconnecting in {seconds} s…").format(seconds=round(retry_in))
        case ClientState.RECONNECTING:
            return tr("Reconnecting…")
    return tr("Disconnected")


def _errno_of(exc: BaseException) -> int | None:
    cause = exc.__cause__ or exc.__context__
    return getattr(cause, "errno", None)


def port_in_use(exc: BaseException) -> bool:
    """Whether a host failed to start because its port is taken."""
    return _errno_of(exc) in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1))


def host_error_sentence(exc: BaseException, port: int) -> str:
    """A sentence for a host that would not start (`HostStartError`), in the user's language."""
    code = _errno_of(exc)
    if isinstance(exc, RoomElsewhere):  # one room: this PC would open a second, empty one
        where = exc.where
        return tr(
            "“{room}” moved on while you were away: {nick} hosts it now at {address} ({transport}). "
            "Join it there."
        ).format(
            room=exc.room,
            nick=where.nick,
            address=format_address(where.address, where.port),
            transport=where.transport.upper(),
        )
    if port_in_use(exc):
        return tr(
            "Port {port} is already in use on this PC. Choose another port, or close the other chat."
        ).format(port=port)
    if code in (errno.EACCES, getattr(errno, "WSAEACCES", -1)):
        return tr("This PC does not allow LanChat to use port {port}. Choose a port above 1024.").format(
            port=port
        )
    return not_started_sentence(exc)


def not_started_sentence(exc: BaseException) -> str:
    """A host that would not start for a reason of its own (`HostStartError`), or this PC's
    key and certificate that exist but cannot be used (`IdentityError`)."""
    return tr("The chat could not be started: {reason}").format(reason=str(exc) or type(exc).__name__)


def host_refusal_sentence(code: str, text: str) -> str:
    """A request the host refused (an `Error` event), worded for the user."""
    match code:
        case "nick_taken":
            return tr("Someone in this chat already uses that nickname.")
        case "nick_invalid":
            return tr("The host did not accept that nickname.")
        case "rate_limited":
            return tr("You are sending messages too fast; wait a moment.")
        case "no_such_member":
            return tr("That person is not in the chat.")
    return tr("The host refused a request: {text}").format(text=text)


def send_refused_sentence(refusal: SendRefused) -> str:
    """Why a message typed by the user was not queued (nothing was sent)."""
    match refusal:
        case MessageEmpty():
            return tr("There is nothing to send: this message holds only invisible characters.")
        case MessageTooLong(limit=limit):
            return tr("This message is too long: at most {count} characters can be sent at once.").format(
                count=f"{limit:,}"
            )
    return tr("This message cannot be sent: too many are still waiting to go out.")


def not_connected_sentence() -> str:
    return tr("You are not connected, so nothing can be sent.")


def not_delivered_note(absent: str | None, connected: bool) -> str:
    """The note beside an own message that failed: `absent` is the private addressee who left."""
    if absent is not None:
        return tr("not delivered: {nick} is not in the chat").format(nick=absent)
    if not connected:
        return tr("not delivered: not connected")
    return tr("not delivered")


def key_warning_title(warning: KeyWarning) -> str:
    if warning.invited:
        return tr("This is not the chat the invite names")
    return tr("The chat’s room code has changed")


def key_warning_text(warning: KeyWarning) -> str:
    """The warning dialog's message: what differs, what it may mean, what was (not) done."""
    if warning.invited:
        what = tr("The invite says the chat at {address} has the room code {expected}, but it shows {shown}.")
    else:
        what = tr(
            "When you joined the chat at {address} before, its room code was {expected}; "
            "now it shows {shown}."
        )
    return "\n\n".join(
        (
            what.format(address=warning.address, expected=warning.expected, shown=warning.shown),
            tr("Someone on the network may be posing as the host. Nothing was sent to it."),
            tr(
                "If the host really has a new key (LanChat was reinstalled, or another PC hosts now), "
                "ask the host which code their “Invite others” panel shows before you connect anyway."
            ),
        )
    )
