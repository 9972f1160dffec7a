"""The bridge: thread-safe posting, coalescing of states, bounds, and the pump's time budget."""

from __future__ import annotations

import threading
import time

from gui.bridge import BridgePump, EventBridge, coalesce_key
from gui.model.values import Overflowed
from net.api import ClientState, LatencyMeasured, StateChanged
from net.files import events as fe
from net.protocol import events as ev


def message(number: int) -> ev.ChatMessage:
    return ev.ChatMessage(f"m{number}", "bob", f"text {number}", 0.0)


def test_events_come_out_in_order():
    bridge = EventBridge()
    for number in range(5):
        bridge.post(message(number))
    assert [e.id for e in bridge.take(3)] == ["m0", "m1", "m2"]
    assert [e.id for e in bridge.take(10)] == ["m3", "m4"]
    assert bridge.take(10) == []


def test_states_coalesce_but_messages_never_do():
    bridge = EventBridge()
    bridge.post(LatencyMeasured(0.010))
    bridge.post(message(1))
    bridge.post(ev.TypingNotice("bob", True))
    bridge.post(LatencyMeasured(0.020))
    bridge.post(ev.TypingNotice("bob", False))
    bridge.post(ev.TypingNotice("eve", True))
    bridge.post(message(2))
    taken = bridge.take(100)
    assert taken == [
        message(1),
        LatencyMeasured(0.020),
        ev.TypingNotice("bob", False),
        ev.TypingNotice("eve", True),
        message(2),
    ]
    assert coalesce_key(StateChanged(ClientState.CONNECTED)) is None  # every state change is kept


def test_a_taken_state_does_not_swallow_a_later_one():
    bridge = EventBridge()
    bridge.post(LatencyMeasured(0.01))
    assert bridge.take(10) == [LatencyMeasured(0.01)]
    bridge.post(LatencyMeasured(0.02))
    assert bridge.take(10) == [LatencyMeasured(0.02)]


def test_a_transfers_progress_coalesces_but_never_moves_past_its_pause_or_end():
    def progress(done: int) -> fe.TransferProgress:
        return fe.TransferProgress("o1", "zoe", done, 100, 1.0, 0, 1)

    bridge = EventBridge()
    bridge.post(progress(10))
    bridge.post(progress(20))  # replaces 10
    bridge.post(fe.TransferPaused("o1", "zoe", "sender"))
    bridge.post(fe.TransferResumed("o1", "zoe", "sender"))
    bridge.post(progress(30))  # after the pause: 20 stays before it
    bridge.post(progress(40))  # replaces 30
    bridge.post(fe.TransferFailed("o1", "zoe", "lost", "lost"))
    bridge.post(progress(50))
    assert bridge.take(100) == [
        progress(20),
        fe.TransferPaused("o1", "zoe", "sender"),
        fe.TransferResumed("o1", "zoe", "sender"),
        progress(40),
        fe.TransferFailed("o1", "zoe", "lost", "lost"),
        progress(50),
    ]


def test_posting_from_many_threads_loses_nothing():
    bridge = EventBridge()

    def post(offset: int) -> None:
        for number in range(2_000):
            bridge.post(message(offset + number))

    threads = [threading.Thread(target=post, args=(n * 10_000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = bridge.take(100_000)
    assert len(taken) == 8_000
    assert len({e.id for e in taken}) == 8_000


def test_a_bridge_nobody_drains_stays_bounded():
    bridge = EventBridge(limit=100)
    bridge.post(StateChanged(ClientState.CONNECTED))
    for number in range(250):
        bridge.post(message(number))
    assert len(bridge) == 100
    taken = bridge.take(1_000)
    assert taken[0] == Overflowed(151)
    assert taken[1] == StateChanged(ClientState.CONNECTED)  # only chat messages are folded
    assert taken[-1] == message(249)


def test_pump_spends_its_budget_then_yields(tk_root):
    """A tick handles a bounded batch and hands back to Tk, which runs the next tick soon.

    The handler's cost (0.2 ms an event) is charged to a fake clock, not slept: a wall-clock
    bound on the tick flaked on a busy machine, while the tick's length on the pump's own
    clock is exactly what its budget bounds.
    """
    bridge = EventBridge()
    for number in range(5_000):
        bridge.post(message(number))
    clock, handled = FakeClock(), []
    slow = costed_handler(clock, {"fixed": 0.0, "per_event": 0.0002}, handled)
    pump = BridgePump(tk_root, bridge, slow, budget=0.010, clock=clock)
    started = clock.now
    pump.drain_now()
    assert clock.now - started < 0.060
    assert len(handled) == 1  # the first chunk overran the guessed cost: no second one
    assert 0 < sum(handled) < 5_000
    pump.start()
    try:
        deadline = time.monotonic() + 10
        while len(bridge) and time.monotonic() < deadline:
            tk_root.update()
        assert sum(handled) == 5_000
        assert pump.ticks > 5
        assert pump.longest_tick < 0.060  # every tick, on the pump's clock
    finally:
        pump.stop()


class FakeClock:
    """A clock that only moves when the fake handler says its work took time."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def costed_handler(clock: FakeClock, cost: dict[str, float], handled: list[int]):
    """A handler whose chunk costs a fixed part (the Tk call) plus a part per event."""

    def handle(batch: list[object]) -> None:
        clock.now += cost["fixed"] + cost["per_event"] * len(batch)
        handled.append(len(batch))

    return handle


def run_ticks(pump: BridgePump, clock: FakeClock, bridge: EventBridge) -> list[float]:
    """Tick until the queue is empty; the (fake) duration of each tick."""
    durations = []
    while len(bridge):
        started = clock.now
        pump.drain_now()
        durations.append(clock.now - started)
        assert len(durations) < 10_000
    return durations


def costed_pump(cost: dict[str, float]) -> tuple[BridgePump, FakeClock, EventBridge, list[int]]:
    """A pump with an 8 ms budget over 20,000 queued messages whose handling costs `cost`."""
    bridge = EventBridge()
    for number in range(20_000):
        bridge.post(message(number))
    clock, handled = FakeClock(), []
    pump = BridgePump(None, bridge, costed_handler(clock, cost, handled), budget=0.008, clock=clock)
    return pump, clock, bridge, handled


def test_pump_ticks_end_within_their_budget():
    """Chunks are sized to what is left of the budget: ticks do not overrun it by a chunk."""
    cost = {"fixed": 0.0004, "per_event": 30e-6}
    pump, clock, bridge, handled = costed_pump(cost)
    durations = run_ticks(pump, clock, bridge)
    assert sum(handled) == 20_000
    settled = durations[3:]  # the first ticks learn the cost (the first guess is 50 µs)
    assert max(settled) <= 0.008 + cost["fixed"]  # at most the fixed part of a short last chunk
    assert len(durations) < 20_000 * cost["per_event"] / 0.008 * 1.5  # and the budget is used


def test_pump_shrinks_its_chunks_when_the_work_gets_slower():
    """A machine that gets busy (or a longer scrollback) makes chunks dearer: one overrun at most."""
    cost = {"fixed": 0.0003, "per_event": 20e-6}
    pump, clock, bridge, handled = costed_pump(cost)
    for _ in range(10):
        pump.drain_now()
    cost["per_event"] = 60e-6
    durations = run_ticks(pump, clock, bridge)
    assert sum(handled) == 20_000
    overruns = [seconds for seconds in durations if seconds > 0.008 + cost["fixed"]]
    assert len(overruns) <= 2  # the tick that found out, and one more (a rise is at most 2x)
    assert max(overruns, default=0) <= 3 * 0.008 + cost["fixed"]


def test_pump_always_makes_progress():
    """Even when a single event costs more than the budget, every tick handles some."""
    bridge = EventBridge()
    for number in range(100):
        bridge.post(message(number))
    clock, handled = FakeClock(), []
    cost = {"fixed": 0.0, "per_event": 0.010}
    pump = BridgePump(None, bridge, costed_handler(clock, cost, handled), budget=0.008, clock=clock)
    run_ticks(pump, clock, bridge)
    assert sum(handled) == 100
    assert min(handled) >= 1


def test_a_failing_handler_does_not_stop_the_pump(tk_root, tk_errors):
    bridge = EventBridge()
    calls: list[int] = []

    def handler(batch: list[object]) -> None:
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("boom")

    pump = BridgePump(tk_root, bridge, handler)
    pump.start()
    try:
        bridge.post(message(1))
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:
            tk_root.update()
        bridge.post(message(2))
        while len(calls) < 2 and time.monotonic() < deadline:
            tk_root.update()
        assert calls == [1, 1]
        assert any("boom" in error for error in tk_errors)
        tk_errors.clear()  # expected here
    finally:
        pump.stop()
