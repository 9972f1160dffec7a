"""What the UDP host knows about one connection: its channel besides the shared peer state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from net.addresses import SockAddr
from net.host.peer import HostPeer, Security
from net.secure.tls import looks_like_tls
from net.udp.channel import Channel

if TYPE_CHECKING:
    from net.udp.rounds import Run


class UdpPeer(HostPeer):
    """One client connection (one connection id from one address). Only the host loop uses it.

    Its address is validated (`address_verified` stays True): the host creates a connection
    only for an OPEN that echoed the token it sent to that address (`net.udp.retry`).
    """

    def __init__(self, address: SockAddr, channel: Channel, now: float, security: Security) -> None:
        super().__init__(address, now, security)
        self.channel = channel
        #: Frames for the channel queued this round, handed over in one call when the round's
        #: datagrams are sent (a run of broadcasts is one shared item on every receiver's
        #: list; order is kept).
        self.pending: list[bytes | Run] = []

    def take_input(self) -> bytes:
        """What the channel completed, for `decode`: the frames, each with its newline, or
        for a TLS peer (and before its first message is seen) the pieces of its byte stream."""
        channel = self.channel
        if self.tls is None and self.conn is not None:
            return channel.take_stream()  # plain frames, the usual case without TLS
        messages = channel.take_messages()
        if self.tls is not None or (messages and looks_like_tls(messages[0])):
            return b"".join(messages)
        return b"".join(message + b"\n" for message in messages)  # the first frames of a plain peer

    @property
    def conn_id(self) -> int:
        return self.channel.conn_id

    @property
    def link_failed(self) -> bool:
        return self.channel.failed

    def __repr__(self) -> str:
        return f"<UdpPeer {self.where} {self.conn_id:016x}>"
