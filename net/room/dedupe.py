"""Remembering which client message ids were already taken, so a resend is not shown twice."""

from __future__ import annotations

from collections import OrderedDict

from net.protocol.events import Ack

#: What is kept of a relayed message: (its message id, its time), enough to ack it again.
Relayed = tuple[str, float]


class SeenMessages:
    """Bounded memory of the acks given per client id (least recently used clients go first).

    Kept per client id rather than per connection: a client that reconnects after a drop
    resends its unacked messages, and the host must recognise the ones it already relayed.
    An ack is kept as a (message id, time) pair and rebuilt when needed: a busy host
    remembers one per message, and a tuple costs a tenth of an event to make.
    """

    def __init__(self, *, per_client: int = 1024, max_clients: int = 4096) -> None:
        self.per_client = per_client
        self._max_clients = max_clients
        self._clients: OrderedDict[str, OrderedDict[str, Relayed]] = OrderedDict()

    def get(self, client_id: str, message_id: str) -> Ack | None:
        seen = self._clients.get(client_id)
        relayed = None if seen is None else seen.get(message_id)
        return None if relayed is None else Ack(id=message_id, msg_id=relayed[0], time=relayed[1])

    def remember(self, client_id: str, ack: Ack) -> None:
        seen = self.relayed_by(client_id)
        seen[ack.id] = (ack.msg_id, ack.time)
        if len(seen) > self.per_client:
            seen.popitem(last=False)

    def relayed_by(self, client_id: str) -> OrderedDict[str, Relayed]:
        """What `client_id` had relayed, by its own message ids, oldest first; made the most
        recently used client. For a caller remembering a run of messages itself: it adds
        `(message id, time)` pairs and drops the oldest beyond `per_client`, as `remember` does."""
        seen = self._clients.get(client_id)
        if seen is None:
            seen = self._clients[client_id] = OrderedDict()
            if len(self._clients) > self._max_clients:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(client_id)
        return seen

    def __len__(self) -> int:
        return sum(len(seen) for seen in self._clients.values())
