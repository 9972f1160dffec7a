"""What a UDP host sends each peer in a round, handed to the peer's channel in one call.

Frames are queued on `UdpPeer.pending` in order during the round. Consecutive broadcasts
to the same receivers form one `Run`, the same object on every receiver's list, cut into
bundles once for all of them (`net.udp.bundles`): no work per member and message. An
encrypted peer's frames instead become its own TLS records, one channel message per round
(every receiver's bytes differ, so nothing is shared).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from net.udp.bundles import Batch, batch_messages

if TYPE_CHECKING:
    from net.udp.peer import UdpPeer


class Run:
    """Consecutive broadcasts with the same receivers, queued on each of them as one item.

    The frames are joined once, at the end of the round, and the same `Batch` goes on every
    receiver's channel: no work per member and message, only per member and datagram.
    """

    __slots__ = ("_chunks", "exclude", "frames")

    def __init__(self, exclude: object, frames: list[bytes]) -> None:
        self.exclude = exclude
        self.frames = frames
        self._chunks: list[bytes | Batch] | None = None

    def chunks(self) -> list[bytes | Batch]:
        if self._chunks is None:
            self._chunks = batch_messages(self.frames, single=True)
        return self._chunks


def hand_over(peer: UdpPeer) -> None:
    """Give `peer`'s channel what was queued for it this round (raises TlsError when its TLS
    session cannot encrypt: the caller closes that peer)."""
    pending, peer.pending = peer.pending, []
    tls = peer.tls
    if tls is None:
        if pending:
            chunks: list[bytes | Batch] = []
            for item in pending:
                if isinstance(item, Run):
                    chunks.extend(item.chunks())  # cut once for all its receivers
                else:
                    chunks.append(item)
            peer.channel.send_many(chunks)
        return
    frames: list[bytes] = []
    for item in pending:
        if isinstance(item, Run):
            frames.extend(item.frames)
        else:
            frames.append(item)
    if frames:
        frames.append(b"")
    records = tls.seal((b"\n".join(frames),))  # this round's records, and handshake messages
    if records:
        peer.channel.send_stream(records)
