"""The host's link to the NATS cluster: nats-py in a thread of its own, with its own loop.

nats-py is asyncio-only and the host's service thread must never wait on the network, so
`Backbone` owns one thread running one asyncio loop (`start`, `stop` joins it). The
service thread talks to it through three thread-safe calls that never block: `publish`
(room messages, kept in order in a bounded list), `announce` (this host's member list,
only the newest kept) and `take` (what came from the cluster, in a bounded list, the
service thread woken by the `wake` callable given). The loop never touches the room.

What the loop does (the behaviour measured in ENGINEERING.md, "NATS JetStream"):
- makes sure the room's stream exists (R3 on a 3-node cluster), reads its newest messages
  back for the history (`Replayed`), then reads on with this host's durable pull consumer,
  which resumes after its last acknowledged message when the host restarts (`Stored`);
- publishes each message with its LanChat id as `Nats-Msg-Id`, pipelined, and retries
  one that timed out with the same id until the cluster stored it (a leader re-election
  takes about 11 s): exactly once in the stream. One the stream already held (a member's
  resend through another host) is reported as `Duplicate`;
- announces the member list on the presence subject and hands on the others' (`Presence`);
- carries private messages to and from the room's other hosts (`private.PrivateLane`).
Every NATS operation is retried while the cluster is unreachable, until `stop`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from net.backbone.config import BackboneConfig
from net.backbone.private import PrivateDone, PrivateIn, PrivateLane
from net.backbone.wire import (
    BadPayload,
    Presence,
    RoomNames,
    consumer_name,
    message_payload,
    presence_payload,
    read_message,
    read_presence,
)
from net.protocol import events as ev

log = logging.getLogger(__name__)

T = TypeVar("T")

#: At most this many messages wait to be published, and this many items to be taken.
MAX_OUTBOUND = 100_000
MAX_INBOUND = 20_000
#: Messages in one pipelined publish and one fetch.
PUBLISH_BATCH = 512
FETCH_BATCH = 256
#: How long `stop` lets the loop finish what it has (publishes, the goodbye).
STOP_SECONDS = 1.5


@dataclass(frozen=True, slots=True)
class Stored:
    """A room message as the stream keeps it, with its place (`seq`) in the stream's order."""

    seq: int
    message: ev.ChatMessage


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The stream already held the message published as `msg_id`: it is stored, once."""

    msg_id: str


@dataclass(frozen=True, slots=True)
class Replayed:
    """The stream's newest messages when this host started, oldest first, up to `last_seq`."""

    messages: tuple[ev.ChatMessage, ...]
    last_seq: int


Inbound = Stored | Duplicate | Replayed | Presence | PrivateIn | PrivateDone


class Backbone:
    """The thread that speaks NATS for one host of one room (see the module docstring)."""

    def __init__(
        self, config: BackboneConfig, room: str, host_id: str, history: int, wake: Callable[[], None]
    ) -> None:
        self.config = config
        self.names = RoomNames.of(room)
        self.host_id = host_id
        self._history = history
        self._wake = wake
        self._lock = threading.Lock()
        self._outbound: list[ev.ChatMessage] = []
        self._inbound: deque[Inbound] = deque()
        self._presence: Presence | None = None
        self._stopping = threading.Event()
        #: Set once the stream is there and its history was handed over.
        self.ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kick: asyncio.Event | None = None
        #: Private messages for members of other hosts (`send`), and from them (`answer`).
        self.private = PrivateLane(self.names, host_id, config.request_timeout, self._deliver)

    # -- for the service thread -----------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lanchat-backbone", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_SECONDS + 0.5) -> None:
        """Finish (say this host is gone, publish what waits for up to 1.5 s) and join."""
        self._stopping.set()
        self._poke()
        self.private.poke()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the backbone thread is still running after stop")

    def publish(self, messages: list[ev.ChatMessage]) -> bool:
        """Queue room messages for the stream, in order; False (nothing queued) when full."""
        with self._lock:
            if len(self._outbound) + len(messages) > MAX_OUTBOUND:
                return False
            self._outbound.extend(messages)
        self._poke()
        return True

    def announce(self, presence: Presence) -> None:
        """This host's member list changed: announce it now (and again every interval)."""
        with self._lock:
            self._presence = presence
        self._poke()

    def take(self) -> list[Inbound]:
        with self._lock:
            items = list(self._inbound)
            self._inbound.clear()
        return items

    # -- the thread -----------------------------------------------------------------------

    def _poke(self) -> None:
        loop, kick = self._loop, self._kick
        if loop is not None and kick is not None:
            try:
                loop.call_soon_threadsafe(kick.set)
            except RuntimeError:
                pass  # the loop has finished

    def _deliver(self, items: list[Inbound]) -> None:
        if items:
            with self._lock:
                self._inbound.extend(items)
            self._wake()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._main())
        except Exception:
            log.exception("the backbone thread failed")
        finally:
            self._loop = None
            _finish_tasks(loop)
            loop.close()

    async def _main(self) -> None:
        import nats  # only a host on a backbone loads nats-py

        self._kick = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        servers = list(self.config.servers)
        nc = await self._retry(
            "connect to the NATS cluster",
            lambda: nats.connect(
                servers=servers,
                name=f"lanchat {self.host_id}",
                connect_timeout=self.config.request_timeout,
                reconnect_time_wait=0.25,
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                error_cb=self._connection_error,
            ),
        )
        if nc is None:
            return
        try:
            js = nc.jetstream(timeout=self.config.request_timeout)
            replicas = self.config.replicas or min(3, max(len(servers), len(nc.servers)))
            await self._retry("set up the room's stream", lambda: self._ensure_stream(js, replicas))
            last = await self._retry("read the room's history", lambda: self._replay(js))
            sub = await self._retry("open this host's consumer", lambda: self._consumer(js, last or 0))
            await nc.subscribe(self.names.presence, cb=self._on_presence)
            self.ready.set()
            log.info("on the backbone: stream %s, %d replicas", self.names.stream, replicas)
            tasks = [asyncio.create_task(self._publisher(js)), asyncio.create_task(self._announcer(nc))]
            tasks.append(asyncio.create_task(self.private.run(nc, self._stopping)))
            if sub is not None:
                tasks.append(asyncio.create_task(self._consumer_loop(sub)))
            await asyncio.gather(*tasks)
        finally:
            try:
                await asyncio.wait_for(nc.close(), STOP_SECONDS)
            except Exception as exc:
                log.debug("closing the NATS connection: %s", exc)

    async def _connection_error(self, exc: Exception) -> None:
        log.debug("NATS connection: %s", exc)

    async def _retry(self, what: str, operation: Callable[[], Awaitable[T]]) -> T | None:
        """`operation()` until it succeeds (None once `stop` is asked)."""
        delay, warned = 0.1, False
        while not self._stopping.is_set():
            try:
                return await operation()
            except Exception as exc:
                if not warned:
                    log.warning("cannot %s yet (%s); trying again", what, type(exc).__name__)
                    warned = True
                await self._pause(delay)
                delay = min(1.0, delay * 2)
        return None

    async def _pause(self, seconds: float) -> None:
        """Sleep `seconds`, or less when poked."""
        assert self._kick is not None
        try:
            await asyncio.wait_for(self._kick.wait(), seconds)
        except TimeoutError:
            pass

    async def _ensure_stream(self, js: Any, replicas: int) -> None:
        from nats.js.errors import NotFoundError

        try:
            await js.stream_info(self.names.stream)
        except NotFoundError:
            await js.add_stream(
                name=self.names.stream,
                subjects=[self.names.subject],
                num_replicas=replicas,
                max_msgs=self.config.max_messages,
                duplicate_window=120.0,
            )

    async def _replay(self, js: Any) -> int:
        """Hand over the stream's newest messages (the history); the last sequence number."""
        from nats.js.errors import NotFoundError

        state = (await js.stream_info(self.names.stream)).state
        last = state.last_seq
        messages: list[ev.ChatMessage] = []
        for seq in range(max(state.first_seq, last - self._history + 1, 1), last + 1):
            try:
                raw = await js.get_msg(self.names.stream, seq)
            except NotFoundError:
                continue  # deleted, or gone past the limit meanwhile
            try:
                messages.append(read_message(raw.data or b""))
            except BadPayload as exc:
                log.warning("ignoring message %d of the room's stream: %s", seq, exc)
        self._deliver([Replayed(tuple(messages), last)])
        return int(last)

    async def _consumer(self, js: Any, last: int) -> Any:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=last + 1,
            max_ack_pending=MAX_INBOUND,
            ack_wait=30.0,
        )
        durable = consumer_name(self.host_id)
        names = self.names
        return await js.pull_subscribe(names.subject, durable=durable, stream=names.stream, config=config)

    async def _consumer_loop(self, sub: Any) -> None:
        import nats.errors

        while not self._stopping.is_set():
            if len(self._inbound) >= MAX_INBOUND:  # the service thread is behind: wait for it
                await asyncio.sleep(0.005)
                continue
            try:
                messages = await sub.fetch(FETCH_BATCH, timeout=0.5)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except Exception as exc:
                log.debug("fetching from the stream: %s", exc)
                await self._pause(0.25)
                continue
            items: list[Inbound] = []
            for message in messages:
                try:
                    items.append(Stored(message.metadata.sequence.stream, read_message(message.data)))
                except BadPayload as exc:
                    log.warning("ignoring a message of the room's stream: %s", exc)
            self._deliver(items)
            for message in messages:
                try:
                    await message.ack()
                except Exception as exc:  # redelivered later: the host drops what it has
                    log.debug("acknowledging: %s", exc)

    async def _publisher(self, js: Any) -> None:
        assert self._kick is not None
        while True:
            with self._lock:
                batch = self._outbound[:PUBLISH_BATCH]
                del self._outbound[:PUBLISH_BATCH]
            if not batch:
                if self._stopping.is_set():
                    return
                self._kick.clear()
                await self._pause(self.config.presence_interval)
                continue
            duplicates = await self._publish_batch(js, batch)
            self._deliver([Duplicate(msg_id) for msg_id in duplicates])

    async def _publish_batch(self, js: Any, batch: list[ev.ChatMessage]) -> list[str]:
        """Publish `batch` pipelined; retry what was not confirmed, one by one, with the same
        ids; the ids the stream already held."""
        subject, timeout = self.names.subject, self.config.request_timeout
        futures = []
        for message in batch:
            try:
                headers = {"Nats-Msg-Id": message.id}
                futures.append(await js.publish_async(subject, message_payload(message), headers=headers))
            except Exception:
                futures.append(None)
        pending = [future for future in futures if future is not None]
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        duplicates: list[str] = []
        for message, future in zip(batch, futures, strict=True):
            ack = None
            if future is not None and future.done() and not future.cancelled() and future.exception() is None:
                ack = future.result()
            elif future is not None:
                future.cancel()
            if ack is None:
                again = _publisher_of(js, subject, message, timeout)
                ack = await self._retry("publish to the room's stream", again)
                if ack is None:
                    log.warning("the host stopped before the stream took a message")
                    continue
            if ack.duplicate:
                duplicates.append(message.id)
        return duplicates

    async def _announcer(self, nc: Any) -> None:
        assert self._kick is not None
        sent: Presence | None = None
        while not self._stopping.is_set():
            with self._lock:
                presence = self._presence
            if presence is not None:
                try:
                    await nc.publish(self.names.presence, presence_payload(presence))
                    sent = presence
                except Exception as exc:
                    log.debug("announcing the members: %s", exc)
            deadline = asyncio.get_running_loop().time() + self.config.presence_interval
            while not self._stopping.is_set() and self._presence is sent:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                await self._pause(remaining)
                self._kick.clear()
        try:  # goodbye: the other hosts forget this one at once instead of after the timeout
            await nc.publish(self.names.presence, presence_payload(Presence(self.host_id, "", ())))
            await nc.flush(timeout=0.5)
        except Exception as exc:
            log.debug("saying goodbye on the backbone: %s", exc)

    def _on_presence_item(self, presence: Presence) -> None:
        if presence.host_id != self.host_id and len(self._inbound) < 2 * MAX_INBOUND:
            self._deliver([presence])

    async def _on_presence(self, msg: Any) -> None:
        try:
            self._on_presence_item(read_presence(msg.data))
        except BadPayload as exc:
            log.warning("ignoring a presence announcement: %s", exc)


def _finish_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what nats-py left running (its subscriptions' readers) and let it end, so that
    closing the loop does not leave coroutines to complain when they are collected."""
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    try:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    except Exception as exc:
        log.debug("finishing the backbone's tasks: %s", exc)


def _publisher_of(js: Any, subject: str, message: ev.ChatMessage, timeout: float) -> Callable[[], Any]:
    """One publish of `message` with its id, as often as it is called (the retries)."""
    headers = {"Nats-Msg-Id": message.id}
    return lambda: js.publish(subject, message_payload(message), timeout=timeout, headers=headers)
