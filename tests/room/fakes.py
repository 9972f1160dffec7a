"""A controllable clock and small builders for room tests."""

from __future__ import annotations

from net.protocol import events as ev
from net.protocol.limits import PROTOCOL_VERSION
from net.room import Room, RoomConfig, Send

T0 = 1_700_000_000.0


class FakeClock:
    """Wall-clock and monotonic time that only move when a test says so."""

    def __init__(self, wall: float = T0, mono: float = 1000.0) -> None:
        self.now_wall = wall
        self.now_mono = mono

    def wall(self) -> float:
        return self.now_wall

    def mono(self) -> float:
        return self.now_mono

    def advance(self, seconds: float) -> None:
        self.now_wall += seconds
        self.now_mono += seconds


def make_room(clock: FakeClock, **config: object) -> Room:
    return Room(RoomConfig(**config), wall_clock=clock.wall, monotonic=clock.mono, id_prefix="h")


def hello(nick: str, client_id: str | None = None, **fields: object) -> ev.Hello:
    return ev.Hello(version=PROTOCOL_VERSION, nick=nick, client_id=client_id or f"id-{nick}", **fields)


def join(room: Room, peer: object, nick: str, client_id: str | None = None) -> ev.Welcome:
    """Join `peer` and return its welcome (failing the test if it was refused)."""
    outputs = room.join(peer, hello(nick, client_id))
    welcome = next(o.event for o in outputs if isinstance(o, Send) and o.to == peer)
    assert isinstance(welcome, ev.Welcome), outputs
    return welcome
