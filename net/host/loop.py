"""The service thread's loop, the same for both hosts; transports fill in the I/O.

Hooks for subclasses (all on the service thread): `_serve(until)` waits for input until
the monotonic time `until` at the latest (sooner when work is pending), reads it and
hands it to the driver; `_write(now, timers_ran)` sends what the round produced;
`_close_everything(reason)` says bye to everyone and closes every connection; and
`request_stop(reason)` is the one method other threads call.
"""

from __future__ import annotations

import logging
import time
from typing import Generic, Protocol

from net.host.driver import HostIO, P, RoomDriver
from net.host.journal import JournalFactory
from net.host.peer import PLAINTEXT_ONLY, Security
from net.protocol.events import ChatMessage
from net.protocol.nicknames import load_tables
from net.room import Room

log = logging.getLogger(__name__)


class SharedPump(Protocol):
    def pump(self, timers_ran: bool) -> None:
        """Serve what the backbone handed over (`net.backbone.shared.SharedRoom.pump`)."""


class ServiceLoop(Generic[P]):
    """Runs a room over one transport until asked to stop (see the module docstring)."""

    def __init__(
        self,
        room: Room,
        heartbeat_timeout: float,
        handshake_timeout: float,
        close_grace: float,
        security: Security = PLAINTEXT_ONLY,
    ) -> None:
        """The subclass is the driver's `HostIO`: it must implement that protocol."""
        io: HostIO[P] = self  # type: ignore[assignment]
        self.room = room
        self.security = security  # how new peers are met (TLS, plain text)
        self.driver = RoomDriver(
            room,
            io,
            heartbeat_timeout=heartbeat_timeout,
            handshake_timeout=handshake_timeout,
            close_grace=close_grace,
        )
        self.member_count = 0  # read by other threads; an int assignment is atomic
        self._next_check = 0.0
        self._stop_reason: str | None = None
        #: Opens the room's journal on the service thread, before the first round (set by
        #: the owner before `run`; None: no journal).
        self.journal_factory: JournalFactory | None = None
        #: Recent messages a successor starts with (`HostConfig.seed_history`).
        self.seed_history: tuple[ChatMessage, ...] = ()
        #: A room on a backbone (`net.backbone.shared.SharedRoom`), served after each wait.
        self.shared: SharedPump | None = None

    def request_stop(self, reason: str) -> None:
        """Ask the loop to end (from any thread); the first reason given is kept."""
        raise NotImplementedError

    def wake(self) -> None:
        """Wake the loop from its wait (any thread): work from the backbone waits."""
        raise NotImplementedError

    def run(self) -> str:
        """Serve until asked to stop; returns the reason the loop ended."""
        reason = "host stopped"
        try:
            load_tables()  # on the service thread: nobody's join waits for them
            if self.journal_factory is not None:
                self.driver.open_journal(self.journal_factory)
            if self.seed_history:
                self.driver.seed_history(self.seed_history)
            self._start()
            while self._stop_reason is None:
                self._serve(self._next_check)
                now = time.monotonic()
                timers_ran = now >= self._next_check
                if timers_ran:
                    self._check_timers(now)
                    self._next_check = now + self.driver.tick
                if self.shared is not None:
                    self.shared.pump(timers_ran)
                self._write(now, timers_ran)
                self.member_count = len(self.room)
            reason = self._stop_reason
            self.driver.prepare_handover()
        except Exception as exc:
            log.exception("the host's service loop failed")
            reason = f"host failed: {exc}"
        finally:
            try:
                self._close_everything(reason)
            finally:
                self.driver.close_journal()
        return reason

    # -- hooks ----------------------------------------------------------------------------

    def _start(self) -> None:
        """Set up what the loop needs before the first round (on the service thread)."""

    def _check_timers(self, now: float) -> None:
        self.driver.check_timers(now)

    def _serve(self, until: float) -> None:
        raise NotImplementedError

    def _write(self, now: float, timers_ran: bool) -> None:
        raise NotImplementedError

    def _close_everything(self, reason: str) -> None:
        raise NotImplementedError
