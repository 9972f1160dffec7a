"""Fixtures for live discovery tests: loopback only, unique ports, everything stopped after."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from net.api import Transport
from net.discovery import Announcer, Browser, RoomInfo, new_host_id
from net.ports import next_free_port


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_chat_port(transport: str, start: int | None = None) -> int:
    """A port free for a host of `transport`, from an OS-chosen base (clear of other tests)."""
    return next_free_port(transport, start if start is not None else free_udp_port(), span=64)


class FakeUdpChatHost:
    """Stands in for a UDP chat host: owns the chat port, hands foreign datagrams to `handler`
    and sends back its answer, as net.udp's host does with its ``discovery_handler``."""

    def __init__(self, port: int, handler: Callable[[bytes, tuple], bytes | None]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.05)
        self.handler = handler
        self.chat_datagrams = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-udp-host", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            if data.startswith(b"LCUD"):
                self.chat_datagrams += 1
                continue
            reply = self.handler(data, sender)
            if reply is not None:
                self.sock.sendto(reply, sender)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


class Discovery:
    """Builds announcers and browsers on loopback with short intervals; stops them all."""

    def __init__(self) -> None:
        self.announce_port = free_udp_port()
        self.announcers: list[Announcer] = []
        self.browsers: list[Browser] = []
        self.udp_hosts: list[FakeUdpChatHost] = []

    def room(self, name: str, transport: Transport, port: int, members: int = 0) -> dict:
        return {
            "room": name,
            "nick": "nick-" + name,
            "transport": transport,
            "port": port,
            "host_id": new_host_id(),
            "key": secrets.token_bytes(32),
            "members": members,
        }

    def announcer(self, fields: dict, *, respond: bool = True, interval: float = 0.2, **options) -> Announcer:
        announcer = Announcer(
            lambda: RoomInfo(**fields),
            interval=interval,
            announce_port=self.announce_port,
            respond=respond,
            change_poll=0.05,
            **options,
        )
        if not respond:
            self.udp_hosts.append(FakeUdpChatHost(fields["port"], announcer.answer_now))
        announcer.start()
        self.announcers.append(announcer)
        return announcer

    def browser(self, probe_ports: list[int], **options) -> tuple[Browser, list]:
        events: list = []
        options.setdefault("probe_interval", 0.2)
        browser = Browser(events.append, probe_ports=probe_ports, listen_port=self.announce_port, **options)
        browser.start()
        self.browsers.append(browser)
        return browser, events

    def close(self) -> None:
        for browser in self.browsers:
            browser.stop()
        for announcer in self.announcers:
            announcer.stop(goodbye=False)
        for host in self.udp_hosts:
            host.close()


@pytest.fixture
def discovery() -> Iterator[Discovery]:
    setup = Discovery()
    try:
        yield setup
    finally:
        setup.close()
