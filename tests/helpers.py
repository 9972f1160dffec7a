"""Small helpers shared by the tests: waiting on conditions instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    timeout: float = 5.0,
    interval: float = 0.005,
    message: str = "condition",
    pump: Callable[[], object] | None = None,
) -> T:
    """Poll `condition` until it returns something truthy; fail the test after `timeout`.

    `pump` runs between polls (a Tk root's `update` in GUI tests), so the waiting test keeps
    the main loop turning instead of blocking it.
    """
    deadline = time.monotonic() + timeout
    while True:
        if pump is not None:
            pump()
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)
