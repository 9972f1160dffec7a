"""How the delivery of our own messages stands, and the mark shown after each one.

The rule (the client's outbox, `net.client.outbox`, keeps it; this words it):

- *sending*: from the moment the user sends a message until the host acknowledges it. That
  holds through any number of reconnects: the message stays in the outbox and goes again
  on every new link, and the host acks a repeat of a message it already relayed with the
  first ack instead of relaying it twice.
- *sent*: the host's ack arrived. The ack carries the time the host took the message, the
  time every other member sees beside it, so that time replaces the time it was typed
  (after an outage the two are minutes apart).
- *waiting*: a private message to a member who is away; the host keeps it for them
  (`held`) and it shows "waiting for bob" until they are back and have it (`delivered`),
  then "delivered to bob".
- *failed*: the host refused it (a private message to someone who has left, ...), or the
  session ended before an ack (the user left, or the client stopped for good: a refusal
  reconnecting cannot mend). Such a message is not sent again; its mark says why.

Marks are words or plain symbols, never colour alone, and only characters every default
font draws (no emoji: Tk draws those badly or not at all).
"""

from __future__ import annotations

import enum

from gui.i18n import tr

#: After a message the host acknowledged (U+2713 CHECK MARK: a text symbol, not an emoji).
SENT_MARK = "✓"


class Delivery(enum.Enum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


def waiting_mark(nick: str) -> str:
    """After a private message the host keeps for `nick`, who is away."""
    return tr("waiting for {nick}").format(nick=nick)


def delivered_mark(nick: str) -> str:
    """After a kept private message once `nick` came back and has it."""
    return SENT_MARK + " " + tr("delivered to {nick}").format(nick=nick)


def held_key(msg_id: str) -> str:
    """The id a held message is marked under until its delivery (`MarkDelivered.again`)."""
    return "held:" + msg_id


def delivery_mark(state: Delivery, reason: str = "") -> str:
    """The mark after an own message in `state`; `reason` says why a failed one failed."""
    if state is Delivery.SENDING:
        return tr("sending…")
    if state is Delivery.SENT:
        return SENT_MARK
    return "! " + reason if reason else "!"
