"""Issue 17 over real sockets, on both transports: messages for members who are away, and the
host's journal (a restarted host gives joiners the earlier conversation and keeps what it held)."""

from __future__ import annotations

from pathlib import Path

from history.room_journal import journal_factory, journal_path
from net.api import ClientState, Delivered, DeliveryFailed
from net.protocol import events as ev
from net.room import RoomConfig
from tests.helpers import wait_until

ALICE, BOB = "alice-lasting-secret-0123456789abcdef", "bob-lasting-secret-0123456789abcdefgh"


def private_texts(chat, key: str) -> list[str]:
    return [m.text for m in chat.of_type(key, ev.ChatMessage) if m.to is not None]


def test_a_member_who_is_away_gets_what_was_sent_meanwhile_exactly_once(chat) -> None:
    host = chat.host()
    alice = chat.joined(host.port, "alice", mailbox=ALICE)[0]
    bob = chat.joined(host.port, "bob", mailbox=BOB)[0]
    bob.close()
    chat.wait_event("alice", ev.Left)

    local = alice.send_message("明天见 (see you tomorrow)", to="bob")
    held = chat.wait_event("alice", ev.Held)
    assert (held.id, held.to) == (local, "bob") and held.expires > held.time
    assert not chat.of_type("alice", DeliveryFailed)

    # Bob's PC comes back another day: a new run (new client id) under another nickname.
    chat.client(host.port, "bobby", key="bob-again", mailbox=BOB)
    kept = chat.wait_event("bob-again", ev.ChatMessage, lambda m: m.to is not None)
    assert (kept.sender, kept.text, kept.id) == ("alice", "明天见 (see you tomorrow)", held.msg_id)
    delivered = chat.wait_event("alice", ev.Delivered)
    assert (delivered.msg_id, delivered.to) == (held.msg_id, "bob")

    chat.clients["bob-again"].close()
    chat.client(host.port, "bob", key="bob-third", mailbox=BOB)
    chat.wait_state("bob-third", ClientState.CONNECTED)
    alice.send_message("ping", to="bob")  # live now: proves the third run is in and reading
    chat.wait_event("bob-third", ev.ChatMessage, lambda m: m.text == "ping")
    assert private_texts(chat, "bob-third") == ["ping"]  # the kept one came once, not again
    assert private_texts(chat, "bob-again") == ["明天见 (see you tomorrow)"]


def test_someone_else_taking_the_nickname_gets_nothing_that_was_kept(chat) -> None:
    host = chat.host()
    alice = chat.joined(host.port, "alice", mailbox=ALICE)[0]
    chat.joined(host.port, "bob", mailbox=BOB)[0].close()
    chat.wait_event("alice", ev.Left)
    alice.send_message("for bob only", to="bob")
    chat.wait_event("alice", ev.Held)
    chat.joined(host.port, "bob", key="impostor", mailbox="mallory-secret-0123456789abcdefghij")
    alice.send_message("live", to="bob")  # the impostor holds the name now: this goes live
    chat.wait_event("impostor", ev.ChatMessage, lambda m: m.text == "live")
    assert private_texts(chat, "impostor") == ["live"]
    assert not chat.of_type("alice", ev.Delivered)


def test_a_sender_without_a_mailbox_is_told_the_member_is_not_here(chat) -> None:
    host = chat.host()
    alice = chat.joined(host.port, "alice")[0]  # no mailbox: an older client, a script
    chat.joined(host.port, "bob", mailbox=BOB)[0].close()
    chat.wait_event("alice", ev.Left)
    alice.send_message("hello?", to="bob")
    failed = chat.wait_event("alice", DeliveryFailed)
    assert "bob is not here" in failed.reason


def test_a_restarted_host_gives_joiners_the_earlier_conversation_and_kept_mail(chat, tmp_path: Path) -> None:
    path = journal_path(tmp_path, b"key", "journal")
    room = RoomConfig(name="journal", rate_per_second=0)
    first = chat.host(room=room, journal=journal_factory(path))
    alice = chat.joined(first.port, "alice", mailbox=ALICE)[0]
    chat.joined(first.port, "bob", mailbox=BOB)[0].close()
    chat.wait_event("alice", ev.Left)
    for n in range(30):
        alice.send_message(f"早上好 {n}")
    alice.send_message("while you were away", to="bob")
    chat.wait_event("alice", ev.Held)
    wait_until(lambda: len(chat.of_type("alice", Delivered)) == 30, message="every room message acked")
    alice.close()
    first.stop()

    second = chat.host(room=room, journal=journal_factory(path))
    chat.client(second.port, "carol", key="carol")
    welcome = chat.wait_event("carol", ev.Welcome)
    assert [m.text for m in welcome.history] == [f"早上好 {n}" for n in range(30)]
    chat.client(second.port, "bob", key="bob-back", mailbox=BOB)
    kept = chat.wait_event("bob-back", ev.ChatMessage, lambda m: m.to is not None)
    assert kept.text == "while you were away"
