"""One chat session's file transfers: the engine attached to the client the controller makes.

`FileSharing.clients` wraps the controller's client factory: each client it makes gets a
`SessionFiles`, whose `FileTransfers` sees the client's events first (`deliver`: it takes
the file notices and hands on the rest to the session's sink) and sends its steps through
the client. The client is handed back wrapped (`_FilesClient`) so that closing it, which
the controller does when the session ends, also stops the transfers and joins the workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gui.client_wrapper import ClientWrapper
from gui.files.worker import Worker
from net.api import ChatClient, ClientConfig, EventSink
from net.discovery.destinations import loopback_only
from net.files.transfers import FileTransfers
from net.protocol import events as ev
from net.secure.identity import Identity

log = logging.getLogger(__name__)


class SessionFiles:
    """The file transfers of one client (see the module docstring). Made on the main thread."""

    def __init__(self, identity: Identity, config: ClientConfig, sink: EventSink) -> None:
        self.sink = sink  # the session's own (a later session never sees what this one posts)
        self.client: ChatClient | None = None
        self.transfers = FileTransfers(
            identity,
            self._send_step,
            sink,
            own_nick=lambda: self.client.nick if self.client is not None else config.nick,
            host_address=config.host,
            bind="127.0.0.1" if loopback_only() else "",
        )
        self.offers = Worker("file offers")  # hashing what is offered
        self.pictures = Worker("thumbnails")  # decoding received pictures
        self.serving = True
        try:
            self.transfers.start()
        except OSError as exc:  # offers need the port; receiving does not
            log.warning("file transfers: cannot listen (%s); offers are not possible", exc)
            self.serving = False

    def _send_step(self, step: ev.FileControl) -> bool:
        client = self.client
        send = getattr(client, "send_file_step", None)
        return bool(send(step)) if send is not None else False

    def close(self) -> None:
        self.offers.close()
        self.pictures.close()
        self.transfers.close()


def files_client(
    client: ChatClient, files: SessionFiles, on_close: Callable[[SessionFiles], None]
) -> ChatClient:
    files.client = client
    return _FilesClient(client, files, on_close)


class _FilesClient(ClientWrapper):
    """A `ChatClient` whose `close` also ends its session's file transfers."""

    def __init__(
        self, client: ChatClient, files: SessionFiles, on_close: Callable[[SessionFiles], None]
    ) -> None:
        super().__init__(client)
        self._files = files
        self._on_close = on_close

    def close(self, reason: str = "") -> None:
        try:
            self._files.close()
        finally:
            self._on_close(self._files)
            self._client.close(reason)
