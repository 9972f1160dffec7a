"""`main.py host --ipmsg`: the window-less host also enters the IP Messenger network.

What it does there (docs/PROTOCOL.md, "IP Messenger bridge"): it appears as a user named
after the room (group "LanChat"), logs every IP Messenger / Feiq / iptux user who comes and
goes (nick, group, computer, address), acknowledges their messages as the protocol asks,
and answers the first message of each user once with where the room is and how to join it.
Message text is never logged (only who wrote and how long it was). The automatic answer
goes only to addresses that proved they receive what we send (they answered our entry or
acknowledged a packet of ours): a forged packet cannot make the host send to a bystander.
"""

from __future__ import annotations

import logging
import socket

from net.ipmsg.bridge import IpmsgBridge
from net.ipmsg.engine import Identity
from net.ipmsg.events import IpmsgMessage, IpmsgStatus, IpmsgUser, IpmsgUsers

log = logging.getLogger("lanchat.ipmsg")

#: Users answered automatically in one run (bounded; each is answered once).
MAX_ANSWERED = 1000


class HostBridgeLog:
    """Turns the bridge's events into log lines and the one-time answers."""

    def __init__(self, room: str, invite: str) -> None:
        self.room = room
        self.invite = invite
        self.bridge: IpmsgBridge | None = None
        self._known: dict[str, IpmsgUser] = {}
        self._answered: set[str] = set()

    def __call__(self, event: object) -> None:  # runs on the bridge's thread
        if isinstance(event, IpmsgUsers):
            self._users(event)
        elif isinstance(event, IpmsgMessage):
            log.info(
                "IP Messenger message from %s (%s): %d characters", event.nick, event.address, len(event.text)
            )
            if event.files:
                log.info(
                    "%s offered %d file(s); the host does not fetch files",
                    event.address,
                    len(event.attachments),
                )
            self._answer(event)
        elif isinstance(event, IpmsgStatus) and event.problem:
            log.warning("IP Messenger bridge: %s", event.problem)

    def _users(self, event: IpmsgUsers) -> None:
        now = {user.address: user for user in event.users}
        for address, user in now.items():
            if address not in self._known:
                log.info("IP Messenger user here: %s [group %s, computer %s, %s, %s]",
                         user.nick, user.group or "-", user.host or "-", address, user.client)  # fmt: skip
        for address, user in self._known.items():
            if address not in now:
                log.info("IP Messenger user left: %s (%s)", user.nick, address)
        self._known = now
        log.info("IP Messenger users: %d", len(now))

    def _answer(self, event: IpmsgMessage) -> None:
        bridge = self.bridge
        if bridge is None or event.address in self._answered or len(self._answered) >= MAX_ANSWERED:
            return
        if not event.verified:
            return
        self._answered.add(event.address)
        text = (
            f"This is the LanChat room “{self.room}”, not a person. Join it with LanChat: {self.invite}\n"
            f"这是 LanChat 聊天室“{self.room}”，不是个人用户。用 LanChat 加入：{self.invite}"
        )
        try:
            bridge.send_message(event.address, text)
        except ValueError as exc:
            log.debug("could not answer %s: %s", event.address, exc)


def start_host_bridge(room: str, invite: str, port: int, encoding: str) -> IpmsgBridge | None:
    """Start the bridge for a window-less host; None (logged) when it cannot."""
    handler = HostBridgeLog(room, invite)
    identity = Identity(nick=room, group="LanChat", user="lanchat", host=socket.gethostname())
    bridge = IpmsgBridge(identity, handler, port=port, legacy_encoding=encoding)
    handler.bridge = bridge
    try:
        bridge.start()
    except OSError as exc:
        log.warning("Not on IP Messenger: %s", exc)
        return None
    log.info("On IP Messenger / Feiq / iptux as “%s” (UDP port %d)", room, bridge.port)
    return bridge
