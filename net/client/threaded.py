"""What the TCP and UDP clients share: one I/O thread around a `ClientSession`.

Methods for callers (any thread): the `net.api.ChatClient` interface. They only change
the session under a lock and poke a wake-up socketpair, so they never wait on the network:
a host that stops reading cannot freeze the window.

Hooks for subclasses (run on the I/O thread): `_connect()` opens one link to the host or
raises `ConnectFailed`; `_serve(link)` runs that link until it ends, closes it, and
returns why it ended. The reconnect loop, the backoff waits that `close()` cuts short and
the delivery of events to the owner live here once.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from net.addresses import AddrInfo, format_address
from net.api import ClientConfig, ClientState, EventSink, FailureKind
from net.client.session import ClientSession
from net.socket_errors import ConnectFailed, describe_connect_error
from net.wakeup import Wakeup

log = logging.getLogger(__name__)

Link = TypeVar("Link")


class ThreadedClient:
    """Base of the transport clients (see the module docstring for callers vs hooks)."""

    #: Names the I/O thread, e.g. "tcp-client 10.0.0.5:47800".
    thread_label = "client"

    def __init__(self, config: ClientConfig, on_event: EventSink) -> None:
        self.config = config
        self._on_event = on_event
        self._session = ClientSession(config)
        self._lock = threading.Lock()
        self._wakeup = Wakeup()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._where = format_address(config.host, config.port)

    # -- for callers (any thread) -----------------------------------------------------------

    @property
    def state(self) -> ClientState:
        return self._session.state

    @property
    def nick(self) -> str:
        return self._session.nick

    @property
    def client_id(self) -> str:
        return self._session.client_id

    @property
    def resume_secret(self) -> str:
        """What proves this client's session to the host on a reconnect (keep it private)."""
        return self._session.resume_secret

    @property
    def address(self) -> str:
        return self._where

    @property
    def pending(self) -> list[str]:
        """Local ids of messages not yet acknowledged by the host."""
        with self._lock:
            return self._session.pending

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("a client starts once")
        name = f"{self.thread_label} {self._where}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def send_message(self, text: str, *, to: str | None = None, action: bool = False) -> str:
        with self._lock:
            local_id = self._session.send_message(text, to=to, action=action, now=time.monotonic())
        self._wake()
        return local_id

    def rename(self, nick: str) -> None:
        with self._lock:
            self._session.rename(nick)
        self._wake()

    def set_typing(self, active: bool, to: str | None = None) -> None:
        with self._lock:
            self._session.set_typing(active, to)
        self._wake()

    def request_members(self) -> None:
        with self._lock:
            self._session.request_members()
        self._wake()

    def close(self, reason: str = "") -> None:
        """Say bye, stop, and join the I/O thread (within 2 s)."""
        with self._lock:
            self._session.close(reason)
        self._stopping.set()
        self._wake()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)
            if thread.is_alive():
                log.warning("client thread for %s did not stop in time", self._where)
        if thread is None or not thread.is_alive():
            self._wakeup.close()

    def _wake(self) -> None:
        self._wakeup.wake()

    # -- hooks for subclasses -------------------------------------------------------------

    def _try_addresses(self, sock_type: int, open_link: Callable[[AddrInfo, float], Link]) -> Link:
        """A link to the first of the host's addresses that `open_link(addrinfo, deadline)`
        opens; raises ConnectFailed worded for the last failure (or the lookup's)."""
        try:
            infos = socket.getaddrinfo(self.config.host, self.config.port, type=sock_type)
        except OSError as exc:
            raise describe_connect_error(exc, self._where) from None
        deadline = time.monotonic() + self.config.connect_timeout
        last_error: OSError = TimeoutError()
        for info in infos:
            try:
                return open_link(info, deadline)
            except OSError as exc:
                last_error = exc
                if self._stopping.is_set() or time.monotonic() >= deadline:
                    break
        raise describe_connect_error(last_error, self._where)

    def _connect(self) -> Any:
        """Open one link to the host; raise ConnectFailed with a sentence when it can't."""
        raise NotImplementedError

    def _serve(self, link: Any) -> tuple[FailureKind, str]:
        """Run `link` until it ends, close it, and return why it ended."""
        raise NotImplementedError

    # -- the I/O thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    link = self._connect()
                except ConnectFailed as failed:
                    delay = self._link_down(failed.failure, failed.text)
                else:
                    failure, reason = self._serve(link)
                    delay = self._link_down(failure, reason)
                if delay is None:
                    return
                self._sleep(delay)
            self._link_down(FailureKind.CLOSED, "left the chat")
        except Exception:
            log.exception("client thread for %s failed", self._where)
            self._link_down(FailureKind.LOST, "internal error")

    def _link_down(self, failure: FailureKind, reason: str) -> float | None:
        with self._lock:
            if self._session.finished:
                return None
            delay = self._session.link_down(failure, reason)
        self._dispatch()
        return delay

    def _sleep(self, seconds: float) -> None:
        """Wait before reconnecting; close() cuts the wait short."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            select.select([self._wakeup.reader], [], [], remaining)
            self._wakeup.drain()

    def _dispatch(self) -> None:
        """Hand the session's events to the owner, outside the lock."""
        with self._lock:
            events = self._session.take_events()
        for event in events:
            try:
                self._on_event(event)
            except Exception:
                log.exception("event handler failed for %r", event)
