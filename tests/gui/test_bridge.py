"""The bridge: thread-safe posting, coalescing of states, bounds, and the pump's time budget."""

from __future__ import annotations

import threading
import time

from gui.bridge import BridgePump, EventBridge, Overflowed, coalesce_key
from net.api import ClientState, LatencyMeasured, StateChanged
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
    bridge = EventBridge()
    for number in range(5_000):
        bridge.post(message(number))
    handled: list[int] = []

    def slow(batch: list[object]) -> None:
        time.sleep(0.0002 * len(batch))
        handled.append(len(batch))

    pump = BridgePump(tk_root, bridge, slow, budget=0.010)
    started = time.perf_counter()
    pump.drain_now()
    assert time.perf_counter() - started < 0.060
    assert 0 < sum(handled) < 5_000
    pump.start()
    try:
        deadline = time.monotonic() + 10
        while len(bridge) and time.monotonic() < deadline:
            tk_root.update()
        assert sum(handled) == 5_000
        assert pump.ticks > 5
    finally:
        pump.stop()


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
