"""The window's member can take its room over (docs/PROTOCOL.md, "Handover"). No Tk.

A room outlives its host only if some member offers to host it: `Takeovers.clients` wraps
the window's client factory so that every join that follows a handover announces a
`HostOffer`: this PC's key, a port that is free now, and a `start` that hosts the room
with what the window's own Host button would use (`gui.host_start.host_config`: TLS with
this installation's identity, the room's journal, the transport of the join, plain-text
members as the settings say, the room's password when the join gave one), discoverable
like any host started from the window. The old host names the window's member in its
signed list; when the member's turn comes, its client calls `start` on its I/O thread.

That host must then belong to the window: `start` posts `HostTakenOver`, and `tap` (on the
main thread, before the controller sees the batch) makes the controller's session own the
host and the status bar say "hosting". In any case the wrapped client's `close` stops the
host it started, so a window that left meanwhile leaves nothing running.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

from gui.client_wrapper import ClientWrapper
from gui.host_start import host_config
from gui.ports import ClientFactory, HostFactory
from gui.settings import Settings
from hosting import start_discoverable_host
from net.api import (
    ChatClient,
    ChatHost,
    ClientConfig,
    EventSink,
    HostOffer,
    HostStartError,
    Takeover,
    Transport,
)
from net.ports import next_free_port

if TYPE_CHECKING:
    from gui.model.chat import ChatModel
    from net.secure.identity import Identity

log = logging.getLogger(__name__)

Tap = Callable[[object, list[object]], list[object]]


class _Session(Protocol):
    """What the tap changes of the controller's session (`gui.controller._Session`)."""

    host: ChatHost | None
    model: ChatModel


@dataclass(frozen=True, slots=True)
class HostTakenOver:
    """This window's member took its room over: `host` serves it from this PC now."""

    host: ChatHost


class Takeovers:
    """Offers to host for the window's joins, and the host of a takeover handed to the
    session (see the module docstring). `identity` gives this installation's key."""

    def __init__(
        self, settings: Settings, identity: Callable[[], Identity], host_factory: HostFactory
    ) -> None:
        self.settings = settings
        self._identity = identity
        self._make_host = host_factory

    def clients(self, make: ClientFactory) -> ClientFactory:
        """`make`, with an offer to host in the config of every client that follows a handover."""

        def factory(transport: Transport, config: ClientConfig, sink: EventSink) -> ChatClient:
            takeover = self._takeover(transport, config, sink)
            if takeover is None:
                return make(transport, config, sink)
            client = make(transport, dataclasses.replace(config, host_offer=takeover.offer), sink)
            return _TakeoverClient(client, takeover)

        return factory

    def tap(self, inner: Tap) -> Tap:
        """The controller's tap `inner`, after which a takeover's host joins the session."""

        def tap(session: object, batch: list[object]) -> list[object]:
            batch = inner(session, batch)
            taken = [event for event in batch if isinstance(event, HostTakenOver)]
            if not taken:
                return batch
            if session is not None:
                owner = cast(_Session, session)
                owner.host = taken[-1].host  # stopped with the session (`Controller.end_session`)
                owner.model.hosting_here()
            return [event for event in batch if not isinstance(event, HostTakenOver)]

        return tap

    def _takeover(self, transport: Transport, config: ClientConfig, sink: EventSink) -> _Takeover | None:
        if not config.follow_handover or not config.encrypted or config.host_offer is not None:
            return None
        try:
            identity = self._identity()
            port = next_free_port(transport, self.settings.default_port)
        except Exception as exc:  # no offer: the window still follows the room
            log.info("this window cannot offer to host its room: %s", exc)
            return None
        settings = dataclasses.replace(self.settings)  # as they are now (read on another thread)
        return _Takeover(settings, transport, port, identity, config, sink, self._make_host)


class _Takeover:
    """One join's offer, and the host it started (if it did)."""

    def __init__(
        self,
        settings: Settings,
        transport: Transport,
        port: int,
        identity: Identity,
        config: ClientConfig,
        sink: EventSink,
        make_host: HostFactory,
    ) -> None:
        self.offer = HostOffer(port, identity.fingerprint, self.start)
        self._settings = settings
        self._transport = transport
        self._identity = identity
        self._config = config
        self._sink = sink
        self._make_host = make_host
        self._lock = threading.Lock()
        self._closed = False
        self.host: ChatHost | None = None

    def start(self, takeover: Takeover) -> None:
        """Host the room (the client's I/O thread); raises HostStartError."""
        base = host_config(
            self._settings,
            self.offer.port,
            takeover.room,
            owner=self._config.client_id,
            identity=self._identity,
            password=self._config.password or "",
        )
        config = dataclasses.replace(base, epoch=takeover.epoch, seed_history=takeover.history)
        with self._lock:
            if self._closed:
                raise HostStartError("the window left the chat")
            try:
                host = start_discoverable_host(
                    self._transport,
                    config,
                    self._sink,
                    port_given=True,
                    nick=self._config.nick,
                    make_host=self._make_host,
                )
            except HostStartError:
                raise
            except Exception as exc:  # a host that cannot start must not end the client
                raise HostStartError(str(exc)) from exc
            self.host = host
        log.info("took the room %r over, hosting it on port %d", takeover.room, host.port)
        self._sink(HostTakenOver(host))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            host, self.host = self.host, None
        if host is not None:
            host.stop("the host closed the chat")


class _TakeoverClient(ClientWrapper):
    """A `ChatClient` whose `close` also stops the host its member took over."""

    def __init__(self, client: ChatClient, takeover: _Takeover) -> None:
        super().__init__(client)
        self._takeover = takeover

    def close(self, reason: str = "") -> None:
        try:
            self._client.close(reason)
        finally:
            self._takeover.close()
