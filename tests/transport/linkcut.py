"""A relay on loopback, for TCP or UDP, that can make the host's answers on a member's link
vanish and then end that link, the way a connection dies between a message reaching the
host and its acknowledgement reaching the member.

Members connect to the relay's port instead of the host's. Each link (a TCP connection, or
a UDP client socket's address) gets its own connection or socket to the host, so the host
sees one peer per link, as without the relay. Everything passes both ways until the test
acts on the links open at that moment:

- `deafen()`: from now on what the host sends on them is dropped; the member still talks.
- `cut()`: they end. TCP: both connections are closed. UDP has nothing to close: the link's
  socket to the host is closed and whatever its member sends is dropped, so the member
  notices only the silence (its heartbeat timeout), as when a cable is pulled.

Links opened later pass everything, so a reconnect goes through. Both calls return once the
relay's thread applies them. One thread does all the I/O; `stop()` stops and joins it.
"""

from __future__ import annotations

import selectors
import socket
import threading
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Link:
    upstream: socket.socket  # to the host
    client: socket.socket | None = None  # TCP: the member's connection (UDP: the front socket)
    address: tuple | None = None  # UDP: the member's address
    deaf: bool = False


@dataclass
class _Request:
    action: str
    done: threading.Event = field(default_factory=threading.Event)


class CuttableRelay:
    def __init__(self, transport: str, host_port: int) -> None:
        self.transport = transport
        self._host = ("127.0.0.1", host_port)
        kind = socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM
        self._front = socket.socket(socket.AF_INET, kind)
        self._front.bind(("127.0.0.1", 0))
        if transport == "tcp":
            self._front.listen(8)
        self._front.setblocking(False)
        self.port = self._front.getsockname()[1]
        #: Bytes (TCP) or datagrams (UDP) from the host that `deafen` made vanish.
        self.dropped_to_client = 0
        self._links: list[_Link] = []
        self._by_address: dict[tuple, _Link] = {}  # UDP: each member's link by its address
        self._dead: set[tuple] = set()  # UDP: addresses of links that were cut
        self._requests: list[_Request] = []
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._front, selectors.EVENT_READ, "front")
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._selector.register(self._wake_reader, selectors.EVENT_READ, "wake")
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cuttable-relay", daemon=True)

    def start(self) -> CuttableRelay:
        self._thread.start()
        return self

    def deafen(self) -> None:
        self._ask("deafen")

    def cut(self) -> None:
        self._ask("cut")

    def stop(self) -> None:
        self._stopping.set()
        self._wake_writer.send(b"\0")
        self._thread.join(5.0)
        assert not self._thread.is_alive()
        for link in self._links:
            self._close(link)
        self._selector.close()
        for sock in (self._front, self._wake_reader, self._wake_writer):
            sock.close()

    def _ask(self, action: str) -> None:
        request = _Request(action)
        with self._lock:
            self._requests.append(request)
        self._wake_writer.send(b"\0")
        assert request.done.wait(5.0), f"the relay did not {action}"

    def _run(self) -> None:
        while not self._stopping.is_set():
            for key, _ in self._selector.select(0.5):
                if key.data == "wake":
                    self._wake_reader.recv(64)
                elif key.data == "front":
                    self._from_front()
                else:
                    link, from_host = key.data
                    self._forward(link, from_host)
            with self._lock:
                requests, self._requests = self._requests, []
            for request in requests:
                for link in list(self._links):
                    if request.action == "deafen":
                        link.deaf = True
                    else:
                        self._cut(link)
                request.done.set()

    def _from_front(self) -> None:
        if self.transport == "tcp":
            client, _ = self._front.accept()
            try:
                link = _Link(socket.create_connection(self._host, timeout=2.0), client=client)
            except OSError:
                client.close()  # no host: the member sees its connection end
                return
            for sock, from_host in ((client, False), (link.upstream, True)):
                sock.setblocking(True)
                self._selector.register(sock, selectors.EVENT_READ, (link, from_host))
            self._links.append(link)
            return
        for _ in range(256):
            try:
                data, address = self._front.recvfrom(65535)
            except (BlockingIOError, ConnectionError):
                return
            if address in self._dead:
                continue
            link = self._by_address.get(address)
            if link is None:
                upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                upstream.connect(self._host)
                upstream.setblocking(False)
                link = self._by_address[address] = _Link(upstream, address=address)
                self._links.append(link)
                self._selector.register(upstream, selectors.EVENT_READ, (link, True))
            try:
                link.upstream.send(data)
            except OSError:
                pass  # the host is gone: as lost as any datagram

    def _forward(self, link: _Link, from_host: bool) -> None:
        if link not in self._links:
            return  # cut by an earlier event of the same round
        if self.transport == "udp":
            for _ in range(256):
                try:
                    data = link.upstream.recv(65535)
                except (BlockingIOError, ConnectionError):
                    return
                if link.deaf:
                    self.dropped_to_client += 1
                else:
                    assert link.address is not None
                    try:
                        self._front.sendto(data, link.address)
                    except OSError:
                        pass  # the member's socket is gone: as lost as any datagram
            return
        assert link.client is not None
        source, destination = (link.upstream, link.client) if from_host else (link.client, link.upstream)
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._cut(link)  # one side ended: end the other too
        elif from_host and link.deaf:
            self.dropped_to_client += len(data)
        else:
            try:
                destination.sendall(data)
            except OSError:
                self._cut(link)

    def _cut(self, link: _Link) -> None:
        if link.address is not None:
            self._dead.add(link.address)
            self._by_address.pop(link.address, None)
        self._close(link)
        self._links.remove(link)

    def _close(self, link: _Link) -> None:
        for sock in (link.upstream, link.client):
            if sock is None or sock.fileno() < 0:
                continue
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()
