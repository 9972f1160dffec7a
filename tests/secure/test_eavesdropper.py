"""An eavesdropper between member and host records every byte of a chat, over TCP and UDP,
and finds none of the texts, the private message's nicknames or the room password."""

from __future__ import annotations

import logging

import pytest

from net.api import ClientConfig, ClientState, HostConfig
from net.protocol import events as ev
from net.room import RoomConfig
from net.transports import make_client, make_host
from tests.helpers import wait_until
from tests.identity import session_identity
from tests.secure.relays import TcpTap
from tests.udp.relay import LossyRelay

PASSWORD = "门口的密码-door-42"
SECRETS = ["你好，今天下午三点开会", "the launch code is 0000", "只给你一个人看的悄悄话"]
PRIVATE_NICKS = ["小红帽", "wolfgang"]


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_a_recorded_chat_reveals_no_text_nick_of_a_private_message_or_password(
    transport: str, caplog
) -> None:
    caplog.set_level(logging.DEBUG)  # and the logs, even at debug level, hold no text or password
    room = RoomConfig(name="secret room", rate_per_second=0, password=PASSWORD)
    host = make_host(transport, HostConfig(port=0, bind="127.0.0.1", room=room, identity=session_identity()))
    host.start()
    tap = (
        TcpTap(("127.0.0.1", host.port))
        if transport == "tcp"
        else LossyRelay(("127.0.0.1", host.port), loss=0.0, duplicate=0.0, delay=0.0, jitter=0.0, record=True)
    )
    tap.start()
    events: dict[str, list[object]] = {nick: [] for nick in PRIVATE_NICKS}
    clients = [
        make_client(
            transport,
            ClientConfig(host="127.0.0.1", port=tap.port, nick=nick, password=PASSWORD, connect_timeout=5.0),
            events[nick].append,
        )
        for nick in PRIVATE_NICKS
    ]
    try:
        for client in clients:
            client.start()
            wait_until(lambda c=client: c.state is ClientState.CONNECTED, message="joined through the tap")
        red, wolf = clients
        red.send_message(SECRETS[0])
        red.send_message(SECRETS[1])
        wolf.send_message(SECRETS[2], to=PRIVATE_NICKS[0])
        wait_until(
            lambda: (
                [m.text for m in events[PRIVATE_NICKS[0]] if isinstance(m, ev.ChatMessage)] == [SECRETS[2]]
                and len([m for m in events[PRIVATE_NICKS[1]] if isinstance(m, ev.ChatMessage)]) == 2
            ),
            message="every message delivered",
        )
    finally:
        for client in clients:
            client.close()
        tap.stop()
        host.stop()
    logged = caplog.text
    for secret in [*SECRETS, PASSWORD]:
        assert secret not in logged
    recorded = bytes(tap.recorded)
    assert len(recorded) > 500, "the tap saw the chat"
    for secret in [*SECRETS, PASSWORD, *PRIVATE_NICKS, "secret room"]:
        for encoding in ("utf-8", "utf-16-le", "gbk"):
            assert secret.encode(encoding, "ignore") not in recorded, (secret, encoding)
        assert secret.encode("unicode_escape") not in recorded
