"""The IP Messenger bridge's thin shell: one UDP socket on port 2425, one thread, the engine.

`IpmsgBridge` owns its thread: `start()` binds and starts it (or raises `OSError` with a
sentence when the port is taken, e.g. by Feiq or iptux on this PC), `stop()` says BR_EXIT
and asks the thread to end, `join()` waits for it. All protocol logic is in the sans-I/O
`IpmsgEngine`; the thread only reads datagrams, feeds them with the time, sends what comes
out and posts the events to `sink` (the window's `EventBridge.post`, or a logger).

Other threads act through `send_message` / `set_absent`, which queue a command (bounded)
and wake the thread; the engine is only ever touched by the bridge's own thread.

Files: `FileServer` listens on TCP on the same port and serves what we offered (the
`OfferBook`: `offer_files`); `Fetcher` receives what users offer us (`fetch`). Both own
their threads; `stop` and `join` stop and join them with the bridge's.

Loopback-only mode (``LANCHAT_LOOPBACK_ONLY=1``, as discovery): the socket binds 127.0.0.1,
"broadcasts" go to 127.0.0.1 only, and `net.discovery.destinations.send_datagram` refuses
any other destination even if a bug computed one.
"""

from __future__ import annotations

import collections
import itertools
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from net.addresses import AddressError, format_sockaddr, parse_address
from net.discovery.destinations import directed_broadcasts, loopback_only, send_datagram
from net.discovery.interfaces import list_interfaces
from net.ipmsg.attachments import Attachment
from net.ipmsg.codec import DEFAULT_PORT, MAX_PACKET_BYTES
from net.ipmsg.engine import BROADCAST, MAX_MESSAGE_CHARS, Identity, IpmsgEngine, UnknownUser
from net.ipmsg.events import IpmsgFilesReleased, IpmsgOfferSent, IpmsgStatus, IpmsgUndelivered, IpmsgUsers
from net.ipmsg.fetch import Fetcher, FetchJob
from net.ipmsg.fileserve import FileServer
from net.ipmsg.offers import Offer, OfferBook, files_of
from net.ipmsg.outbox import OutboxFull
from net.wakeup import Wakeup

log = logging.getLogger(__name__)

#: Commands from other threads waiting for the bridge's thread (more are refused visibly).
MAX_COMMANDS = 1024
#: Datagrams read per wake-up before the thread looks at its timers and commands again.
READ_BATCH = 64
LIMITED_BROADCAST = "255.255.255.255"

Sink = Callable[[object], None]


class IpmsgBridge:
    """LanChat on the IP Messenger network. Start, stop and join from one owner."""

    def __init__(
        self,
        identity: Identity,
        sink: Sink,
        *,
        port: int = DEFAULT_PORT,
        broadcast_ports: tuple[int, ...] | None = None,
        legacy_encoding: str = "gbk",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.identity = identity
        self._sink = sink
        self.port = port
        self._broadcast_ports = broadcast_ports
        self._clock = clock
        self.engine = IpmsgEngine(identity, clock(), legacy_encoding=legacy_encoding)
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._wakeup = Wakeup()
        self._commands: collections.deque[Callable[[float], None]] = collections.deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self.users: IpmsgUsers = IpmsgUsers(())  # the latest list (read from any thread)
        self.giant = 0  # datagrams refused for their size
        self.offers = OfferBook()
        self.files = FileServer(self.offers, sink)
        self.files_problem = ""  # why files cannot be served (the TCP port is taken)
        self.fetcher = Fetcher(self.engine.request_packet, sink)

    # -- life -----------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Bind the port and start the thread; OSError with a sentence for the user if it cannot."""
        host = "127.0.0.1" if loopback_only() else "0.0.0.0"
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.bind((host, self.port))
        except OSError as exc:
            sock.close()
            problem = f"UDP port {self.port} is not free (IP Messenger, Feiq or iptux running here?): {exc}"
            self._sink(IpmsgStatus(False, problem, self.port))
            raise OSError(problem) from exc
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._socket = sock
        try:
            self.files.start(host, self.port)
        except OSError as exc:  # the chat works; offering files does not
            self.files_problem = f"TCP port {self.port} is not free: {exc}"
            log.warning("IP Messenger files cannot be served: %s", self.files_problem)
        self._thread = threading.Thread(target=self._run, name="ipmsg-bridge", daemon=True)
        self._thread.start()
        log.info("IP Messenger bridge listening on %s:%d", host, self.port)

    def stop(self) -> None:
        """Say goodbye (BR_EXIT) and end the thread; `join` waits for it."""
        self._stopping.set()
        self._wakeup.wake()
        self.files.stop()
        self.fetcher.stop()

    def join(self, timeout: float | None = 5.0) -> None:
        self.files.join()
        self.fetcher.join()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the IP Messenger bridge's thread did not end in %s s", timeout)
                return
            self._thread = None
        self._wakeup.close()

    # -- commands from other threads ------------------------------------------------------------

    def send_message(self, address: str, text: str) -> str:
        """Queue `text` for the user at `address`; the id its Delivered/Undelivered event carries.

        ValueError (a sentence) for an empty or over-long message: never cut silently.
        """
        if not text.strip():
            raise ValueError("the message is empty")
        if len(text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
        message_id = f"ipmsg-{next(self._ids)}"

        def send(now: float) -> None:
            try:
                self.engine.send_message(address, text, now, message_id)
            except UnknownUser:
                self._sink(IpmsgUndelivered(address, message_id, "the user has left IP Messenger"))
            except (OutboxFull, ValueError) as exc:
                self._sink(IpmsgUndelivered(address, message_id, str(exc)))

        if not self._queue(send):
            raise ValueError("too many messages are waiting to be sent")
        return message_id

    def offer_files(self, address: str, paths: list[Path], text: str = "") -> str:
        """Offer files and folders to the user at `address`; the id its events carry
        (`IpmsgOfferSent`, or `IpmsgUndelivered` with the reason). ValueError (a sentence) for
        paths that cannot be offered. Folders' sizes are counted here, on the caller's thread."""
        offered = files_of(paths)
        if self.files_problem:
            raise ValueError(self.files_problem)
        message_id = f"ipmsg-{next(self._ids)}"
        attachments = [item.attachment for item in offered]

        def send(now: float) -> None:
            try:
                number, encoding = self.engine.send_files(address, text, attachments, now, message_id)
            except UnknownUser:
                self._sink(IpmsgUndelivered(address, message_id, "the user has left IP Messenger"))
                return
            except (OutboxFull, ValueError) as exc:
                self._sink(IpmsgUndelivered(address, message_id, str(exc)))
                return
            self.offers.add(Offer(address, number, tuple(offered), self._clock(), encoding))
            names = tuple(item.name for item in attachments)
            self._sink(IpmsgOfferSent(address, message_id, number, names, sum(a.size for a in attachments)))

        if not self._queue(send):
            raise ValueError("too many messages are waiting to be sent")
        return message_id

    def fetch(self, address: str, packet_no: int, attachments: list[Attachment], folder: Path) -> bool:
        """Start receiving `attachments` of the offer `packet_no` into `folder`, one after the
        other (each ends with its own event); False when that offer is being received
        already or too many are at once."""
        user = next((u for u in self.users.users if u.address == address), None)
        encoding = user.encoding if user is not None else self.engine.legacy
        jobs = [FetchJob(address, packet_no, a, folder, encoding, encoding == "utf-8") for a in attachments]
        return self.fetcher.fetch(jobs)

    def cancel_fetch(self, address: str, packet_no: int) -> None:
        self.fetcher.cancel(address, packet_no)

    def release(self, address: str, packet_no: int) -> None:
        """We are done with the user's offer (declined or received): RELEASEFILES."""
        self._queue(lambda now: self.engine.release(address, packet_no))

    def rename(self, nick: str) -> None:
        self._queue(lambda now: self.engine.rename(nick, now))

    def set_absent(self, absent: bool) -> None:
        self._queue(lambda now: self.engine.set_absent(absent, now))

    def _queue(self, command: Callable[[float], None]) -> bool:
        with self._lock:
            if len(self._commands) >= MAX_COMMANDS:
                return False
            self._commands.append(command)
        self._wakeup.wake()
        return True

    # -- the thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        sock = self._socket
        assert sock is not None
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ)
        selector.register(self._wakeup.reader, selectors.EVENT_READ)
        try:
            self._sink(IpmsgStatus(True, "", self.port))
            self.engine.enter(self._clock())
            self._flush()
            while not self._stopping.is_set():
                deadline = self.engine.next_deadline()
                timeout = None if deadline is None else max(0.0, deadline - self._clock())
                for key, _mask in selector.select(timeout):
                    if key.fileobj is sock:
                        self._read(sock)
                    else:
                        self._wakeup.drain()
                self._run_commands()
                self.engine.tick(self._clock())
                self._flush()
            self.engine.leave(self._clock())
            self._flush()
        except Exception:  # a bug: log it, tell the window, never take the program down
            log.exception("the IP Messenger bridge failed")
            self._sink(IpmsgStatus(False, "the IP Messenger bridge stopped after an error", self.port))
            return
        finally:
            selector.close()
            sock.close()
        self._sink(IpmsgStatus(False, "", self.port))

    def _read(self, sock: socket.socket) -> None:
        for _ in range(READ_BATCH):
            try:
                data, sender = sock.recvfrom(MAX_PACKET_BYTES + 1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. Windows' ConnectionResetError after an ICMP error
                log.debug("receive error on the IP Messenger port: %s", exc)
                continue
            if len(data) > MAX_PACKET_BYTES:
                self.giant += 1
                continue
            self.engine.receive(data, format_sockaddr(sender), self._clock())

    def _run_commands(self) -> None:
        with self._lock:
            commands = list(self._commands)
            self._commands.clear()
        for command in commands:
            command(self._clock())

    def _flush(self) -> None:
        sock = self._socket
        assert sock is not None
        datagrams, events = self.engine.take()
        for datagram in datagrams:
            for destination in self._destinations(datagram.to):
                send_datagram(sock, datagram.data, destination)
        for event in events:
            if isinstance(event, IpmsgUsers):
                self.users = event
            elif isinstance(event, IpmsgFilesReleased):
                self.offers.release(event.address, event.packet_no)
            self._sink(event)

    def _destinations(self, to: str) -> list[tuple[Any, ...]]:
        if to != BROADCAST:
            try:
                return [parse_address(to, DEFAULT_PORT)]
            except AddressError:
                return []
        ports = self._broadcast_ports or (self.port,)
        if loopback_only():
            hosts = ["127.0.0.1"]
        else:
            try:
                hosts = [LIMITED_BROADCAST, *directed_broadcasts(list_interfaces())]
            except OSError as exc:
                log.debug("could not list the interfaces: %s", exc)
                hosts = [LIMITED_BROADCAST]
        return [(host, port) for host in hosts for port in ports]
