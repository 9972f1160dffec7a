"""What a client makes of the host's welcome, besides who and where it now is: the pace
to keep under the announced rate limit, and which history messages are news to it.

Pure: the session calls these when a welcome arrives, after every (re)connect.
"""

from __future__ import annotations

from net.client.seen import SeenIds
from net.protocol import events as ev
from net.protocol.message_ids import message_id, sender_hash
from net.room.ratelimit import TokenBucket


def pacing_for(welcome: ev.Welcome, now: float) -> TokenBucket | None:
    """The bucket our messages wait for, None when the room has no rate limit.

    A little under the host's limit, so that our own messages are never refused.
    """
    if not welcome.rate:
        return None
    return TokenBucket(welcome.rate * 0.9, max(1, (welcome.burst or 1) - 2), now)


def read_history(
    history: tuple[ev.ChatMessage, ...], client_id: str, pending: list[str], seen: SeenIds
) -> tuple[tuple[ev.ChatMessage, ...], list[ev.Ack]]:
    """The messages of a welcome's history to show, and the acks it holds for us.

    A message whose id is the one the host derives (`net.protocol.message_ids`) from our
    client id and the local id of a message still `pending` is that message: the host took
    it and its ack was lost with the link. It comes back as that ack, with the message's id
    and time, so the pending message is delivered instead of being shown a second time as
    a new one (and is not sent again). Of the others, those already shown (`seen`) are
    dropped and the rest are remembered as shown.
    """
    ours: dict[str, str] = {}
    if history and pending:
        sender = sender_hash(client_id)
        ours = {message_id(sender, local_id): local_id for local_id in pending}
    fresh: list[ev.ChatMessage] = []
    acks: list[ev.Ack] = []
    for message in history:
        local_id = ours.get(message.id)
        if local_id is not None:
            acks.append(ev.build_ack(local_id, message.id, message.time))
        elif seen.add(message.id):
            fresh.append(message)
    return tuple(fresh), acks
