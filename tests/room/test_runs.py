"""A run of messages (`Room.handle_says`, how a busy host relays) does exactly what handling
them one by one does: the same deliveries, acks, refusals, history and dedupe memory."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from net.protocol import events as ev
from net.protocol.limits import FLOOD_STRIKES
from net.room import Broadcast, Disconnect, Output, Relay, Room, RoomConfig, Send
from tests.room.fakes import FakeClock, hello, join


def _room(rate: float, burst: int, id_prefix: str | None, shared: float = 0.0) -> tuple[Room, FakeClock]:
    """alice ("a") and bob ("b"); with `shared`, from one address sharing that many members' budget
    (bob has spent a token of it)."""
    clock = FakeClock()
    room = Room(
        RoomConfig(rate_per_second=rate, rate_burst=burst, address_rate_multiple=shared),
        wall_clock=clock.wall,
        monotonic=clock.mono,
        id_prefix=id_prefix,
    )
    if not shared:
        join(room, "a", "alice", "client-a")
        join(room, "b", "bob", "client-b")
        return room, clock
    for peer, nick in (("a", "alice"), ("b", "bob")):
        assert isinstance(
            room.join(peer, hello(nick, f"client-{peer}"), address="10.0.0.9")[0].event, ev.Welcome
        )
    room.handle("b", ev.Who())
    return room, clock


def _one_by_one(outputs: list[Output]) -> list[Output]:
    """`outputs` with each `Relay` spelled out as the broadcast and ack of each message."""
    spelled: list[Output] = []
    for output in outputs:
        if isinstance(output, Relay):
            assert output.messages and len(output.messages) == len(output.acked)
            for message, ack in zip(output.messages, output.acks, strict=True):
                spelled += [Broadcast(message, exclude=output.sender), Send(output.sender, ack)]
        else:
            spelled.append(output)
    return spelled


_says = st.builds(
    ev.Say,
    id=st.sampled_from(["m1", "m2", "m3", "m4"]),  # few ids: resends happen
    text=st.sampled_from(["hi", "你好 😀", "  ", "trailing  ", "x"]),
    to=st.sampled_from([None, None, None, "bob", "alice", "nobody"]),
    action=st.booleans(),
)


@given(
    st.lists(_says, max_size=30),
    st.sampled_from([(0.0, 1), (1.0, 3), (1.0, 1)]),
    st.sampled_from([None, "h"]),
    st.sampled_from(["a", "stranger"]),
    st.sampled_from([0.0, 1.0, 2.5]),
)
def test_a_run_gives_what_handling_each_message_gives(
    says: list[ev.Say], rate_and_burst: tuple[float, int], id_prefix: str | None, sender: str, shared: float
) -> None:
    in_a_run, _ = _room(*rate_and_burst, id_prefix, shared)
    one_at_a_time, _ = _room(*rate_and_burst, id_prefix, shared)
    expected = [output for say in says for output in one_at_a_time.handle(sender, say)]
    assert _one_by_one(in_a_run.handle_says(sender, says)) == expected
    assert in_a_run.history() == one_at_a_time.history()
    assert in_a_run.peers() == one_at_a_time.peers()  # a flood takes the sender out in both
    resend = ev.Say(id="m1", text="again")
    assert in_a_run.handle("a", resend) == one_at_a_time.handle("a", resend)


def test_consecutive_room_messages_come_as_one_relay_and_the_rest_in_between() -> None:
    room, _ = _room(0.0, 1, "h")
    says = [ev.Say(id="1", text="one"), ev.Say(id="2", text="two"), ev.Say(id="3", text=" ")]
    says += [ev.Say(id="4", text="four", to="bob"), ev.Say(id="5", text="five")]
    outputs = room.handle_says("a", says)
    assert [type(output) for output in outputs] == [Relay, Send, Send, Send, Relay]
    assert [m.text for m in outputs[0].messages] == ["one", "two"]
    assert outputs[1].event.code == "empty"
    assert [m.text for m in outputs[-1].messages] == ["five"]


def test_a_run_that_floods_takes_the_sender_out_as_one_by_one_does() -> None:
    says = [ev.Say(id=str(n), text="spam") for n in range(FLOOD_STRIKES + 5)]
    in_a_run, _ = _room(1.0, 1, "h")
    one_at_a_time, _ = _room(1.0, 1, "h")
    expected = [output for say in says for output in one_at_a_time.handle("a", say)]
    outputs = _one_by_one(in_a_run.handle_says("a", says))
    assert any(isinstance(output, Disconnect) for output in outputs)
    assert outputs == expected
    assert "a" not in in_a_run
