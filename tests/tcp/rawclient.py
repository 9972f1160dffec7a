"""Test clients on plain sockets: a protocol client and a plain-text (`nc`-like) client.

Both are driven by the test's own thread (no background threads): `read()` takes what has
arrived, `wait_for()` reads until a condition holds. The protocol client can also send raw
bytes, which is how the tests inject malformed input.
"""

from __future__ import annotations

import itertools
import json
import selectors
import socket
import time
from collections.abc import Callable, Iterable

from net.protocol import Connection, Role
from net.protocol import events as ev
from net.protocol.connection import ConnectionClosed
from net.protocol.limits import PROTOCOL_VERSION

SEND_TIMEOUT = 10.0
DEFAULT_WAIT = 10.0


class _SocketClient:
    def __init__(
        self, port: int, *, host: str = "127.0.0.1", rcvbuf: int | None = None, source: str | None = None
    ) -> None:
        """`source`: the address to connect from (another loopback address is another computer)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if source is not None:
                sock.bind((source, 0))
            if rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.settimeout(SEND_TIMEOUT)
            sock.connect((host, port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.closed = False  # the host closed or reset the connection
        self.reset = False
        self.last_sent = time.monotonic()

    def send_raw(self, data: bytes) -> None:
        self.sock.settimeout(SEND_TIMEOUT)
        self.sock.sendall(data)
        self.last_sent = time.monotonic()

    def _receive(self, timeout: float) -> list[bytes]:
        """Chunks that arrived within `timeout` (0 = only what is there already)."""
        chunks: list[bytes] = []
        if self.closed:
            return chunks
        self.sock.settimeout(timeout if timeout > 0 else 0.0)
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except (BlockingIOError, TimeoutError):
                break
            except OSError:
                self.closed = self.reset = True
                break
            if not data:
                self.closed = True
                break
            chunks.append(data)
            self.sock.settimeout(0.0)  # take the rest without waiting
        return chunks

    def wait_closed(self, timeout: float = DEFAULT_WAIT) -> float:
        """Read (and keep) everything until the host closes; returns the seconds it took."""
        start = time.monotonic()
        deadline = start + timeout
        while not self.closed:
            if time.monotonic() > deadline:
                raise AssertionError(f"the host did not close the connection within {timeout} s")
            self.read(0.05)
        return time.monotonic() - start

    def read(self, timeout: float = 0.0) -> int:
        raise NotImplementedError

    def close(self) -> None:
        self.sock.close()


class RawClient(_SocketClient):
    """A protocol client; `events` holds everything the host sent, in order."""

    def __init__(self, port: int, **kwargs) -> None:
        super().__init__(port, **kwargs)
        self.conn = Connection(Role.CLIENT)
        self.events: list[ev.Event] = []
        self.nick = ""
        self.ping_every: float | None = None  # keep the heartbeat going while reading
        #: Set after joining to skip full validation and keep received frames as plain JSON
        #: objects in `objects` (load tests: the test thread must keep up with the host).
        self.light = False
        self.objects: list[dict] = []
        self._partial = b""
        self._ids = itertools.count(1)

    # -- sending ----------------------------------------------------------------------

    def send(self, event: ev.Event) -> None:
        self.send_raw(self.conn.send(event))

    def join(self, nick: str, *, client_id: str | None = None, timeout: float = DEFAULT_WAIT) -> ev.Welcome:
        self.send(ev.Hello(version=PROTOCOL_VERSION, nick=nick, client_id=client_id or f"id-{nick}"))
        answer = self.wait_for(lambda e: isinstance(e, ev.Welcome | ev.Refuse), timeout, "welcome")
        assert isinstance(answer, ev.Welcome), f"{nick} was refused: {answer}"
        self.nick = answer.nick
        return answer

    def say(self, text: str, *, to: str | None = None) -> str:
        message_id = f"m{next(self._ids)}"
        self.send(ev.Say(id=message_id, text=text, to=to))
        return message_id

    # -- receiving --------------------------------------------------------------------

    def read(self, timeout: float = 0.0) -> int:
        """Take what arrived (waiting up to `timeout`); returns how many bytes came."""
        due = self.ping_every is not None and time.monotonic() - self.last_sent > self.ping_every
        if due and not self.closed:
            try:
                self.send(ev.Ping(token="t"))
            except OSError:
                self.closed = True
        chunks = self._receive(timeout)
        if self.light:
            *lines, self._partial = (self._partial + b"".join(chunks)).split(b"\n")
            self.objects.extend(json.loads(line) for line in lines)
            return sum(map(len, chunks))
        for data in chunks:
            self.conn.receive_data(data)
        if self.closed:
            self.conn.receive_data(b"")
        self.events.extend(e for e in self.conn.events() if not isinstance(e, ConnectionClosed))
        return sum(map(len, chunks))

    def wait_for(
        self,
        match: Callable[[ev.Event], bool],
        timeout: float = DEFAULT_WAIT,
        what: str = "an event",
        *,
        since: int = 0,
    ) -> ev.Event:
        """The first received event (from index `since`) that `match`es, reading as needed."""
        deadline = time.monotonic() + timeout
        checked = since
        while True:
            for event in self.events[checked:]:
                if match(event):
                    return event
            checked = max(checked, len(self.events))
            if self.closed:
                raise AssertionError(f"{self.nick or 'client'}: closed while waiting for {what}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.nick or 'client'}: no {what} within {timeout} s")
            self.read(0.05)

    def messages(self, sender: str | None = None) -> list[ev.ChatMessage]:
        return [
            e for e in self.events if isinstance(e, ev.ChatMessage) and (sender is None or e.sender == sender)
        ]

    def errors(self, code: str | None = None) -> list[ev.Error]:
        return [e for e in self.events if isinstance(e, ev.Error) and (code is None or e.code == code)]


class TextClient(_SocketClient):
    """A person typing into `nc`: sends lines, collects the lines the host writes."""

    def __init__(self, port: int, **kwargs) -> None:
        super().__init__(port, **kwargs)
        self.lines: list[str] = []
        self._partial = b""

    def send_line(self, text: str) -> None:
        self.send_raw(text.encode("utf-8") + b"\n")

    def read(self, timeout: float = 0.0) -> int:
        chunks = self._receive(timeout)
        data = self._partial + b"".join(chunks)
        *complete, self._partial = data.split(b"\n")
        self.lines.extend(line.decode("utf-8") for line in complete)
        return sum(map(len, chunks))

    def wait_for_line(
        self, match: Callable[[str], bool], timeout: float = DEFAULT_WAIT, what: str = ""
    ) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                if match(line):
                    return line
            if self.closed:
                raise AssertionError(f"text client: closed while waiting for {what or 'a line'}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"text client: no {what or 'such line'} within {timeout} s: {self.lines}"
                )
            self.read(0.05)


def read_all(clients: Iterable[_SocketClient], timeout: float) -> None:
    """Wait up to `timeout` for any of `clients` to have data, then read all that is there."""
    clients = [client for client in clients if not client.closed]
    with selectors.DefaultSelector() as selector:
        for client in clients:
            selector.register(client.sock, selectors.EVENT_READ, client)
        ready = selector.select(timeout)
    for key, _ in ready:
        key.data.read(0.0)
    for client in clients:  # the heartbeat of those that were quiet
        if isinstance(client, RawClient) and client.ping_every is not None:
            client.read(0.0)


def wait_all(
    clients: Iterable[_SocketClient],
    condition: Callable[[], bool],
    timeout: float = DEFAULT_WAIT,
    what: str = "condition",
) -> None:
    """Read from every client until `condition()` holds."""
    clients = list(clients)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        read_all(clients, 0.05)
