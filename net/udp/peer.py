"""What the UDP host knows about one connection: address, channel, protocol state."""

from __future__ import annotations

from net.protocol import Connection, Role
from net.udp.channel import Channel


class UdpPeer:
    """One client connection (one connection id from one address). Only the host loop uses it.

    The peer object itself is the `Room`'s peer id, as in the TCP host.
    """

    __slots__ = ("address", "channel", "close_deadline", "closing", "conn", "errors", "opened", "pending",
                 "where")  # fmt: skip

    def __init__(self, address: tuple, where: str, channel: Channel, now: float) -> None:
        self.address = address
        self.where = where
        self.channel = channel
        self.conn = Connection(Role.HOST)
        self.opened = now
        self.closing = False
        self.close_deadline = 0.0
        self.errors = 0
        #: Frames for the channel queued this round, handed over in one call when the round's
        #: datagrams are sent (a run of broadcasts is one shared item on every receiver's
        #: list; order is kept).
        self.pending: list = []

    @property
    def conn_id(self) -> int:
        return self.channel.conn_id

    def __repr__(self) -> str:
        return f"<UdpPeer {self.where} {self.conn_id:016x}>"
