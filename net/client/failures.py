"""What ends a member's link, as the session words it: the host's refusal or bye, and the
wait before the next attempt.

Pure tables and arithmetic, kept out of `net.client.session` (which stays the state
machine): a refusal's code and a bye's cause are the host's words (PROTOCOL.md), a
`FailureKind` is what the owner shows and decides on.
"""

from __future__ import annotations

import random

from net.api import FINAL_FAILURES, FailureKind

_REFUSALS = {kind.value: kind for kind in FailureKind}
#: What the host's bye says happened to us, by its cause; none or unknown: the host stopped.
_BYE_FAILURES: dict[str | None, FailureKind] = {
    "stopped": FailureKind.HOST_LEFT,
    "timed_out": FailureKind.TIMED_OUT_BY_HOST,
    "removed": FailureKind.KICKED,
    "replaced": FailureKind.KICKED,
}


def refusal_failure(code: str) -> FailureKind:
    """The failure a `refuse` with `code` means (an unknown code: the host broke the protocol)."""
    return _REFUSALS.get(code, FailureKind.PROTOCOL)


def bye_failure(cause: str | None) -> FailureKind:
    return _BYE_FAILURES.get(cause, FailureKind.HOST_LEFT)


def is_final(failure: FailureKind) -> bool:
    """No reconnecting after this one (a wrong password, a changed key, ...)."""
    return failure in FINAL_FAILURES


def reconnect_delay(backoff: tuple[float, ...], attempt: int, rng: random.Random) -> float:
    """The wait before attempt `attempt` (0 first): the backoff's step, give or take 20 %
    so that members who lost the same host do not all knock at the same moment."""
    return backoff[min(attempt, len(backoff) - 1)] * rng.uniform(0.8, 1.2)
