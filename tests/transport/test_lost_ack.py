"""A message whose ack is lost with the connection is shown once, to its sender too.

The host relays Alice's message, the link dies before the ack reaches her, and she
reconnects: the welcome's history then holds her message under the id the host derived
from her client id and the message's local id. She must take it as the lost ack (her
pending line is delivered, at the host's time), not as one more message of hers, and
nobody may receive it twice.
"""

from __future__ import annotations

from net.api import ClientState, Delivered, StateChanged
from net.protocol import events as ev
from tests.helpers import wait_until
from tests.transport.linkcut import CuttableRelay

#: Short, so that over UDP (where the relay can close nothing) Alice soon notices the silence.
QUICK_HEARTBEAT = {"heartbeat_interval": 0.3, "heartbeat_timeout": 2.0, "backoff": (0.05, 0.1)}


def test_a_message_relayed_before_its_ack_was_lost_is_delivered_once_after_the_reconnect(chat) -> None:
    host = chat.host()
    relay = CuttableRelay(chat.transport, host.port).start()
    try:
        [_bob] = chat.joined(host.port, "bob")
        [alice] = chat.joined(relay.port, "alice", **QUICK_HEARTBEAT)
        relay.deafen()
        local_id = alice.send_message("the ack of this is lost")
        relayed = chat.wait_event("bob", ev.ChatMessage, message="the host relayed alice's message")
        wait_until(lambda: relay.dropped_to_client > 0, message="the host's answer dropped")
        assert not chat.of_type("alice", Delivered), "the ack must not have reached alice"
        relay.cut()
        delivered = chat.wait_event("alice", Delivered, timeout=10, message="alice's message delivered")
        assert (delivered.local_id, delivered.msg_id, delivered.time) == (local_id, relayed.id, relayed.time)
        alice.send_message("after the reconnect")  # comes after any repeat of the first, to bob
        wait_until(lambda: "after the reconnect" in chat.seen_texts("bob"), message="bob gets the next one")
    finally:
        relay.stop()
    reconnected = [c for c in chat.of_type("alice", StateChanged) if c.state is ClientState.CONNECTED]
    assert len(reconnected) >= 2, "alice really reconnected"
    assert chat.seen_texts("bob") == ["the ack of this is lost", "after the reconnect"]
    assert [d for d in chat.of_type("alice", Delivered) if d.local_id == local_id] == [delivered]
    assert chat.seen_texts("alice") == [], "alice's own message must not come back as a new one"
