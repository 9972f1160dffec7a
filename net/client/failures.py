"""What a host's refusal or goodbye means for a client: the `FailureKind` the owner is told.

The host names why it refused a hello (`refuse.code`) and why it closed a member (`bye.cause`);
the client words and handles failures by kind (`net.api.FINAL_FAILURES` end the session).
"""

from __future__ import annotations

from net.api import FailureKind

#: A refusal's code is the value of its kind (unknown codes: the host broke the protocol).
REFUSALS = {kind.value: kind for kind in FailureKind}
#: What the host's bye says happened to us, by its cause; none or unknown: the host stopped.
BYE_FAILURES: dict[str | None, FailureKind] = {
    "stopped": FailureKind.HOST_LEFT,
    "timed_out": FailureKind.TIMED_OUT_BY_HOST,
    "removed": FailureKind.KICKED,
    "replaced": FailureKind.KICKED,
}
