"""Acked room messages kept a while, to go again when a successor's welcome lacks them
(issue 18: an acknowledged message must survive its host's crash)."""

from __future__ import annotations

from net.client.outbox import SETTLED_SECONDS, Outbox
from net.protocol import events as ev


def _acked(outbox: Outbox, local_id: str, time: float, now: float, to: str | None = None) -> None:
    outbox.add(ev.Say(id=local_id, text=local_id, to=to))
    entry = outbox.settle(ev.Ack(id=local_id, msg_id=f"m-{local_id}", time=time), now)
    assert entry is not None and not entry.resent


def _message(local_id: str, time: float) -> ev.ChatMessage:
    return ev.ChatMessage(f"m-{local_id}", "dave", local_id, time, None, False)


def test_only_what_the_welcome_would_show_and_lacks_goes_again_first_in_line() -> None:
    outbox = Outbox(10)
    for number, local_id in enumerate(["a", "b", "c", "d"]):
        _acked(outbox, local_id, 100.0 + number, now=1.0)
    _acked(outbox, "private", 104.0, now=1.0, to="erin")  # private: never in a room's history
    outbox.add(ev.Say(id="pending", text="pending"))
    # "a" is older than the history's oldest message: scrolled out, taken to be there.
    history = [_message("x", 101.0), _message("b", 101.0), _message("d", 103.0)]
    assert outbox.resend_unconfirmed(history, now=2.0) == ["c"]
    assert outbox.ids() == ["c", "pending"]
    entry = outbox.settle(ev.Ack(id="c", msg_id="m-c", time=102.0), now=3.0)
    assert entry is not None and entry.resent  # its new ack is not news to the owner
    assert [f.local_id for f in outbox.give_up("closed")] == ["pending"]


def test_an_empty_history_lacks_everything_and_old_acks_are_forgotten() -> None:
    outbox = Outbox(10)
    _acked(outbox, "old", 100.0, now=0.0)
    _acked(outbox, "new", 101.0, now=SETTLED_SECONDS)
    assert outbox.resend_unconfirmed([], now=SETTLED_SECONDS + 1) == ["new"]
    assert [f.local_id for f in outbox.give_up("closed")] == []  # sent again: not failed twice
