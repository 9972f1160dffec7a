"""Forged discovery datagrams cannot move a room to another address nor remove it (issue 14).

A real Browser listens on loopback; the "real" room and the forger are plain UDP sockets
bound to different loopback addresses (127.0.0.5 and 127.0.0.3: all of 127/8 is this PC),
so each datagram's source address is that of the machine it stands for. The datagrams are
written by hand, as a forger would. A test that expects something *not* to be listed sends
a marker room last from the same socket and waits for it: datagrams from one socket arrive
in order on loopback, so once the marker is listed, the forged datagram before it was seen.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from net.discovery.wire import MAGIC
from tests.discovery.conftest import Discovery, free_chat_port
from tests.helpers import wait_until

REAL_KEY = "7f3a91c24b8de01f2a6c5e9d03b17a4468c2f1e09b5d7a3c8e14f6b2d9a0c73e"
OTHER_KEY = "0badc0de" * 8
MARKER_KEY = "5a" * 32
HOST_ID = "3f9a1c2e7b6d4a10"
REAL, FORGER = "127.0.0.5", "127.0.0.3"


def datagram(kind: str, **fields: object) -> bytes:
    return MAGIC + json.dumps({"v": 2, "type": kind, **fields}).encode()


def room(name: str = "Lobby", *, port: int = 47800, key: str | None = REAL_KEY, **changes: object) -> dict:
    fields: dict[str, object] = {
        "room": name,
        "nick": "alice",
        "transport": "tcp",
        "port": port,
        "protocol": 1,
        "members": 2,
        "password": False,
        "host_id": HOST_ID,
        "key": key,
        "interval": 5.0,
        "ttl": 16.0,
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


class Station:
    """A UDP socket standing for one machine: bound to its own loopback address."""

    def __init__(self, address: str, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.sock.settimeout(5.0)
        self.address = address

    def send(self, data: bytes, to: tuple[str, int]) -> None:
        self.sock.sendto(data, to)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def stations() -> Iterator[list[Station]]:
    made: list[Station] = []
    yield made
    for station in made:
        station.close()


def station(made: list[Station], address: str, port: int = 0) -> Station:
    made.append(Station(address, port))
    return made[-1]


def listed(browser) -> list[tuple[str, str, int]]:
    """(room, address, members) of every chat listed, in the list's order."""
    return [(c.info.room, c.address, c.info.members) for c in browser.snapshot()]


def marked(browser, sender: Station, to: tuple[str, int], name: str = "marker") -> None:
    """Send a marker room from `sender` and wait until it is listed (see the module docstring)."""
    # On a port of its own: another key at the same address and port would replace the room
    # heard there (a port has one owner), which is not what these tests are about.
    sender.send(datagram("announce", **room(name, port=47999, key=MARKER_KEY, host_id="marker")), to)
    wait_until(lambda: any(entry[0] == name for entry in listed(browser)), message=f"{name} listed")


# --- announcements and goodbyes ---------------------------------------------------------


@pytest.fixture
def announced(discovery: Discovery, stations: list[Station]):
    """A browser that lists the real Lobby at 127.0.0.5, and the forger's station."""
    browser, _ = discovery.browser([])
    listener = ("127.0.0.1", discovery.announce_port)
    real = station(stations, REAL)
    real.send(datagram("announce", **room()), listener)
    wait_until(lambda: listed(browser) == [("Lobby", REAL, 2)], message="the real room listed")
    return browser, real, station(stations, FORGER), listener


def test_a_copied_key_and_host_id_do_not_move_the_room_to_the_copiers_address(announced) -> None:
    browser, _real, forger, listener = announced
    # The forger copies everything, key and host id included, and sorts first by address text.
    forger.send(datagram("announce", **room(members=99)), listener)
    marked(browser, forger, listener)
    lobby = [entry for entry in listed(browser) if entry[0] == "Lobby"]
    assert lobby == [("Lobby", REAL, 2)]
    (chat,) = [c for c in browser.snapshot() if c.info.room == "Lobby"]
    assert chat.addresses == (REAL, FORGER)  # one host heard at two addresses; the first stays first
    assert chat.info.key.hex() == REAL_KEY


def test_the_same_name_and_host_id_under_another_key_is_another_room(announced) -> None:
    browser, _real, forger, listener = announced
    forger.send(datagram("announce", **room(key=OTHER_KEY, members=5)), listener)
    wait_until(lambda: len(listed(browser)) == 2, message="two rooms")
    assert listed(browser) == [("Lobby", REAL, 2), ("Lobby", FORGER, 5)]
    assert [c.info.key.hex() for c in browser.snapshot()] == [REAL_KEY, OTHER_KEY]
    codes = [c.code for c in browser.snapshot()]
    assert codes == ["7F3A-91C2-4B8D-E01F-2A6C", "0BAD-C0DE-0BAD-C0DE-0BAD"]


def test_a_strangers_goodbye_does_not_remove_the_room(announced) -> None:
    browser, _real, forger, listener = announced
    goodbye = datagram("goodbye", host_id=HOST_ID, transport="tcp", port=47800, key=REAL_KEY)
    forger.send(goodbye, listener)
    marked(browser, forger, listener)
    assert ("Lobby", REAL, 2) in listed(browser)
    # Nor after the stranger announced the room's key from its own address first.
    forger.send(datagram("announce", **room()), listener)
    forger.send(goodbye, listener)
    marked(browser, forger, listener, "marker 2")
    assert ("Lobby", REAL, 2) in listed(browser)


def test_the_rooms_own_goodbye_removes_it(announced) -> None:
    browser, real, _forger, listener = announced
    real.send(datagram("goodbye", host_id=HOST_ID, transport="tcp", port=47800, key=REAL_KEY), listener)
    wait_until(lambda: listed(browser) == [], timeout=2.0, message="gone on its goodbye")


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(room("Old", key=None, v=1), id="no key (discovery version 1)"),
        pytest.param(room("Short", key=REAL_KEY[:-1]), id="63 hex digits"),
        pytest.param(room("Not hex", key="x" * 64), id="not hex"),
    ],
)
def test_announcements_without_a_valid_key_are_not_listed(announced, fields: dict) -> None:
    browser, _real, forger, listener = announced
    forger.send(MAGIC + json.dumps({"v": 2, "type": "announce", **fields}).encode(), listener)
    marked(browser, forger, listener)
    assert [entry[0] for entry in listed(browser)] == ["Lobby", "marker"]


# --- answers to probes ------------------------------------------------------------------


@pytest.fixture
def probed(discovery: Discovery, stations: list[Station]):
    """A browser that probed 127.0.0.1 on ports P and P+1, a host station that got the probe on
    P, and what it learnt: the probe id and where the browser expects answers."""
    port = free_chat_port("udp")
    other_port = free_chat_port("udp", port + 1)
    host = station(stations, "127.0.0.1", port)
    browser, _ = discovery.browser([port, other_port], probe_interval=60.0, broadcast_probe_interval=60.0)
    while True:
        data, prober = host.sock.recvfrom(65535)
        probe = json.loads(data[len(MAGIC) :])
        if prober[0] == "127.0.0.1" and probe["type"] == "probe":
            return browser, host, probe["id"], prober, port, other_port


def answer(probe_id: str, name: str, port: int, **changes: object) -> bytes:
    return datagram("answer", probe=probe_id, **room(name, port=port, **changes))


def genuine(browser, host: Station, probe_id: str, prober, port: int) -> None:
    """The host answers the probe as it should; wait until it is listed."""
    host.send(answer(probe_id, "Genuine", port, key=MARKER_KEY, host_id="genuine"), prober)
    wait_until(lambda: any(entry[0] == "Genuine" for entry in listed(browser)), message="genuine answer")


def test_a_genuine_answer_is_listed_at_the_address_probed(probed) -> None:
    browser, host, probe_id, prober, port, _ = probed
    genuine(browser, host, probe_id, prober, port)
    assert listed(browser) == [("Genuine", "127.0.0.1", 2)]


def test_an_answer_from_an_address_never_probed_is_ignored(probed, stations: list[Station]) -> None:
    browser, host, probe_id, prober, port, _ = probed
    # Someone who saw the probe answers it from its own address, with the right port.
    station(stations, "127.0.0.2", port).send(answer(probe_id, "Forged", port), prober)
    genuine(browser, host, probe_id, prober, port)
    assert [entry[0] for entry in listed(browser)] == ["Genuine"]


def test_an_answer_from_another_port_than_it_claims_is_ignored(probed, stations: list[Station]) -> None:
    browser, host, probe_id, prober, port, other_port = probed
    forged = answer(probe_id, "Forged", other_port, key=OTHER_KEY, host_id="other")
    # From a probed address, but not from the chat port it names (another program on that PC).
    station(stations, "127.0.0.1").send(forged, prober)
    # From one probed port, naming another.
    host.send(forged, prober)
    genuine(browser, host, probe_id, prober, port)
    assert [entry[0] for entry in listed(browser)] == ["Genuine"]


def test_an_answer_to_a_probe_never_sent_is_ignored(probed, stations: list[Station]) -> None:
    browser, host, probe_id, prober, port, other_port = probed
    unasked = answer("not-our-probe", "Unasked", other_port, key=OTHER_KEY, host_id="other")
    station(stations, "127.0.0.1", other_port).send(unasked, prober)  # probed address and port
    genuine(browser, host, probe_id, prober, port)
    assert [entry[0] for entry in listed(browser)] == ["Genuine"]
