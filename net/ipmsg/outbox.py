"""Our SENDMSGs waiting for their RECVMSG: resent on a timer, a bounded number of times.

IP Messenger resends an unacknowledged message about once a second, a few times, then tells
the user it failed; so do we (`RESEND_INTERVAL`, `MAX_ATTEMPTS`), with RETRYOPT on resends
as the protocol asks. A long message is several pieces (`net.ipmsg.encoding.split_text`),
each its own SENDMSG; the message counts as delivered when every piece is acknowledged and
as undelivered as soon as one piece ran out of attempts. The outbox is bounded
(`MAX_PENDING`): a send beyond it is refused with `OutboxFull`, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RESEND_INTERVAL = 1.0
MAX_ATTEMPTS = 5  # the first send and four resends
MAX_PENDING = 256


class OutboxFull(RuntimeError):
    """Too many messages are still waiting for acknowledgement; this one was not sent."""


@dataclass(slots=True)
class PendingPiece:
    """One SENDMSG datagram awaiting its RECVMSG."""

    message_id: str
    address: str
    packet_no: int
    first: bytes  # the datagram as first sent
    retry: bytes  # the same with RETRYOPT
    due: float
    attempts: int = 1


@dataclass(slots=True)
class _Message:
    address: str
    remaining: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A message finished: delivered (every piece acknowledged) or not."""

    message_id: str
    address: str
    delivered: bool


class Outbox:
    """Pending pieces by (address, packet number); pure, time is an argument."""

    def __init__(self, interval: float = RESEND_INTERVAL, attempts: int = MAX_ATTEMPTS) -> None:
        self.interval = interval
        self.attempts = attempts
        self._pieces: dict[tuple[str, int], PendingPiece] = {}
        self._messages: dict[str, _Message] = {}

    def __len__(self) -> int:
        return len(self._pieces)

    def room_for(self, pieces: int) -> bool:
        return len(self._pieces) + pieces <= MAX_PENDING

    def add(self, piece: PendingPiece) -> None:
        if len(self._pieces) >= MAX_PENDING:
            raise OutboxFull("too many messages are waiting for acknowledgement")
        self._pieces[(piece.address, piece.packet_no)] = piece
        self._messages.setdefault(piece.message_id, _Message(piece.address)).remaining.add(piece.packet_no)

    def sent_to(self, address: str, packet_no: int) -> bool:
        """Whether `packet_no` is one of ours still waiting at `address`."""
        return (address, packet_no) in self._pieces

    def acknowledge(self, address: str, packet_no: int) -> Outcome | None:
        """A RECVMSG from `address` for `packet_no`; the outcome when it completes a message.

        Only the address the piece was sent to can acknowledge it: a RECVMSG from elsewhere
        (forged, or another user's) changes nothing.
        """
        piece = self._pieces.pop((address, packet_no), None)
        if piece is None:
            return None
        message = self._messages.get(piece.message_id)
        if message is None:
            return None
        message.remaining.discard(packet_no)
        if message.remaining:
            return None
        del self._messages[piece.message_id]
        return Outcome(piece.message_id, address, delivered=True)

    def due(self, now: float) -> tuple[list[tuple[bytes, str]], list[Outcome]]:
        """Datagrams to resend now, and messages that failed (their pieces are dropped)."""
        resend: list[tuple[bytes, str]] = []
        failed: list[Outcome] = []
        for key, piece in list(self._pieces.items()):
            if piece.due > now:
                continue
            if piece.attempts >= self.attempts:
                del self._pieces[key]
                message = self._messages.pop(piece.message_id, None)
                if message is not None:
                    for other in message.remaining - {piece.packet_no}:
                        self._pieces.pop((message.address, other), None)
                    failed.append(Outcome(piece.message_id, piece.address, delivered=False))
                continue
            piece.attempts += 1
            piece.due = now + self.interval
            resend.append((piece.retry, piece.address))
        return resend, failed

    def next_due(self) -> float | None:
        return min((piece.due for piece in self._pieces.values()), default=None)

    def drop_address(self, address: str) -> list[Outcome]:
        """The user left: its pending messages fail now rather than after every resend."""
        outcomes: list[Outcome] = []
        for key in [key for key in self._pieces if key[0] == address]:
            piece = self._pieces.pop(key)
            if self._messages.pop(piece.message_id, None) is not None:
                outcomes.append(Outcome(piece.message_id, address, delivered=False))
        return outcomes
