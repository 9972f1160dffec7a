"""The chat room: who is here, what they may do, and who receives what.

`Room` never touches a socket or a thread. A transport calls `join`, `handle` and `leave`
for a peer (any hashable id the transport picks) and carries out the returned outputs in
order. The same room therefore serves the TCP host, the UDP host and the tests.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from net.files.relay_desk import RelayDesk
from net.protocol import events as ev
from net.protocol.limits import (
    DEFAULT_ADDRESS_RATE_MULTIPLE,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HISTORY_SIZE,
    DEFAULT_MAX_MEMBERS,
    DEFAULT_RATE_BURST,
    DEFAULT_RATE_PER_SECOND,
    FLOOD_STRIKES,
    FLOOD_WINDOW_SECONDS,
    MAX_ROOM_NAME_CHARS,
    PROTOCOL_VERSION,
)
from net.protocol.message_ids import message_id, sender_hash
from net.protocol.nicknames import InvalidNickname, normalize_nick
from net.room import away
from net.room.dedupe import SeenMessages
from net.room.files import route_file_step
from net.room.mailbox import Mailbox, MailLimits
from net.room.member import Member, same_session
from net.room.names import Names
from net.room.outputs import Broadcast, Disconnect, Output, PeerId, Relay, Send
from net.room.ratelimit import Buckets, member_limit
from net.room.remote import Elsewhere, RemoteMembers, member_tag
from net.room.replay import history_that_fits
from net.room.self_notices import rename, typing_notice
from net.room.unsaved import Unsaved
from net.secure.password import PasswordHash, secret_digest


@dataclass(slots=True)
class RoomConfig:
    name: str = "LanChat"
    history_size: int = DEFAULT_HISTORY_SIZE
    max_members: int = DEFAULT_MAX_MEMBERS
    rate_per_second: float = DEFAULT_RATE_PER_SECOND  # 0 switches the limit off
    rate_burst: int = DEFAULT_RATE_BURST
    #: The members from one address share this many members' rate and burst besides their
    #: own (0: no shared budget). Addresses come from `Room.join`.
    address_rate_multiple: float = DEFAULT_ADDRESS_RATE_MULTIPLE
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL
    owner_client_id: str | None = None  # the member with this client id is marked as host
    password: str | None = None
    mail: MailLimits = dataclasses.field(default_factory=MailLimits)  # for members who are away


class Room:
    """One chat room. Not thread-safe: its owner serialises calls."""

    def __init__(
        self,
        config: RoomConfig | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        id_prefix: str | None = None,
    ) -> None:
        # A copy: the room trims the name, and the caller's config must stay as given.
        self.config = dataclasses.replace(config or RoomConfig())
        self.config.name = self.config.name[:MAX_ROOM_NAME_CHARS]
        self._wall = wall_clock
        self._mono = monotonic
        self._prefix = id_prefix
        self._numbers = itertools.count(1)
        self._by_peer: dict[PeerId, Member] = {}
        self._names = Names()
        #: Each member under each of its nickname's look-alike keys: a nickname is taken
        #: when it shares one with another member (`nicknames.look_alike`).
        self._history: deque[ev.ChatMessage] = deque(maxlen=max(0, self.config.history_size))
        self.mailbox = Mailbox(self.config.mail)
        self.unsaved = Unsaved(self.mailbox)  # what the host's journal has not taken yet
        #: On a backbone (`net.backbone`): other hosts' members; `shared`: messages enter the
        self.remote, self.shared = RemoteMembers(), False  # history in the stream's order
        # Only a salted hash of the password stays in the room (and none in its config).
        self._password = PasswordHash.of(self.config.password) if self.config.password else None
        self.config.password = None
        remembered = 4 * max(1, self.config.max_members)  # clients whose acks and budgets are kept
        self._seen = SeenMessages(max_clients=remembered)
        # Budgets outlive their members: reconnecting buys no fresh burst.
        rate, burst = self.config.rate_per_second, self.config.rate_burst
        self._budgets = Buckets(rate, burst, remembered)
        multiple = max(0.0, self.config.address_rate_multiple)
        self._address_budgets = Buckets(rate * multiple, burst * multiple, remembered) if multiple else None
        self.file_relay: RelayDesk | None = None  # the host's relay tickets, when it runs one

    # -- queries ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.config.name

    def __len__(self) -> int:
        return len(self._by_peer)

    def __contains__(self, peer: PeerId) -> bool:
        return peer in self._by_peer

    def peers(self) -> list[PeerId]:
        return list(self._by_peer)

    def nick_of(self, peer: PeerId) -> str | None:
        member = self._by_peer.get(peer)
        return member.nick if member else None

    def peer_of(self, nick: str) -> PeerId | None:
        member = self._names.holder(nick)
        return member.peer if member else None

    def members(self) -> tuple[ev.MemberInfo, ...]:
        local = tuple(member.info() for member in self._by_peer.values())
        return local + self.remote.members([info.nick for info in local]) if self.remote else local

    def tags(self) -> tuple[str, ...]:  # the local members' `remote.member_tag`s, as `members()` lists them
        return tuple(member_tag(member.client_id) for member in self._by_peer.values())

    def history(self) -> tuple[ev.ChatMessage, ...]:
        return tuple(self._history)

    def keep_journal(self, history: list[ev.ChatMessage]) -> None:
        """From now on note what a journal must keep (`unsaved`); `history` is what one kept
        before (oldest first), replayed to joiners as if this room had said it."""
        self._history.extend(history)
        self.unsaved.start()

    def remember(self, message: ev.ChatMessage) -> None:
        self._history.append(message)  # a shared room's message, back from the stream

    # -- joining and leaving ------------------------------------------------------------

    def join(
        self, peer: PeerId, hello: ev.Hello, *, address: str | None = None, plaintext: bool = False
    ) -> list[Output]:
        """Admit `peer` (welcome + joined notice) or refuse it (refusal + disconnect).

        `address` names the computer it connects from (any string the transport picks, the
        same for each connection from there): members from one address share a budget.
        `plaintext`: it connected without encryption; everyone is told (`Joined`, `members`).
        """
        if peer in self._by_peer:
            return [Send(peer, ev.Error(code="not_allowed", text="already joined"))]
        if hello.version != PROTOCOL_VERSION:
            return self._refuse(
                peer,
                "version_mismatch",
                f"this host speaks protocol version {PROTOCOL_VERSION}, you speak {hello.version}",
            )
        if self._password is not None and not self._password.matches(hello.password):
            return self._refuse(peer, "bad_password", "wrong or missing password")
        try:
            nick = normalize_nick(hello.nick)
        except InvalidNickname as exc:
            return self._refuse(peer, "nick_invalid", f"invalid nickname: {exc}")

        outputs: list[Output] = []
        ghost = next((m for m in self._by_peer.values() if m.client_id == hello.client_id), None)
        resume = secret_digest(hello.resume)
        if ghost is not None and not same_session(ghost.resume, resume):
            # Someone else presenting this client's id: only its secret proves the session.
            return self._refuse(
                peer, "session_in_use", "another connection holds this session; try again later"
            )
        taken = self._names.taken(nick, ghost) or self.remote.taken(nick, hello.client_id)
        if taken:
            return self._refuse(peer, "nick_taken", taken)
        if ghost is not None:
            # The same client reconnected while its old connection still looks alive.
            outputs.append(Disconnect(ghost.peer, "replaced by a new connection", ev.LeaveCause.REPLACED))
            outputs.extend(self._remove(ghost, announce=False))
            if ghost.nick != nick:
                # Not to the new connection itself: its welcome (sent next) must come first.
                renamed = ev.Renamed(old=ghost.nick, new=nick, time=self._now())
                outputs.append(Broadcast(renamed, exclude=peer))
        elif len(self._by_peer) >= self.config.max_members:
            return self._refuse(peer, "room_full", f"the room is full ({self.config.max_members} members)")

        now = self._now()
        member = Member(
            peer=peer,
            nick=nick,
            client_id=hello.client_id,
            resume=resume,
            plaintext=plaintext,
            since=ghost.since if ghost else now,
            is_host=hello.client_id == self.config.owner_client_id,
            limit=member_limit(self._budgets, self._address_budgets, hello.client_id, address, self._mono()),
            address=address,
            box=secret_digest(hello.mailbox),
            files=hello.files,
        )
        self._by_peer[peer] = member
        self._names.name(member, nick)
        outputs.append(Send(peer, self._welcome(member, now)))
        outputs += away.welcome_back(self.mailbox, member, now)
        if ghost is None:
            joined = ev.Joined(nick=nick, time=now, host=member.is_host, plaintext=plaintext)
            outputs.append(Broadcast(joined, exclude=peer))
        return outputs

    def leave(
        self, peer: PeerId, reason: str = "", cause: ev.LeaveCause = ev.LeaveCause.LOST
    ) -> list[Output]:
        """Forget `peer` and tell the others why (`reason` in words, `cause` for receivers
        to word in their language: by default its connection was lost); harmless for a
        peer that never joined."""
        member = self._by_peer.get(peer)
        if member is None:
            return []
        return self._remove(member, announce=True, reason=reason, cause=cause)

    def _remove(
        self, member: Member, *, announce: bool, reason: str = "", cause: ev.LeaveCause | None = None
    ) -> list[Output]:
        del self._by_peer[member.peer]
        self._names.unname(member)
        now = self._mono()
        self._budgets.release(member.client_id, now)
        if member.limit.shared is not None:
            assert self._address_budgets is not None and member.address is not None
            self._address_budgets.release(member.address, now)
        if not announce:
            return []
        if member.box is not None:
            self.mailbox.left(member.nick, member.box, self._now())
        return [Broadcast(ev.Left(nick=member.nick, time=self._now(), reason=reason[:300], cause=cause))]

    def _refuse(self, peer: PeerId, code: str, text: str) -> list[Output]:
        return [Send(peer, ev.Refuse(code=code, text=text)), Disconnect(peer, text)]

    def _welcome(self, member: Member, now: float) -> ev.Welcome:
        members = self.members()
        replay = history_that_fits(self._history, members)
        return ev.Welcome(
            version=PROTOCOL_VERSION,
            nick=member.nick,
            room=self.config.name,
            members=members,
            history=replay,
            time=now,
            heartbeat=self.config.heartbeat_interval,
            rate=self.config.rate_per_second or None,
            burst=self.config.rate_burst if self.config.rate_per_second else None,
            hosts=self.remote.addresses(),
        )

    # -- events from members ------------------------------------------------------------

    def handle(self, peer: PeerId, event: ev.Event) -> list[Output]:
        """Apply one event from a joined member."""
        member = self._by_peer.get(peer)
        if member is None:
            return [Send(peer, ev.Error(code="not_joined", text="say hello first"))]
        if type(event) is ev.Say:
            return self._say(member, event)  # the hot kind, ahead of the pattern match
        match event:
            case ev.Rename(nick=raw):
                refused = self._over_limit(member, "renames")
                return refused or rename(self._names, member, raw, self._now(), self.remote)
            case ev.Typing(active=active, to=to):
                return typing_notice(self._names, member, active, to, self._mono())
            case ev.Got(ids=ids):
                return away.got(self.mailbox, member, ids, self._by_peer.values(), self._now())
            case ev.Who():
                refused = self._over_limit(member, "member list requests")
                return refused or [Send(peer, ev.Members(members=self.members()))]
            case ev.FileControl():
                refused = self._over_limit(member, "file requests")
                return refused or route_file_step(
                    member, event, self._names.holder, self._now(), self.file_relay, self._by_peer.values()
                )
            case ev.Ping():
                return [Send(peer, event.reply())]
            case ev.Pong():
                return []
            case ev.Bye(reason=reason):
                reason = reason or "left"
                quit = ev.LeaveCause.QUIT
                return [*self.leave(peer, reason, quit), Disconnect(peer, reason, quit)]
        return [Send(peer, ev.Error(code="not_allowed", text=f"{event.TYPE!r} is not allowed here"))]

    def handle_says(self, peer: PeerId, says: list[ev.Say]) -> list[Output]:
        """Apply messages a member sent one after another: what `handle` gives for each, in
        order, except that consecutive room messages come as one `Relay` instead of a
        `Broadcast` and `Send` pair each, and share one timestamp (they arrived together).

        A busy host reads dozens of messages from a connection at once; a run lets it
        encode and queue them in one go instead of one message at a time, which was most
        of its work per message (`bench/`, issue 7). Anything but a plain room message
        (private, a resend, rate limited, empty) takes the path `handle` takes.
        """
        member = self._by_peer.get(peer)
        if member is None:
            return [output for say in says for output in self.handle(peer, say)]
        outputs: list[Output] = []
        messages: list[ev.ChatMessage] = []
        acked: list[str] = []
        seen = self._seen.relayed_by(member.client_id)
        limit = self._seen.per_client
        budget = member.limit
        limited = budget.limited
        allowed = 0  # taken from the budget for this run and not used yet (one take per run)
        moment = self._mono()
        remember = self._history.append if not self.shared else _not_yet
        unsaved = self.unsaved.messages
        id_for = self._message_id
        build_message = ev.build_message
        nick = member.nick
        now = self._now()
        for index, say in enumerate(says):
            answer: list[Output] | None = None
            if say.id in seen:
                ack = self._seen.get(member.client_id, say.id)  # a resend: ack again
                assert ack is not None  # it is in `seen`
                answer = [Send(peer, ack)]
            elif limited and not allowed and not (allowed := budget.take_up_to(len(says) - index, moment)):
                answer = self._rate_limited(member, say.id, budget.wait(moment))
            else:
                allowed -= limited
                if say.to is not None or not (text := say.text.rstrip()):
                    answer = self._deliver(member, say, now)
            if answer is not None:
                if messages:
                    outputs.append(Relay(peer, messages, acked))
                    messages, acked = [], []
                outputs += answer
                if peer not in self._by_peer:  # flooded out: the rest is answered as from a stranger
                    outputs += [output for later in says[index + 1 :] for output in self.handle(peer, later)]
                    return outputs
                continue
            message = build_message(id_for(member, say.id), nick, text, now, None, say.action)
            seen[say.id] = (message.id, now)
            if len(seen) > limit:
                seen.popitem(last=False)
            remember(message)
            if unsaved is not None:
                unsaved.append(message)
            messages.append(message)
            acked.append(say.id)
        if messages:
            outputs.append(Relay(peer, messages, acked))
        if allowed:
            budget.give_back(allowed)  # for resends further on, which cost nothing
        return outputs

    def _say(self, member: Member, say: ev.Say) -> list[Output]:
        peer = member.peer
        earlier = self._seen.get(member.client_id, say.id)
        if earlier is not None:
            return [Send(peer, earlier)]  # a resend after a reconnect: ack again, relay nothing
        budget = member.limit
        if budget.limited and (wait := budget.take(self._mono())):
            return self._rate_limited(member, say.id, wait)
        return self._deliver(member, say, self._now())

    def _deliver(self, member: Member, say: ev.Say, now: float) -> list[Output]:
        """Relay `say` (new, within the rate) at time `now`, or tell the sender why not."""
        peer = member.peer
        text = say.text.rstrip()
        if not text:  # (what is left after rstrip ends in a non-space, unless it is empty)
            return [Send(peer, ev.Error(code="empty", text="empty messages are not sent", ref=say.id))]
        recipient: Member | Elsewhere | None = None
        if say.to is not None:  # here, or on another host of a shared room (`remote.host_of`)
            recipient = self._names.holder(say.to) or self.remote.host_of(say.to)
            if recipient is None:
                make_id = lambda: self._message_id(member, say.id)  # noqa: E731 - only if kept
                held = away.hold(self.mailbox, member, say, make_id, text, now)
                if held is not None:
                    return held
                return [Send(peer, ev.Error(code="no_such_member", text=f"{say.to} is not here", ref=say.id))]
        message = ev.build_message(
            self._message_id(member, say.id),
            member.nick,
            text,
            now,
            recipient.nick if recipient else None,
            say.action,
        )
        ack = ev.build_ack(say.id, message.id, now)
        self._seen.remember(member.client_id, ack)
        if recipient is None:
            remember = self._history.append if not self.shared else _not_yet
            remember(message)
            if self.unsaved.messages is not None:
                self.unsaved.messages.append(message)
            return [Broadcast(message, exclude=peer), Send(peer, ack)]
        if recipient is member:
            return [Send(peer, ack), Send(peer, message)]
        return [Send(recipient.peer, message), Send(peer, ack)]

    def _now(self) -> float:
        """The wall-clock time for what the room stamps, to the millisecond: every receiver
        gets the time of every message, and microseconds nobody reads cost 4 bytes each."""
        return round(self._wall(), 3)

    def _message_id(self, member: Member, local_id: str) -> str:
        """The delivered message's id: derived from who sent it and the sender's own id
        (`net.protocol.message_ids`), so that a resend relayed again after a host restart
        keeps its id and the sender recognises it in a welcome's history. A room given an
        `id_prefix` counts instead (readable ids for tests and logs).
        """
        if self._prefix is not None:
            return f"{self._prefix}-{next(self._numbers)}"
        if member.id_hash is None:
            member.id_hash = sender_hash(member.client_id)
        return message_id(member.id_hash, local_id)

    def _over_limit(self, member: Member, what: str) -> list[Output]:
        """Nothing when `member`'s budget allows one more request, else its refusal.

        A rename makes every member receive a notice and a `who` makes the room build its
        member list: without a limit one member could keep the host doing either as fast as
        it can send. They take from the same budget as messages and count strikes alike.
        """
        wait = member.limit.take(self._mono())
        return self._rate_limited(member, None, wait, what) if wait else []

    def _rate_limited(
        self, member: Member, ref: str | None, wait: float, what: str = "messages"
    ) -> list[Output]:
        now = self._mono()
        if now - member.strike_window_start > FLOOD_WINDOW_SECONDS:
            member.strike_window_start, member.strikes = now, 0
        member.strikes += 1
        if member.strikes > FLOOD_STRIKES:
            reason = "flooding: too many messages too fast"
            removed = ev.LeaveCause.REMOVED
            return [*self.leave(member.peer, reason, removed), Disconnect(member.peer, reason, removed)]
        text = f"too many {what}; wait {wait:.2f} s"
        return [Send(member.peer, ev.Error(code="rate_limited", text=text, ref=ref, retry_after=wait))]


def _not_yet(message: ev.ChatMessage) -> None:  # a shared room's: `remember`, in stream order
    pass
