"""Stand-ins for other people in the chat: a protocol client and a plain-text (`nc`) client.

Both are single-threaded and blocking with timeouts: the test reads from them only when it
expects something, so no thread is needed and nothing outlives the test.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
import uuid
from collections.abc import Callable

from net.protocol import events as ev
from net.protocol.connection import NEED_DATA, Connection, ConnectionClosed, Role
from net.protocol.limits import PROTOCOL_VERSION
from net.secure.tls import client_context


class ProtocolClient:
    """A LanChat protocol client over a TLS socket (net.protocol.Connection, no transport):
    the packaged host's TLS is what every member meets."""

    def __init__(self, port: int, nick: str, host: str = "127.0.0.1") -> None:
        self.sock = client_context().wrap_socket(socket.create_connection((host, port), timeout=5))
        self.connection = Connection(Role.CLIENT)
        self.seen: list[ev.Event] = []
        self._sent = 0
        hello = ev.Hello(version=PROTOCOL_VERSION, nick=nick, client_id=f"build-test-{uuid.uuid4().hex[:8]}")
        self.sock.sendall(self.connection.send(hello))
        self.welcome = self.wait_for(lambda e: isinstance(e, ev.Welcome | ev.Refuse), "a welcome")
        if not isinstance(self.welcome, ev.Welcome):
            raise AssertionError(f"the host refused {nick!r}: {self.welcome}")

    def say(self, text: str) -> None:
        self._sent += 1
        self.sock.sendall(self.connection.send(ev.Say(id=f"m{self._sent}", text=text)))

    def wait_for(self, matches: Callable[[ev.Event], bool], what: str, timeout: float = 10.0) -> ev.Event:
        """The first event (seen before or arriving now) that `matches`; answers pings meanwhile."""
        for event in self.seen:
            if matches(event):
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.connection.next_event()
            if event is NEED_DATA:
                self.sock.settimeout(max(0.05, deadline - time.monotonic()))
                try:
                    data = self.sock.recv(65536)
                except (TimeoutError, ssl.SSLWantReadError):
                    continue
                self.connection.receive_data(data)
                continue
            if isinstance(event, ConnectionClosed):
                break
            if isinstance(event, ev.Ping):
                self.sock.sendall(self.connection.send(event.reply()))
                continue
            self.seen.append(event)
            if matches(event):
                return event
        raise AssertionError(f"no {what} within {timeout} s; seen: {self.seen[-10:]}")

    def close(self) -> None:
        try:
            self.sock.sendall(self.connection.send(ev.Bye()))
        except Exception:
            pass  # the host may be gone already
        self.sock.close()


class TextClient:
    """Someone typing into `nc HOST PORT`: first line the nickname, then chat lines."""

    def __init__(self, port: int, nick: str, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        self.lines: list[str] = []
        self._buffer = b""
        self.send_line(nick)

    def send_line(self, text: str) -> None:
        self.sock.sendall(text.encode() + b"\n")

    def wait_for_line(self, pattern: str, timeout: float = 10.0) -> str:
        """The first received line matching the regular expression `pattern`."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        checked = 0
        while True:
            for line in self.lines[checked:]:
                if regex.search(line):
                    return line
            checked = len(self.lines)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no line matching {pattern!r} within {timeout} s; got {self.lines[-10:]}"
                )
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                raise AssertionError(f"the host closed the connection; got {self.lines[-10:]}")
            self._buffer += data
            *complete, self._buffer = self._buffer.split(b"\n")
            self.lines.extend(line.decode("utf-8", "replace").rstrip("\r") for line in complete)

    def close(self) -> None:
        self.sock.close()
