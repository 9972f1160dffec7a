"""The list of chats found on the LAN: appear, update, expire. Pure; time is an argument.

A chat is identified by its room key, transport and port (`ChatKey`), not by its name nor
by the address its datagrams came from. The key is the fingerprint of the host's
certificate: two rooms with one name are two chats, and one host is often heard at several
addresses (IPv4 and IPv6, two adapters, a broadcast and a probe answer), which must not list
the same chat twice. The entry keeps every address it was heard at, each with its own
expiry and with what was announced from there, and offers one to join. A chat is lost when
its host says goodbye from every address it was heard at, when none of its addresses was
heard for the announced ttl, or when another key is heard at the same address, transport
and port (another installation took the port: a port has one owner at a time).

Anyone can announce a copy of a room, key included (only the TLS handshake proves the key),
so a later address never displaces one already heard: the address to join is the one heard
first (among addresses heard together, within `HEARD_TOGETHER`, IPv4 before IPv6 and
link-local last), what the list shows is what was announced from that address, and a full
list of addresses takes no newcomers. A goodbye takes away only the address it came from.
A copy therefore adds at most an address behind the real ones and can take back only that,
and a room with a copied name under another key is listed as another room.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field

from net.api import Transport
from net.discovery.wire import MAX_REPLY_DELAY, Goodbye, RoomInfo

log = logging.getLogger(__name__)

MAX_CHATS = 256
MAX_ADDRESSES_PER_CHAT = 8
#: Addresses first heard within this many seconds of a chat's first address were heard
#: together: one announcement goes out over IPv4 and IPv6 at once, and answers to one round
#: of probes come back within the jitter an answerer may add (at most `MAX_REPLY_DELAY`).
HEARD_TOGETHER = MAX_REPLY_DELAY


@dataclass(frozen=True, slots=True)
class ChatKey:
    key: bytes  # the room's key: its host's certificate fingerprint
    transport: Transport
    port: int


def _address_class(address: str) -> int:
    """0 IPv4, 1 IPv4 link-local, 2 IPv6, 3 IPv6 link-local: the order to join in."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return 9
    if ip.version == 4:
        return 1 if ip.is_link_local else 0
    return 3 if ip.is_link_local else 2


def format_endpoint(address: str, port: int) -> str:
    """``192.168.1.5:47800`` or ``[fe80::1%eth0]:47800``."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


@dataclass(frozen=True, slots=True)
class FoundChat:
    """A chat in the list: its room info and where to join it (`address`, `info.port`)."""

    info: RoomInfo  # as announced from `address`
    address: str  # the address to join at: the first heard (see the module docstring)
    addresses: tuple[str, ...]  # every address it was heard at, in that order
    last_seen: float
    expires_at: float

    @property
    def key(self) -> ChatKey:
        return ChatKey(self.info.key, self.info.transport, self.info.port)

    @property
    def code(self) -> str:
        """The room's code as people read it aloud (``7F3A-91C2-4B8D-E01F-2A6C``)."""
        # Imported here: net.secure.identity loads `cryptography` (about 90 ms), which the
        # window does not need before it shows a found chat.
        from net.secure.codes import room_code

        return room_code(self.info.key)

    @property
    def port(self) -> int:
        return self.info.port

    @property
    def transport(self) -> Transport:
        return self.info.transport

    @property
    def endpoint(self) -> str:
        return format_endpoint(self.address, self.info.port)


@dataclass(frozen=True, slots=True)
class ChatFound:
    chat: FoundChat


@dataclass(frozen=True, slots=True)
class ChatUpdated:
    """Something shown changed: room info (member count, name, ...) or the address to join at."""

    chat: FoundChat


@dataclass(frozen=True, slots=True)
class ChatLost:
    chat: FoundChat
    reason: str  # "goodbye", "expired" or "replaced"


ChatEvent = ChatFound | ChatUpdated | ChatLost


@dataclass(slots=True)
class _Sighting:
    """The chat as heard from one address."""

    info: RoomInfo  # what was announced from there, last
    first: float  # when first heard there (kept while the address stays alive)
    last: float  # when last heard there

    @property
    def expires_at(self) -> float:
        return self.last + self.info.ttl


@dataclass(slots=True)
class _Entry:
    order: int  # when the chat was found, as a count: rooms of one name are listed in this order
    seen: dict[str, _Sighting] = field(default_factory=dict)  # address -> sighting

    def addresses(self) -> list[str]:
        """Every address, the one to join first: addresses heard with the first one, by class,
        then every later one in the order it was first heard (never by its text)."""
        earliest = min(sighting.first for sighting in self.seen.values())

        def rank(address: str) -> tuple[float, float, float]:
            first = self.seen[address].first
            if first - earliest <= HEARD_TOGETHER:
                return (0, _address_class(address), first)
            return (1, first, _address_class(address))

        return sorted(self.seen, key=rank)

    @property
    def info(self) -> RoomInfo:
        return self.seen[self.addresses()[0]].info

    def view(self) -> FoundChat:
        addresses = tuple(self.addresses())
        return FoundChat(
            self.seen[addresses[0]].info,
            addresses[0],
            addresses,
            max(sighting.last for sighting in self.seen.values()),
            max(sighting.expires_at for sighting in self.seen.values()),
        )


class ChatList:
    """Chats heard recently. Every method returns the events its change caused, in order."""

    def __init__(self, max_chats: int = MAX_CHATS) -> None:
        self._entries: dict[ChatKey, _Entry] = {}
        self._max_chats = max_chats
        self._found = 0  # chats found so far

    def __len__(self) -> int:
        return len(self._entries)

    def snapshot(self) -> list[FoundChat]:
        """Every chat, sorted by room name; rooms of one name in the order they were found."""
        entries = sorted(self._entries.values(), key=lambda e: (e.info.room.casefold(), e.info.room, e.order))
        return [entry.view() for entry in entries]

    def observe(self, info: RoomInfo, address: str, now: float) -> list[ChatEvent]:
        """An announcement or a probe answer from `address` arrived."""
        events: list[ChatEvent] = self._evict_previous_owner(info, address)
        key = ChatKey(info.key, info.transport, info.port)
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= self._max_chats:
                log.debug("chat list full (%d): ignored %s", self._max_chats, key)
                return events
            self._found += 1
            entry = self._entries[key] = _Entry(self._found, {address: _Sighting(info, now, now)})
            events.append(ChatFound(entry.view()))
            return events
        before = entry.view()
        sighting = entry.seen.get(address)
        if sighting is not None:
            sighting.info, sighting.last = info, now
        elif len(entry.seen) >= MAX_ADDRESSES_PER_CHAT:
            # The addresses already heard stay: a newcomer never pushes one of them out.
            log.debug("%s heard at %d addresses already: ignored %s", key, len(entry.seen), address)
            return events
        else:
            entry.seen[address] = _Sighting(info, now, now)
        after = entry.view()
        if after.info != before.info or after.addresses != before.addresses:
            events.append(ChatUpdated(after))
        return events

    def _evict_previous_owner(self, info: RoomInfo, address: str) -> list[ChatEvent]:
        events: list[ChatEvent] = []
        for key, entry in list(self._entries.items()):
            if key.key == info.key or key.transport != info.transport or key.port != info.port:
                continue
            if address in entry.seen:
                events.extend(self._forget_address(key, entry, address, "replaced"))
        return events

    def _forget_address(self, key: ChatKey, entry: _Entry, address: str, reason: str) -> list[ChatEvent]:
        before = entry.view()
        del entry.seen[address]
        if not entry.seen:
            del self._entries[key]
            return [ChatLost(before, reason)]
        return [ChatUpdated(entry.view())]

    def goodbye(self, goodbye: Goodbye, address: str) -> list[ChatEvent]:
        """A goodbye came from `address`: the chat it names is gone from that address.

        Only from there: anyone can send a goodbye naming any room, so one from an address
        the chat was not heard at removes nothing. A host's goodbye comes from each of its
        addresses (broadcast and multicast alike); an address it does not reach expires.
        """
        key = ChatKey(goodbye.key, goodbye.transport, goodbye.port)
        entry = self._entries.get(key)
        if entry is None or address not in entry.seen:
            log.debug("ignored a goodbye from %s for a chat not heard there", address)
            return []
        return self._forget_address(key, entry, address, "goodbye")

    def expire(self, now: float) -> list[ChatEvent]:
        """Forget addresses not heard for the announced ttl; a chat with none left is lost."""
        events: list[ChatEvent] = []
        for key, entry in list(self._entries.items()):
            for address, sighting in list(entry.seen.items()):
                if now >= sighting.expires_at:
                    events.extend(self._forget_address(key, entry, address, "expired"))
        return events

    def next_expiry(self) -> float | None:
        """When `expire` will next have something to do, or None when the list is empty."""
        deadlines = [sighting.expires_at for e in self._entries.values() for sighting in e.seen.values()]
        return min(deadlines, default=None)

    def clear(self) -> None:
        self._entries.clear()
