"""The list of IP Messenger users, keyed by the address their packets come from. Bounded.

A packet's user, host and nickname fields are labels anyone can write; the address the
socket reports is the only thing a sender cannot choose freely on a LAN. So a packet from
10.0.0.9 that names itself "PC-7" is a separate entry from the real PC-7 at 10.0.0.7, and
its BR_EXIT removes only 10.0.0.9.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from net.ipmsg.codec import ABSENCEOPT, EntryExtra, Packet
from net.ipmsg.encoding import decode_text, peer_encoding
from net.ipmsg.events import IpmsgUser

MAX_PEERS = 1000
MAX_LABEL_CHARS = 64
#: Packet numbers remembered per peer to drop resent duplicates.
MAX_SEEN_PER_PEER = 64


def _label(data: bytes, command: int, encoding: str) -> str:
    text = decode_text(data, command, encoding)
    cleaned = "".join(char for char in text if char.isprintable())
    return cleaned.strip()[:MAX_LABEL_CHARS]


@dataclass(slots=True)
class Peer:
    address: str
    user: IpmsgUser
    seen: OrderedDict[int, None]

    def first_time(self, packet_no: int) -> bool:
        """True the first time `packet_no` arrives from this peer (resends are duplicates)."""
        if packet_no in self.seen:
            return False
        self.seen[packet_no] = None
        while len(self.seen) > MAX_SEEN_PER_PEER:
            self.seen.popitem(last=False)
        return True


def user_from_entry(address: str, packet: Packet, entry: EntryExtra, legacy: str) -> IpmsgUser:
    """The listed user an entry packet describes (labels decoded, cleaned, bounded)."""
    encoding = peer_encoding(packet.command, entry, legacy)
    if entry.utf8_nick:  # IP Messenger's UTF-8 block is authoritative when present
        nick = _label(entry.utf8_nick, 0, "utf-8")
        group = _label(entry.utf8_group, 0, "utf-8")
    else:
        nick = _label(entry.nick, packet.command, encoding)
        group = _label(entry.group, packet.command, encoding)
    user = _label(packet.user, packet.command, encoding)
    host = _label(packet.host, packet.command, encoding)
    client = packet.version.decode("ascii", "replace")[:MAX_LABEL_CHARS]
    return IpmsgUser(
        address=address,
        nick=nick or user or address,
        group=group,
        host=host,
        user=user,
        client=client,
        encoding=encoding,
        absent=_absent(packet),
    )


def _absent(packet: Packet) -> bool:
    """ABSENCEOPT means "away"; iptux sets it on every entry packet, so from iptux it means nothing."""
    return packet.has(ABSENCEOPT) and b"iptux" not in packet.version


class PeerList:
    """At most `limit` peers; a new one beyond that is not listed (counted in `refused`)."""

    def __init__(self, limit: int = MAX_PEERS) -> None:
        self.limit = limit
        self._peers: dict[str, Peer] = {}
        self.refused = 0

    def __len__(self) -> int:
        return len(self._peers)

    def get(self, address: str) -> Peer | None:
        return self._peers.get(address)

    def upsert(self, user: IpmsgUser) -> bool:
        """List or update `user`; False when the list is full and it is new."""
        peer = self._peers.get(user.address)
        if peer is not None:
            peer.user = user
            return True
        if len(self._peers) >= self.limit:
            self.refused += 1
            return False
        self._peers[user.address] = Peer(user.address, user, OrderedDict())
        return True

    def remove(self, address: str) -> bool:
        return self._peers.pop(address, None) is not None

    def users(self) -> tuple[IpmsgUser, ...]:
        return tuple(sorted((peer.user for peer in self._peers.values()), key=lambda u: u.nick.casefold()))
