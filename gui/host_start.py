"""Hosting from the window: the host's configuration, and what to say when it cannot start. No Tk.

The window's host serves TLS with this PC's identity (a host without one would serve plain
text only), lets unencrypted members in only when the setting `network.allow_plaintext`
says so, and keeps a room password as a salted hash (`RoomConfig.password`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gui import chat_wording as words
from gui.settings import Settings
from gui.wording import host_error_sentence, port_in_use
from hosting import room_journal
from net.api import HostConfig, Transport
from net.backbone.config import BackboneConfig, parse_servers
from net.ports import next_free_port
from net.room import RoomConfig

if TYPE_CHECKING:
    from net.secure.identity import Identity


def host_config(
    settings: Settings, port: int, room: str, *, owner: str, identity: Identity, password: str
) -> HostConfig:
    """A host on `port` for the room `room`, its member `owner` (a client id) marked as host.

    The room keeps a journal (recent messages, messages for members who are away) unless
    the user keeps no history at all, or the room is on a backbone (its stream keeps it)."""
    return HostConfig(
        port=port,
        room=RoomConfig(name=room, owner_client_id=owner, password=password or None),
        identity=identity,
        allow_plaintext=settings.allow_plaintext,
        journal=room_journal(room, identity) if settings.keep_history and not settings.backbone else None,
        backbone=BackboneConfig(parse_servers(settings.backbone)) if settings.backbone else None,
    )


def host_failure(
    exc: BaseException, transport: Transport, port: int, port_given: bool
) -> tuple[str, int | None]:
    """The sentence for a host that would not start, and the free port to offer instead (a
    port the user chose was taken; a default port taken was skipped by the host itself)."""
    suggested = _next_free_port(transport, port + 1) if port_given else None
    sentence = host_error_sentence(exc, port)
    if suggested is not None and port_in_use(exc):
        sentence += " " + words.port_is_free(suggested)
    return sentence, suggested


def _next_free_port(transport: Transport, start: int) -> int | None:
    try:
        return next_free_port(transport, start)
    except OSError:
        return None
