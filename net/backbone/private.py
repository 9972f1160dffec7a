"""Private messages between two hosts of a room on the backbone: one NATS request each.

The room's stream keeps what everyone may read; a private message must not be in it. A
message for a member of another host is therefore a NATS request on that host's private
subject (`RoomNames.private_subject`), not kept anywhere: the host holding the member hands
it over and answers `DELIVERED` (or `NOT_HERE`: the member left meanwhile), and only then
does the sender's host ack the sender. A request not answered in `request_timeout` is sent
again with the same message (the member's client drops a second copy by its id), up to
`ATTEMPTS` times; then the sender is told it was not delivered.

Only the two hosts subscribe to these subjects, but the NATS servers route them: whoever
runs the cluster, or holds credentials allowed to subscribe to `lanchat.>`, can read them
(PROTOCOL.md, "Backbone"). `PrivateLane` is the backbone thread's side; the service thread
calls `send` and `answer`, which never block.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from net.backbone.wire import DELIVERED, NOT_HERE, BadPayload, RoomNames, message_payload, read_private
from net.protocol import events as ev

log = logging.getLogger(__name__)

#: Private messages waiting to go, and answers waiting to go, each at most this many.
MAX_WAITING = 10_000
#: Requests in flight at once.
MAX_IN_FLIGHT = 64
#: Tries of one request before the sender is told it was not delivered.
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class PrivateIn:
    """A private message from another host for a member here: answer with `answer(reply, ...)`."""

    message: ev.ChatMessage
    reply: str


@dataclass(frozen=True, slots=True)
class PrivateDone:
    """The private message `msg_id` sent to another host was `delivered` to its member, or not."""

    msg_id: str
    delivered: bool


class PrivateLane:
    """One host's private messages to and from the room's other hosts (module docstring)."""

    def __init__(
        self, names: RoomNames, host_id: str, timeout: float, deliver: Callable[[list[Any]], None]
    ) -> None:
        self._names, self._host_id, self._timeout = names, host_id, timeout
        self._deliver = deliver
        self._lock = threading.Lock()
        self._outbound: deque[tuple[str, ev.ChatMessage]] = deque()
        self._answers: deque[tuple[str, bytes]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kick: asyncio.Event | None = None

    # -- the service thread ---------------------------------------------------------------

    def send(self, host_id: str, message: ev.ChatMessage) -> bool:
        """Carry `message` to host `host_id`; False (dropped) when too many wait."""
        with self._lock:
            if len(self._outbound) >= MAX_WAITING:
                return False
            self._outbound.append((host_id, message))
        self.poke()
        return True

    def answer(self, reply: str, delivered: bool) -> None:
        with self._lock:
            if len(self._answers) < MAX_WAITING and reply:
                self._answers.append((reply, DELIVERED if delivered else NOT_HERE))
        self.poke()

    def poke(self) -> None:
        loop, kick = self._loop, self._kick
        if loop is not None and kick is not None:
            try:
                loop.call_soon_threadsafe(kick.set)
            except RuntimeError:
                pass  # the loop has finished

    # -- the backbone thread --------------------------------------------------------------

    async def run(self, nc: Any, stopping: threading.Event) -> None:
        """Take this host's private subject and carry both ways until `stopping`."""
        self._loop, self._kick = asyncio.get_running_loop(), asyncio.Event()
        await nc.subscribe(self._names.private_subject(self._host_id), cb=self._on_request)
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        tasks: set[asyncio.Task[None]] = set()
        while not stopping.is_set():
            self._kick.clear()
            with self._lock:
                outbound, answers = list(self._outbound), list(self._answers)
                self._outbound.clear()
                self._answers.clear()
            for reply, answer in answers:
                try:
                    await nc.publish(reply, answer)
                except Exception as exc:  # the other host asks again
                    log.debug("answering a private message: %s", exc)
            for host_id, message in outbound:
                await slots.acquire()
                task = asyncio.create_task(self._request(nc, host_id, message, slots))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            try:
                await asyncio.wait_for(self._kick.wait(), 0.5)
            except TimeoutError:
                pass
        for task in list(tasks):
            task.cancel()

    async def _request(
        self, nc: Any, host_id: str, message: ev.ChatMessage, slots: asyncio.Semaphore
    ) -> None:
        subject, payload, delivered = self._names.private_subject(host_id), message_payload(message), False
        try:
            for _attempt in range(ATTEMPTS):
                try:
                    answer = await nc.request(subject, payload, timeout=self._timeout)
                except Exception as exc:  # a timeout, no responders (the host is gone), a reconnect
                    log.debug("private message to another host: %s", type(exc).__name__)
                    await asyncio.sleep(0.1)
                    continue
                delivered = answer.data == DELIVERED
                break
        finally:
            slots.release()
        self._deliver([PrivateDone(message.id, delivered)])

    async def _on_request(self, msg: Any) -> None:
        try:
            message = read_private(msg.data)
        except BadPayload as exc:
            log.warning("ignoring a private message from the backbone: %s", exc)
            return
        if msg.reply:
            self._deliver([PrivateIn(message, msg.reply)])
