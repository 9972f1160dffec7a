"""Remembering which client message ids were already taken, so a resend is not shown twice."""

from __future__ import annotations

from collections import OrderedDict

from net.protocol.events import Ack


class SeenMessages:
    """Bounded memory of the acks given per client id (least recently used clients go first).

    Kept per client id rather than per connection: a client that reconnects after a drop
    resends its unacked messages, and the host must recognise the ones it already relayed.
    """

    def __init__(self, *, per_client: int = 1024, max_clients: int = 4096) -> None:
        self.per_client = per_client
        self._max_clients = max_clients
        self._clients: OrderedDict[str, OrderedDict[str, Ack]] = OrderedDict()

    def get(self, client_id: str, message_id: str) -> Ack | None:
        seen = self._clients.get(client_id)
        return None if seen is None else seen.get(message_id)

    def remember(self, client_id: str, ack: Ack) -> None:
        seen = self.acks_of(client_id)
        seen[ack.id] = ack
        if len(seen) > self.per_client:
            seen.popitem(last=False)

    def acks_of(self, client_id: str) -> OrderedDict[str, Ack]:
        """The acks given to `client_id` by its message ids, oldest first, made the most
        recently used client. For a caller remembering a run of messages itself: it adds
        to this mapping and drops its oldest entry beyond `per_client`, as `remember` does."""
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
