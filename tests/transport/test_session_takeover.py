"""Knowing a member's client id is not enough to take over its session (finding 6 of the
trust issue): the reconnect must present the session's secret, sent only inside TLS."""

from __future__ import annotations

from net.api import ClientState
from net.protocol import events as ev
from tests.helpers import wait_until


def test_someone_with_a_members_client_id_cannot_take_its_place(chat) -> None:
    host = chat.host()
    [alice, _bob] = chat.joined(host.port, "alice", "bob")
    mallory = chat.client(host.port, "mallory", key="mallory", client_id=alice.client_id, reconnect=False)
    refused = chat.wait_state("mallory", ClientState.DISCONNECTED)
    assert "session" in refused.reason and mallory.state is ClientState.DISCONNECTED
    alice.send_message("still me")
    wait_until(lambda: chat.texts("bob") == ["still me"], message="alice still chats")
    assert alice.state is ClientState.CONNECTED and host.member_count == 2
    assert not chat.of_type("bob", ev.Renamed), "no silent rename of alice to mallory"


def test_the_member_itself_resumes_its_session_with_its_secret(chat) -> None:
    host = chat.host()
    [alice, _bob] = chat.joined(host.port, "alice", "bob")
    again = chat.client(
        host.port, "alice", key="alice-again", client_id=alice.client_id, resume_secret=alice.resume_secret
    )
    wait_until(lambda: again.state is ClientState.CONNECTED, message="the same client takes its place back")
    wait_until(lambda: host.member_count == 2, message="one alice, one bob")
