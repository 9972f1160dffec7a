"""The id a host gives a relayed message: derived from its sender, not counted.

`message.id` is a hash of the sender's `client_id` and its own `say.id` (docs/PROTOCOL.md,
"Ids and timestamps"). Derived, so that it survives a host restart: a message relayed by
the old host whose ack was lost is resent to the new host, which relays it again under the
same id, and receivers drop the repeat. And derived by a rule the sender knows, so that a
client can tell its own messages in a welcome's history: one whose ack was lost with the
link is acknowledged by its appearance there. The sender's client id stays private (it is
hashed). The room and the client both call these functions, so the rule is written once.
"""

from __future__ import annotations

import binascii
import hashlib

#: Standard base64 to its URL-safe alphabet (ids may end up in file names and URLs).
_URL_SAFE = bytes.maketrans(b"+/", b"-_")
#: 72 bits: 12 base64 characters with no padding (hex would be 18); every receiver gets the
#: id of every message, so its length is paid once per delivery.
DIGEST_SIZE = 9
PERSON = b"lanchat-msg"


def sender_hash(client_id: str) -> hashlib.blake2b:
    """The hash with `client_id`'s part absorbed: a host keeps one per member and copies it
    for each message (`message_id`), so the client id is hashed once, not per message."""
    return hashlib.blake2b(f"{client_id}\0".encode(), digest_size=DIGEST_SIZE, person=PERSON)


def message_id(sender: hashlib.blake2b, local_id: str) -> str:
    """The id of the message its sender (`sender_hash`) sent as `local_id` (its `say.id`)."""
    digest = sender.copy()
    digest.update(local_id.encode())
    return binascii.b2a_base64(digest.digest(), newline=False).translate(_URL_SAFE).decode("ascii")


def derive_message_id(client_id: str, local_id: str) -> str:
    """The id a host relays `client_id`'s message `local_id` under."""
    return message_id(sender_hash(client_id), local_id)
