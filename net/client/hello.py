"""The client's hello: who it is, and what it announces it can read.

Kept out of `net.client.session` (which only decides when to send it). What a hello
announces decides what the host sends this member: `mailbox` (kept private messages),
`handover` (successor lists, `net.client.follow`), `files` (file notices, `net.files`),
`look` (not a member: a host that came back asks where the room is);
an older host ignores the fields it does not know.
"""

from __future__ import annotations

from net.api import ClientConfig
from net.client.follow import hello_offer
from net.protocol import events as ev
from net.protocol.limits import PROTOCOL_VERSION


def make_hello(
    config: ClientConfig, nick: str, client_id: str, resume_secret: str, *, secret: bool
) -> ev.Hello:
    """The hello for `config`. `secret`: the link is encrypted, so the session's resume
    secret and the lasting mailbox secret may go in it (never in clear)."""
    resume, box = (resume_secret, config.mailbox or None) if secret else (None, None)
    handover, host_port, host_key, look = hello_offer(config)
    return ev.Hello(
        PROTOCOL_VERSION,
        nick,
        client_id,
        config.password,
        resume,
        box,
        handover=handover,
        host_port=host_port,
        host_key=host_key,
        files=config.files,
        look=look,
    )
