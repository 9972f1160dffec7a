"""Everything a client does that does not depend on the transport, as pure code.

`ClientSession` is fed by a transport shell (TCP or UDP) and tells it what to write:

    session.link_up(now)              a link to the host was established
    session.receive_data(data, now)   bytes arrived; returns LinkVerdict.CLOSE to hang up
    session.tick(now)                 timers (heartbeat, retries); call by next_wakeup(now)
    session.take_output()             bytes to write now
    session.take_events()             events for the owner (GUI, terminal, tests)
    session.link_down(failure, ...)   the link ended; returns the reconnect delay or None

It owns the hello, the outbox (messages stay until the host acks them, and are sent again
after a reconnect; the host drops repeats by id, and one the host took whose ack was lost
is acked by its place in the welcome's history), duplicate suppression of delivered
messages, client-side pacing under the host's announced rate limit, the heartbeat and
latency measurement, and the reconnect backoff. Not thread-safe: the shell serialises calls.

Trust: with `config.encrypted` (the default) every link is TLS 1.3 (`net.secure.tls`).
Nothing is sent before the host's key is checked: it must be the pinned one
(`config.pinned`, or the one this session met first), or the one an invite's code names
(`config.expected_code`); otherwise the link closes with KEY_CHANGED or KEY_MISMATCH and a
`KeyRejected` event. A first meeting is reported as `HostVerified(first_use=True)` so the
owner can pin it. The hello (with the password and the session's resume secret) goes out
only after that check.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import logging
import random
import secrets

from net.api import (
    ClientConfig,
    ClientState,
    Delivered,
    FailureKind,
    HostVerified,
    KeyRejected,
    LatencyMeasured,
    StateChanged,
)
from net.client.errors import OutboxFull, sendable_text
from net.client.failures import bye_failure, is_final, reconnect_delay, refusal_failure
from net.client.greeting import GreetingSkipper
from net.client.hello import make_hello
from net.client.keycheck import check_host_key
from net.client.outbox import Outbox
from net.client.seen import SeenIds
from net.client.welcome import pacing_for, read_history
from net.protocol import events as ev
from net.protocol.connection import Connection, ConnectionClosed, ConnectionState, NeedData, Role
from net.protocol.errors import RemoteProtocolError
from net.protocol.nicknames import normalize_nick
from net.room.ratelimit import TokenBucket
from net.secure.tls import TlsError, TlsSession, client_context

log = logging.getLogger(__name__)

OUTBOX_LIMIT = 2_000
#: Messages sent but not yet acked at any moment (keeps a paste of many lines orderly).
SEND_WINDOW = 32
SEEN_IDS_LIMIT = 8_192


class LinkVerdict(enum.Enum):
    KEEP = "keep"
    CLOSE = "close"


class ClientSession:
    """The transport-independent state of one member's connection to a host."""

    def __init__(self, config: ClientConfig, *, rng: random.Random | None = None) -> None:
        self.config = config
        self.nick = normalize_nick(config.nick)
        self.client_id = config.client_id or secrets.token_hex(8)
        self.room = ""
        self.members: tuple[ev.MemberInfo, ...] = ()
        self._rng = rng or random.Random()
        self._state = ClientState.DISCONNECTED
        self._conn: Connection | None = None
        self._output = bytearray()
        self._events: list[object] = []
        self._outbox = Outbox(OUTBOX_LIMIT)
        self._seen = SeenIds(SEEN_IDS_LIMIT)
        # Ids must never repeat for one client id: a new session (leave, then join again in the
        # same program run) gets a fresh random prefix, reconnects within a session keep it.
        self._id_prefix = secrets.token_hex(4)
        self._local_numbers = itertools.count(1)
        self._ping_numbers = itertools.count(1)
        self._pings: dict[str, float] = {}
        self._heartbeat = config.heartbeat_interval
        self._last_received = 0.0
        self._last_ping = 0.0
        self._pacing: TokenBucket | None = None
        self._typing: tuple[bool, str | None] = (False, None)
        self._ever_connected = self._closing = False
        self._attempt = 0
        self._verdict: tuple[FailureKind, str] | None = None
        #: Proves this client's session on a reconnect; sent only inside TLS.
        self.resume_secret = config.resume_secret or secrets.token_urlsafe(24)
        self._tls_context = client_context() if config.encrypted else None
        self._tls: TlsSession | None = None
        self._greeting = GreetingSkipper()
        #: The host's key as far as this session knows it: pinned before, or met first now.
        self._pinned = config.pinned
        self._verified = False

    # -- queries ------------------------------------------------------------------------

    @property
    def state(self) -> ClientState:
        return self._state

    @property
    def open(self) -> bool:
        return self._conn is not None and self._conn.state is ConnectionState.OPEN

    @property
    def pending(self) -> list[str]:
        """Local ids of messages typed but not yet acknowledged, oldest first."""
        return self._outbox.ids()

    @property
    def room_key(self) -> bytes | None:
        """The room's key, as its host proved it over TLS (None before a welcome, or unencrypted)."""
        return self._pinned if self._ever_connected and self._tls_context is not None else None

    @property
    def finished(self) -> bool:
        """True once the session will not connect again (closed, or a final failure)."""
        return self._state is ClientState.DISCONNECTED and (self._closing or self._attempt < 0)

    # -- owner's requests -----------------------------------------------------------------

    def send_message(self, text: str, *, to: str | None = None, action: bool = False, now: float) -> str:
        """Queue a message; returns its local id.

        Raises `MessageEmpty`, `MessageTooLong` or `OutboxFull` (all `SendRefused`, see
        `net.client.errors`) when it cannot be queued.
        """
        text = sendable_text(text)
        if self._outbox.full:
            raise OutboxFull(self._outbox.limit)
        local_id = f"{self._id_prefix}-{next(self._local_numbers)}"
        self._outbox.add(ev.Say(id=local_id, text=text, to=to, action=action))
        self._flush_outbox(now)
        return local_id

    def rename(self, nick: str) -> None:
        """Ask for a new nickname (ValueError when it breaks the rules)."""
        nick = normalize_nick(nick)
        if self.open:
            self._send(ev.Rename(nick=nick))
        else:
            self.nick = nick  # used by the next hello

    def set_typing(self, active: bool, to: str | None = None) -> None:
        if self.open and (active, to) != self._typing:
            self._typing = (active, to)
            self._send(ev.Typing(active=active, to=to))

    def request_members(self) -> None:
        if self.open:
            self._send(ev.Who())

    def send_file_step(self, step: ev.FileControl) -> bool:
        """Pass a file transfer's step to the host now; False when not connected (not queued:
        `net.files.transfers` asks again, an offer is made again)."""
        if self.open:
            self._send(step)
        return self.open

    def expect_key(self, fingerprint: bytes) -> None:
        """From the next link on, the host must present `fingerprint`: the room moved to a host
        whose key one this session trusted named (a backbone's `Welcome.hosts`, a signed
        successor list). Only for keys that came over a verified link."""
        self._pinned = fingerprint

    def close(self, reason: str = "") -> None:
        """Leave: say bye if connected and never reconnect."""
        self._closing = True
        if self.open:
            self._send(ev.Bye(reason=reason))

    # -- the shell's calls ----------------------------------------------------------------

    def link_up(self, now: float) -> None:
        """A new link to the host is up: start the handshake on it."""
        self._conn = Connection(Role.CLIENT)
        self._output.clear()
        self._verdict = None
        self._pings.clear()
        self._last_received = self._last_ping = now
        if self._state is not ClientState.RECONNECTING:
            self._set_state(ClientState.CONNECTING)
        if self._tls_context is None:
            self._tls = None
            self._verified = True
            self._send_hello()
        else:
            self._tls = TlsSession(self._tls_context, server=False)  # the ClientHello is output now
            self._greeting = GreetingSkipper()
            self._verified = False

    def _send_hello(self) -> None:
        secret = self._tls is not None  # secrets never go in clear
        self._send(make_hello(self.config, self.nick, self.client_id, self.resume_secret, secret=secret))

    def receive_data(self, data: bytes, now: float) -> LinkVerdict:
        """Bytes from the host (``b""`` at end of stream)."""
        conn = self._conn
        if conn is None:
            return LinkVerdict.CLOSE
        self._last_received = now
        if self._tls is not None:
            ended = not data
            data = self._greeting.feed(data)  # text a host wrote for a person at `nc`
            if not data and not ended:
                return LinkVerdict.KEEP
            try:
                data = self._tls.receive(data)
            except TlsError as exc:
                self._verdict = (FailureKind.ENCRYPTION, f"the connection could not be secured ({exc.text})")
                return LinkVerdict.CLOSE
            if not self._verified:
                if not self._tls.handshake_done:
                    return LinkVerdict.CLOSE if ended else LinkVerdict.KEEP
                if self._check_key(self._tls.peer_fingerprint) is LinkVerdict.CLOSE:
                    return LinkVerdict.CLOSE
                self._send_hello()
            if not data and not ended:
                return LinkVerdict.KEEP  # records that carried no application data
        try:
            conn.receive_data(data)
        except RemoteProtocolError as exc:
            return self._host_broke_protocol(exc)
        while True:
            try:
                event = conn.next_event()
            except RemoteProtocolError as exc:
                if self._host_broke_protocol(exc) is LinkVerdict.CLOSE:
                    return LinkVerdict.CLOSE
                continue  # one bad frame: skip it and read on
            if isinstance(event, NeedData):
                return LinkVerdict.KEEP
            if self._on_event(event, now) is LinkVerdict.CLOSE:
                return LinkVerdict.CLOSE

    def _check_key(self, fingerprint: bytes | None) -> LinkVerdict:
        """Compare the host's key with what this session expects; nothing is sent before."""
        if fingerprint is None:
            self._verdict = (FailureKind.ENCRYPTION, "the host presented no certificate")
            return LinkVerdict.CLOSE
        verdict = check_host_key(fingerprint, pinned=self._pinned, expected_code=self.config.expected_code)
        if verdict.failure is None:
            self._pinned = fingerprint
            self._verified = True
            self._events.append(HostVerified(fingerprint, verdict.first_use))
            return LinkVerdict.KEEP
        log.warning("not joining: %s", verdict.text)
        self._events.append(KeyRejected(verdict.expected_code, fingerprint, verdict.failure))
        self._verdict = (verdict.failure, verdict.text)
        return LinkVerdict.CLOSE

    def _host_broke_protocol(self, exc: RemoteProtocolError) -> LinkVerdict:
        log.warning("host broke the protocol: %s", exc)
        if exc.fatal:
            self._verdict = (FailureKind.PROTOCOL, f"the host sent something invalid ({exc.code})")
            return LinkVerdict.CLOSE
        return LinkVerdict.KEEP

    def tick(self, now: float) -> LinkVerdict:
        """Heartbeat and retries; returns CLOSE when the host has gone silent for too long."""
        if self._conn is None:
            return LinkVerdict.KEEP
        silent = now - self._last_received
        if silent > self.config.heartbeat_timeout:
            self._verdict = (FailureKind.LOST, f"no answer from the host for {silent:.0f} s")
            return LinkVerdict.CLOSE
        if self.open and now - self._last_ping >= self._heartbeat:
            token = str(next(self._ping_numbers))
            self._pings = {token: now}  # only the newest ping is timed
            self._last_ping = now
            self._send(ev.Ping(token=token))
        self._flush_outbox(now)
        return LinkVerdict.KEEP

    def next_wakeup(self, now: float) -> float:
        """Seconds until `tick` has something to do."""
        deadlines = [self._last_received + self.config.heartbeat_timeout]
        if self.open:
            deadlines.append(self._last_ping + self._heartbeat)
            retry = self._outbox.next_retry()
            if retry is not None:
                deadlines.append(retry)
        return max(0.0, min(deadlines) - now)

    def take_output(self) -> bytes:
        """What to write to the link now (TLS records when encrypted)."""
        data = bytes(self._output)
        self._output.clear()
        if self._tls is None:
            return data
        try:
            return self._tls.seal((data,))
        except TlsError as exc:
            log.warning("cannot encrypt: %s", exc.text)
        return self._tls.take_output()

    def take_events(self) -> list[object]:
        events, self._events = self._events, []
        return events

    def link_down(self, failure: FailureKind, reason: str) -> float | None:
        """The link ended. Returns the delay before the next attempt, or None to stop.

        A reason the session itself found (a refusal, the host's bye, a heartbeat timeout)
        takes precedence over the shell's (a reset, end of stream).
        """
        if self._verdict is not None:
            failure, reason = self._verdict
            self._verdict = None
        self._conn = None
        self._tls = None
        self._outbox.link_lost()
        self._typing = (False, None)
        if self._closing:
            failure, reason = FailureKind.CLOSED, reason or "left the chat"
        final = self._closing or is_final(failure) or not self.config.reconnect or not self._ever_connected
        if final:
            self._attempt = -1
            self._set_state(ClientState.DISCONNECTED, reason, failure)
            self._events += self._outbox.give_up("not connected")
            return None
        delay = reconnect_delay(self.config.backoff, self._attempt, self._rng)
        self._attempt += 1
        self._set_state(ClientState.RECONNECTING, reason, failure, retry_in=delay)
        return delay

    # -- internals ------------------------------------------------------------------------

    def _send(self, event: ev.Event) -> None:
        assert self._conn is not None
        self._output += self._conn.send(event)

    def _set_state(
        self,
        state: ClientState,
        reason: str = "",
        failure: FailureKind | None = None,
        retry_in: float | None = None,
    ) -> None:
        self._state = state
        self._events.append(StateChanged(state, reason, failure, retry_in))

    def _flush_outbox(self, now: float) -> None:
        if not self.open:
            return
        for entry in self._outbox.due(now, SEND_WINDOW):
            wait = self._pacing.take(now) if self._pacing else 0.0
            if wait:
                self._outbox.retry_later(entry, now + wait)
                return
            self._outbox.mark_sent(entry)
            self._send(entry.say)

    def _on_event(self, event: ev.Event, now: float) -> LinkVerdict:
        match event:
            case ev.Welcome():
                self._welcomed(event, now)
            case ev.Refuse(code=code, text=text):
                self._verdict = (refusal_failure(code), text)
                return LinkVerdict.CLOSE
            case ev.Ack() | ev.Held():  # a held message waits on the host for `to`: taken too
                if self._acknowledged(event, now):
                    self._flush_outbox(now)
            case ev.Error(ref=ref) if ref is not None and ref in self._outbox:
                failed = self._outbox.refuse(event, now)
                if failed is not None:  # else: it goes again once the rate limit allows
                    self._events.append(failed)
                    self._flush_outbox(now)
            case ev.ChatMessage(id=message_id):
                if self._seen.add(message_id):
                    self._events.append(event)
            case ev.Mail(messages=kept):  # kept for us while we were away: shown once, then `got`
                self._events.extend(message for message in kept if self._seen.add(message.id))
                self._send(ev.Got(ids=tuple(message.id for message in kept)))
            case ev.Renamed(old=old, new=new):
                if old == self.nick:
                    self.nick = new
                self._events.append(event)
            case ev.Ping():
                self._send(event.reply())
            case ev.Pong(token=token):
                sent = self._pings.pop(token, None)
                if sent is not None:
                    self._events.append(LatencyMeasured(now - sent))
            case ev.Bye(reason=reason, cause=cause):
                failure = bye_failure(cause)
                self._verdict = (failure, reason or "the host closed the chat")
                return LinkVerdict.CLOSE
            case ConnectionClosed():
                if self._verdict is None:
                    self._verdict = (FailureKind.LOST, "the host closed the connection")
                return LinkVerdict.CLOSE
            case ev.Members(members=members):
                self.members = members
                self._events.append(event)
            case _:
                self._events.append(event)
        return LinkVerdict.KEEP

    def _welcomed(self, welcome: ev.Welcome, now: float) -> None:
        self.nick = welcome.nick
        self.room = welcome.room
        self.members = welcome.members
        self._ever_connected = True
        self._attempt = 0
        if welcome.heartbeat > 0:
            self._heartbeat = min(self.config.heartbeat_interval, welcome.heartbeat)
        self._pacing = pacing_for(welcome, now)
        fresh, acks = read_history(welcome.history, self.client_id, self._outbox.ids(), self._seen)
        self._events.append(dataclasses.replace(welcome, history=fresh))
        self._set_state(ClientState.CONNECTED)
        for ack in acks:  # ours, taken by the host, their acks lost with the link: not resent
            self._acknowledged(ack, now)
        self._outbox.resend_unconfirmed(welcome.history, now)  # acked, but its host died too soon
        self._flush_outbox(now)

    def _acknowledged(self, ack: ev.Ack | ev.Held, now: float) -> bool:
        """The host took pending message `ack.id` (False if not pending): `Delivered`, or `Held`
        (not again for a message sent again after a crash: `Outbox.resend_unconfirmed`)."""
        entry = self._outbox.settle(ack, now)
        if entry is None:
            return False
        self._seen.add(ack.msg_id)
        if not entry.resent:
            self._events.append(Delivered(ack.id, ack.msg_id, ack.time) if type(ack) is ev.Ack else ack)
        return True
