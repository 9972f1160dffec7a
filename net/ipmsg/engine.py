"""The IP Messenger side of a LanChat program, sans I/O: datagrams and time in, datagrams and events out.

The shell (`net.ipmsg.bridge`) feeds `receive` with each datagram and its source address,
calls `tick` when `next_deadline` comes, and after each call sends what `take` returns
(`Datagram.to` is an address, or `BROADCAST` for every broadcast destination) and hands the
events to the application. Time and randomness are injected, so every rule here is tested
without sockets or sleeping.

The protocol, as implemented (docs/PROTOCOL.md, "IP Messenger bridge"):
- `enter` broadcasts BR_ENTRY (CAPUTF8OPT: we read UTF-8), `leave` BR_EXIT, `set_absent`
  BR_ABSENCE (with ABSENCEOPT while away).
- BR_ENTRY from a user lists it and is answered, after a random delay that grows with the
  number of users (so a LAN of hundreds does not answer all at once), with ANSENTRY to
  that address only. ANSENTRY and BR_ABSENCE list / update the user, BR_EXIT removes it.
- SENDMSG is shown once (resends are recognised by packet number) and acknowledged with
  RECVMSG when it asks (SENDCHECKOPT), every time it asks; a sealed one that asks
  (READCHECKOPT) gets READMSG too, since the window shows it at once. Our own SENDMSGs wait
  in the `Outbox` for their RECVMSG; READMSG of ours becomes `IpmsgRead`.
- A SENDMSG with FILEATTACHOPT carries its attachment list after the text
  (`net.ipmsg.attachments`: entries checked one by one); `send_files` offers ours the same
  way, `release` sends RELEASEFILES, and a RELEASEFILES of the peer's becomes
  `IpmsgFilesReleased` (the TCP side is `net.ipmsg.fileserve` and `net.ipmsg.fetch`).
- GETINFO gets SENDINFO (our version). Every other command, including Feiq's and iptux's
  own, is ignored; so is anything `parse_packet` refuses.
- The `Guard` rate-limits sources and answers and keeps answers to unproven addresses no
  bigger than what they sent.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections import OrderedDict
from dataclasses import dataclass

from net.ipmsg import codec as c
from net.ipmsg.attachments import Attachment, build_attachments, parse_attachments
from net.ipmsg.encoding import UTF8, check_legacy_encoding, decode_text, encode_text, split_text
from net.ipmsg.events import (
    IpmsgDelivered,
    IpmsgEvent,
    IpmsgFilesReleased,
    IpmsgMessage,
    IpmsgRead,
    IpmsgUndelivered,
    IpmsgUsers,
)
from net.ipmsg.guard import Guard
from net.ipmsg.outbox import Outbox, OutboxFull, Outcome, PendingPiece
from net.ipmsg.peers import PeerList, user_from_entry

log = logging.getLogger(__name__)

BROADCAST = "*"
#: The version field we send: the protocol version, as IP Messenger itself sends it.
OUR_VERSION = b"1"
SOFTWARE = b"LanChat"
#: ANSENTRY waits a random time up to this, plus `ANSWER_DELAY_PER_USER` per listed user.
ANSWER_DELAY_BASE = 0.1
ANSWER_DELAY_PER_USER = 0.01
ANSWER_DELAY_MAX = 4.0
MAX_PENDING_ANSWERS = 256
MAX_OWN_NUMBERS = 512
MAX_MESSAGE_CHARS = 64 * 1024


@dataclass(frozen=True, slots=True)
class Identity:
    """How we appear to IP Messenger users."""

    nick: str
    group: str = "LanChat"
    user: str = "lanchat"
    host: str = "lanchat"


@dataclass(frozen=True, slots=True)
class Datagram:
    data: bytes
    to: str  # "host:port", or BROADCAST


class UnknownUser(LookupError):
    """The address is not (or no longer) in the list of IP Messenger users."""


class IpmsgEngine:
    """One program's presence on the IP Messenger network. Not thread-safe: one owner thread."""

    def __init__(
        self,
        me: Identity,
        now: float,
        *,
        legacy_encoding: str = "gbk",
        rng: random.Random | None = None,
        first_packet_no: int | None = None,
        guard: Guard | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.me = me
        self.legacy = check_legacy_encoding(legacy_encoding)
        self._rng = rng or random.Random()
        # IP Messenger numbers packets from the time of day, so numbers grow across restarts
        # (iptux drops a message whose number is not above the last one it saw from us).
        self._numbers = itertools.count(first_packet_no if first_packet_no is not None else int(now))
        self._message_ids = itertools.count(1)
        self.guard = guard or Guard(now)
        self.outbox = outbox or Outbox()
        self.peers = PeerList()
        self.absent = False
        self._own_numbers: OrderedDict[int, None] = OrderedDict()
        self._answers: dict[str, tuple[float, int]] = {}  # address -> (due, size of its BR_ENTRY)
        self._datagrams: list[Datagram] = []
        self._events: list[IpmsgEvent] = []
        self.ignored = 0  # malformed or unknown packets

    # -- output -------------------------------------------------------------------------------

    def take(self) -> tuple[list[Datagram], list[IpmsgEvent]]:
        """What to send and what to tell since the last call."""
        datagrams, events = self._datagrams, self._events
        self._datagrams, self._events = [], []
        return datagrams, events

    def users(self) -> IpmsgUsers:
        return IpmsgUsers(self.peers.users())

    # -- our actions ---------------------------------------------------------------------------

    def enter(self, now: float) -> None:
        self.guard.entry_sent(now)
        self._broadcast(c.BR_ENTRY | c.CAPUTF8OPT | self._absence_flag(), self._our_entry(self.legacy))

    def leave(self, now: float) -> None:
        self._tell_everyone(c.BR_EXIT | c.CAPUTF8OPT)

    def rename(self, nick: str, now: float) -> None:
        """A new nickname, told to everyone with BR_ABSENCE (the protocol's "my details changed")."""
        self.me = Identity(nick, self.me.group, self.me.user, self.me.host)
        self.set_absent(self.absent, now)

    def set_absent(self, absent: bool, now: float) -> None:
        self.absent = absent
        self._tell_everyone(c.BR_ABSENCE | c.CAPUTF8OPT | self._absence_flag())

    def _tell_everyone(self, command: int) -> None:
        """To the broadcast, and to every listed user who proved its address (as iptux tells
        each of its pals): that reaches users a broadcast does not, on networks that filter
        it. Not to unproven ones: a forged BR_ENTRY must not make us send to a bystander."""
        self._broadcast(command, self._our_entry(self.legacy))
        told = self._datagrams[-1].data
        proven = [user.address for user in self.peers.users() if self.guard.is_verified(user.address)]
        self._datagrams.extend(Datagram(told, address) for address in proven)

    def send_message(self, address: str, text: str, now: float, message_id: str | None = None) -> str:
        """Send `text` to the user at `address`; the message id its outcome events carry.

        Raises UnknownUser, OutboxFull (too much unacknowledged), or ValueError (empty or
        longer than `MAX_MESSAGE_CHARS`): a message is never cut short silently.
        """
        peer = self.peers.get(address)
        if peer is None:
            raise UnknownUser(address)
        if not text.strip():
            raise ValueError("the message is empty")
        if len(text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
        encoding = peer.user.encoding
        command = c.SENDMSG | c.SENDCHECKOPT | (c.UTF8OPT if encoding == UTF8 else 0)
        header = len(self._header(0xFFFFFFFF, command | c.RETRYOPT)) + 1
        pieces = split_text(text, encoding, c.MAX_SEND_BYTES - header)
        if not self.outbox.room_for(len(pieces)):
            raise OutboxFull("too many messages are waiting for acknowledgement")
        message_id = message_id or f"m{next(self._message_ids)}"
        for piece in pieces:
            number = self._next_number()
            first = c.build_packet(self._packet(number, command, piece.data))
            retry = c.build_packet(self._packet(number, command | c.RETRYOPT, piece.data))
            due = now + self.outbox.interval
            self.outbox.add(PendingPiece(message_id, address, number, first, retry, due))
            self._datagrams.append(Datagram(first, address))
        return message_id

    def send_files(
        self, address: str, text: str, files: list[Attachment], now: float, message_id: str
    ) -> tuple[int, str]:
        """Offer `files` to the user at `address` (SENDMSG with FILEATTACHOPT, `text` before the
        list): the offer's packet number (its GETFILEDATA requests name it) and the peer's
        encoding. One datagram, resent until RECVMSG like a message; ValueError when the
        list does not fit in one (too many or too long names), UnknownUser, OutboxFull."""
        peer = self.peers.get(address)
        if peer is None:
            raise UnknownUser(address)
        encoding = peer.user.encoding
        command = c.SENDMSG | c.SENDCHECKOPT | c.FILEATTACHOPT | (c.UTF8OPT if encoding == UTF8 else 0)
        extra = encode_text(text, encoding) + b"\0" + build_attachments(files, encoding)
        number = self._next_number()
        first = c.build_packet(self._packet(number, command, extra))
        if len(first) + 16 > c.MAX_SEND_BYTES:
            raise ValueError("too many files, or names too long, for one offer")
        if not self.outbox.room_for(1):
            raise OutboxFull("too many messages are waiting for acknowledgement")
        retry = c.build_packet(self._packet(number, command | c.RETRYOPT, extra))
        self.outbox.add(PendingPiece(message_id, address, number, first, retry, now + self.outbox.interval))
        self._datagrams.append(Datagram(first, address))
        return number, encoding

    def release(self, address: str, packet_no: int) -> None:
        """Tell the user at `address` we are done with its offer `packet_no` (RELEASEFILES):
        declined, or received. Only to a listed user (a user action, never an answer)."""
        peer = self.peers.get(address)
        if peer is not None:
            command = c.RELEASEFILES | (c.UTF8OPT if peer.user.encoding == UTF8 else 0)
            data = c.build_packet(self._packet(self._next_number(), command, b"%d" % packet_no))
            self._datagrams.append(Datagram(data, address))

    def request_packet(self, mode: int, extra: bytes) -> bytes:
        """A GETFILEDATA / GETDIRFILES packet for a TCP connection (the fetcher's threads call
        this: it reads only our frozen identity and takes a number from a shared counter)."""
        return c.build_packet(self._packet(next(self._numbers) & 0xFFFFFFFF, mode, extra))

    # -- time -----------------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        for address, (due, received) in list(self._answers.items()):
            if due <= now:
                del self._answers[address]
                self._answer_entry(address, received, now)
        resend, failed = self.outbox.due(now)
        self._datagrams.extend(Datagram(data, address) for data, address in resend)
        self._outcomes(failed)

    def next_deadline(self) -> float | None:
        times = [due for due, _size in self._answers.values()]
        outbox = self.outbox.next_due()
        if outbox is not None:
            times.append(outbox)
        return min(times, default=None)

    # -- input ----------------------------------------------------------------------------------

    def receive(self, data: bytes, source: str, now: float) -> None:
        """One datagram from `source` ("host:port" from the socket). Never raises for bad input."""
        if not self.guard.admit(source, now):
            return
        try:
            packet = c.parse_packet(data)
        except c.IpmsgFormatError as exc:
            self.ignored += 1
            log.debug("ignored a datagram from %s: %s", source, exc)
            return
        if packet.packet_no in self._own_numbers and packet.user == self._user and packet.host == self._host:
            return  # our own broadcast, heard back
        handler = _HANDLERS.get(packet.mode)
        if handler is None:
            self.ignored += 1
            log.debug("ignored %s from %s (not a command we use)", packet.mode_name, source)
            return
        handler(self, packet, source, len(data), now)

    def _on_entry(self, packet: c.Packet, source: str, size: int, now: float) -> None:
        self._list(packet, source)
        if source not in self._answers and len(self._answers) < MAX_PENDING_ANSWERS:
            spread = min(ANSWER_DELAY_MAX, ANSWER_DELAY_BASE + ANSWER_DELAY_PER_USER * len(self.peers))
            self._answers[source] = (now + self._rng.uniform(0.0, spread), size)

    def _on_answer_entry(self, packet: c.Packet, source: str, size: int, now: float) -> None:
        if self.guard.answers_our_entry(now):
            self.guard.verify(source)
        self._list(packet, source)

    def _on_absence(self, packet: c.Packet, source: str, size: int, now: float) -> None:
        self._list(packet, source)

    def _on_exit(self, packet: c.Packet, source: str, size: int, now: float) -> None:
        self._answers.pop(source, None)
        self.guard.forget(source)
        self._outcomes(self.outbox.drop_address(source))
        if self.peers.remove(source):
            self._events.append(self.users())

    def _on_message(self, packet: c.Packet, source: str, size: int, now: float) -> None:
        peer = self.peers.get(source)
        if peer is None and not packet.has(c.NOADDLISTOPT):
            self._list(packet, source)  # IP Messenger lists an unknown sender too
            peer = self.peers.get(source)
        encoding = peer.user.encoding if peer is not None else self.legacy
        if packet.has(c.SENDCHECKOPT):
            self._answer(source, c.RECVMSG, b"%d" % packet.packet_no, encoding, size, now)
        if peer is not None and not peer.first_time(packet.packet_no):
            return
        text = decode_text(c.message_text_bytes(packet.extra), packet.command, encoding)
        files = packet.has(c.FILEATTACHOPT)
        attachments: list[Attachment] = []
        refused = 0
        if files:
            attachments, refused = parse_attachments(packet.extra, packet.command, encoding)
            if refused:
                log.info("%s offered %d file(s) that are refused (names or sizes)", source, refused)
        if not text.strip() and not files:
            return
        if packet.has(c.SECRETOPT) and packet.has(c.READCHECKOPT):
            self._answer(source, c.READMSG, b"%d" % packet.packet_no, encoding, size, now)
        nick = peer.user.nick if peer is not None else source
        self._events.append(
            IpmsgMessage(
                source,
                nick,
                text,
                packet.packet_no,
                packet.has(c.BROADCASTOPT),
                files,
                self.guard.is_verified(source),
                tuple(attachments),
                refused,
            )
        )

    def _on_received(self, packet: c.Packet, source: str, size: int, now: float) -> None:
        number = c.acknowledged_number(packet.extra)
        if number is None or not self.outbox.sent_to(source, number):
            return  # not ours, or acknowledged by the wrong address: ignored
        self.guard.verify(source)  # it received what we sent there
        outcome = self.outbox.acknowledge(source, number)
        if outcome is not None:
            self._outcomes([outcome])

    def _on_read(self, packet: c.Packet, source: str, size: int, now: float) -> None:
        number = c.acknowledged_number(packet.extra)
        if number is not None and self.peers.get(source) is not None:
            self._events.append(IpmsgRead(source, number))

    def _on_release(self, packet: c.Packet, source: str, size: int, now: float) -> None:
        number = c.acknowledged_number(packet.extra)
        if number is not None and self.peers.get(source) is not None:
            self._events.append(IpmsgFilesReleased(source, number))

    def _on_get_info(self, packet: c.Packet, source: str, size: int, now: float) -> None:
        self._answer(source, c.SENDINFO, SOFTWARE, self.legacy, size, now)

    # -- helpers ----------------------------------------------------------------------------------

    @property
    def _user(self) -> bytes:
        return c.header_name(self.me.user)

    @property
    def _host(self) -> bytes:
        return c.header_name(self.me.host)

    def _absence_flag(self) -> int:
        return c.ABSENCEOPT if self.absent else 0

    def _next_number(self) -> int:
        number = next(self._numbers) & 0xFFFFFFFF
        self._own_numbers[number] = None
        while len(self._own_numbers) > MAX_OWN_NUMBERS:
            self._own_numbers.popitem(last=False)
        return number

    def _header(self, number: int, command: int) -> bytes:
        return c.build_packet(self._packet(number, command, b""))[:-1]

    def _packet(self, number: int, command: int, extra: bytes) -> c.Packet:
        return c.Packet(OUR_VERSION, number, self._user, self._host, command, extra)

    def _our_entry(self, encoding: str) -> list[bytes]:
        """Our entry extras, longest first: iptux's form (says we speak UTF-8), then shorter."""
        nick = encode_text(self.me.nick, encoding)
        group = encode_text(self.me.group, encoding)
        base = c.build_entry_extra(nick, group)
        return [base + b"\0\0utf-8", base, nick, b""]

    def _broadcast(self, command: int, extras: list[bytes]) -> None:
        packet = self._packet(self._next_number(), command, extras[0])
        self._datagrams.append(Datagram(c.build_packet(packet), BROADCAST))

    def _answer_entry(self, source: str, received: int, now: float) -> None:
        peer = self.peers.get(source)
        encoding = peer.user.encoding if peer is not None else self.legacy
        command = c.ANSENTRY | c.CAPUTF8OPT | self._absence_flag() | (c.UTF8OPT if encoding == UTF8 else 0)
        number = self._next_number()
        for extra in self._our_entry(encoding):  # the longest that the size rule allows
            data = c.build_packet(self._packet(number, command, extra))
            if self.guard.is_verified(source) or len(data) <= received:
                if self.guard.answer_allowed(source, len(data), received, now):
                    self._datagrams.append(Datagram(data, source))
                return
        self.guard.answers_refused += 1

    def _answer(self, source: str, mode: int, extra: bytes, encoding: str, received: int, now: float) -> None:
        command = mode | (c.UTF8OPT if encoding == UTF8 else 0)
        data = c.build_packet(self._packet(self._next_number(), command, extra))
        if self.guard.answer_allowed(source, len(data), received, now):
            self._datagrams.append(Datagram(data, source))

    def _list(self, packet: c.Packet, source: str) -> None:
        entry = c.parse_entry_extra(packet.extra) if packet.mode != c.SENDMSG else c.EntryExtra(b"")
        user = user_from_entry(source, packet, entry, self.legacy)
        known = self.peers.get(source)
        if known is not None and packet.mode == c.SENDMSG:
            return
        before = known.user if known is not None else None
        if self.peers.upsert(user) and before != user:
            self._events.append(self.users())

    def _outcomes(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            event = IpmsgDelivered if outcome.delivered else IpmsgUndelivered
            self._events.append(event(outcome.address, outcome.message_id))


_HANDLERS = {
    c.BR_ENTRY: IpmsgEngine._on_entry,
    c.ANSENTRY: IpmsgEngine._on_answer_entry,
    c.BR_ABSENCE: IpmsgEngine._on_absence,
    c.BR_EXIT: IpmsgEngine._on_exit,
    c.SENDMSG: IpmsgEngine._on_message,
    c.RECVMSG: IpmsgEngine._on_received,
    c.READMSG: IpmsgEngine._on_read,
    c.GETINFO: IpmsgEngine._on_get_info,
    c.RELEASEFILES: IpmsgEngine._on_release,
}
