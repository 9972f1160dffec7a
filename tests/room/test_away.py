"""Issue 17: private messages for members who are away, kept by the room (pure, no sockets)."""

from __future__ import annotations

import pytest

from net.protocol import events as ev
from net.room import Room, Send
from net.room.mailbox import Departed, MailLimits, Removed, Returned, Stored
from net.secure.password import secret_digest
from tests.room.fakes import T0, FakeClock, hello, make_room


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def enter(room: Room, peer: object, nick: str, box: str | None, client_id: str | None = None) -> list:
    """Join with a mailbox secret; what `peer` itself was sent (its welcome first)."""
    outputs = room.join(peer, hello(nick, client_id, mailbox=box))
    sent = [o.event for o in outputs if isinstance(o, Send) and o.to == peer]
    assert isinstance(sent[0], ev.Welcome), outputs
    return sent


def sent_to(outputs: list, peer: object) -> list:
    return [o.event for o in outputs if isinstance(o, Send) and o.to == peer]


def test_a_private_message_to_a_member_who_left_waits_and_reaches_them_on_return(clock):
    room = make_room(clock)
    enter(room, 1, "alice", "alice-secret")
    enter(room, 2, "bob", "bob-secret")
    room.leave(2)

    answer = sent_to(room.handle(1, ev.Say(id="m1", text="see you tomorrow", to="BOB")), 1)
    assert answer == [ev.Held(id="m1", msg_id="h-1", time=T0, to="bob", expires=T0 + 7 * 86400)]

    clock.advance(3600)
    # Back the next day under another nickname, with the same secret: the message is there.
    sent = enter(room, 3, "bobby", "bob-secret", client_id="bob-second-run")
    kept = ev.ChatMessage(id="h-1", sender="alice", text="see you tomorrow", time=T0, to="bob")
    assert sent[1:] == [ev.Mail(messages=(kept,))]

    delivered = room.handle(3, ev.Got(ids=("h-1",)))
    assert sent_to(delivered, 1) == [ev.Delivered(msg_id="h-1", to="bob", time=T0 + 3600)]
    assert len(room.mailbox) == 0
    room.leave(3)
    assert enter(room, 4, "bobby", "bob-secret", client_id="bob-third-run")[1:] == []  # exactly once


def test_without_got_the_kept_messages_come_again_on_the_next_return(clock):
    room = make_room(clock)
    enter(room, 1, "alice", "a")
    enter(room, 2, "bob", "b")
    room.leave(2)
    room.handle(1, ev.Say(id="m1", text="one", to="bob"))
    assert len(enter(room, 3, "bob", "b", client_id="bob-2")) == 2  # welcome, mail
    room.leave(3)  # the link dropped before its got
    assert len(enter(room, 4, "bob", "b", client_id="bob-3")) == 2


def test_only_the_holder_of_the_secret_gets_them_never_whoever_takes_the_nickname(clock):
    room = make_room(clock)
    enter(room, 1, "alice", "a")
    enter(room, 2, "bob", "b")
    room.leave(2)
    room.handle(1, ev.Say(id="m1", text="secret plans", to="bob"))
    assert enter(room, 3, "bob", "mallory-secret", client_id="mallory")[1:] == []
    assert enter(room, 5, "eve", None, client_id="eve")[1:] == []
    room.handle(5, ev.Got(ids=("h-1",)))  # a got for someone else's message changes nothing
    room.handle(3, ev.Got(ids=("h-1",)))
    assert len(room.mailbox) == 1


def test_senders_without_a_mailbox_and_unknown_names_are_refused_as_before(clock):
    room = make_room(clock)
    enter(room, 1, "alice", None)  # an older client, or nc: cannot read `held`
    enter(room, 2, "bob", "b")
    room.leave(2)
    refused = sent_to(room.handle(1, ev.Say(id="m1", text="hi", to="bob")), 1)
    assert [e.code for e in refused] == ["no_such_member"]
    enter(room, 3, "carol", "c")
    refused = sent_to(room.handle(3, ev.Say(id="m2", text="hi", to="nobody")), 3)
    assert [e.code for e in refused] == ["no_such_member"]


def test_kept_messages_are_bounded_per_member_and_in_all_and_expire(clock):
    room = make_room(clock, mail=MailLimits(per_member=2, total=3, expiry=100.0))
    enter(room, 1, "alice", "a")
    for peer, nick in ((2, "bob"), (3, "carol")):
        enter(room, peer, nick, nick)
        room.leave(peer)
    codes = []
    for n, to in enumerate(("bob", "bob", "bob", "carol", "carol")):
        answer = sent_to(room.handle(1, ev.Say(id=f"m{n}", text="hi", to=to)), 1)[0]
        codes.append(answer.TYPE if isinstance(answer, ev.Held) else answer.code)
    assert codes == ["held", "held", "mailbox_full", "held", "mailbox_full"]
    assert len(room.mailbox) == 3
    clock.advance(100.0)
    assert enter(room, 4, "bob", "bob")[1:] == []  # expired: dropped, not delivered
    assert len(room.mailbox) == 0
    # The departure is forgotten with its age too: a message to carol is refused now.
    refused = sent_to(room.handle(1, ev.Say(id="late", text="hi", to="carol")), 1)
    assert [e.code for e in refused] == ["no_such_member"]


def test_a_big_backlog_comes_in_frames_within_the_limits(clock):
    room = make_room(clock, rate_per_second=0)
    enter(room, 1, "alice", "a")
    enter(room, 2, "bob", "b")
    room.leave(2)
    for n in range(100):
        room.handle(1, ev.Say(id=f"m{n}", text="长" * 2000, to="bob"))
    frames = enter(room, 3, "bob", "b", client_id="bob-2")[1:]
    assert len(frames) > 1 and all(isinstance(f, ev.Mail) for f in frames)
    assert [m.id for f in frames for m in f.messages] == [f"h-{n}" for n in range(1, 101)]


def test_the_journal_is_told_every_change_and_a_restored_mailbox_delivers(clock):
    room = make_room(clock)
    room.keep_journal([])
    enter(room, 1, "alice", "a")
    enter(room, 2, "bob", "b")
    room.leave(2)
    room.handle(1, ev.Say(id="m1", text="hi", to="bob"))
    messages, changes = room.unsaved.take()
    assert messages == []
    assert [type(c) for c in changes] == [Departed, Stored]

    # A new room (the host restarted) restores what the journal held.
    again = make_room(clock)
    again.keep_journal([])
    again.mailbox.restore([changes[0].away], [changes[1].kept])
    assert not again.unsaved
    sent = enter(again, 7, "bob", "b")
    assert [m.text for m in sent[1].messages] == ["hi"]
    again.handle(7, ev.Got(ids=("h-1",)))
    assert [type(c) for c in again.unsaved.take()[1]] == [Returned, Removed]


def test_room_messages_are_noted_for_the_journal_and_restored_history_is_replayed(clock):
    room = make_room(clock, rate_per_second=0)
    earlier = [ev.ChatMessage(f"old-{n}", "zoe", f"before {n}", T0 - 60) for n in range(3)]
    room.keep_journal(earlier)
    enter(room, 1, "alice", "a")
    room.handle_says(1, [ev.Say(id="s1", text="one"), ev.Say(id="s2", text="two")])
    room.handle(1, ev.Say(id="s3", text="three"))
    room.handle(1, ev.Say(id="s4", text="private", to="alice"))
    messages, _ = room.unsaved.take()
    assert [m.text for m in messages] == ["one", "two", "three"]  # room messages only
    assert not room.unsaved
    welcome = enter(room, 2, "bob", "b")[0]
    assert [m.text for m in welcome.history] == ["before 0", "before 1", "before 2", "one", "two", "three"]


def test_the_mailbox_secret_is_kept_only_as_a_digest(clock):
    room = make_room(clock)
    enter(room, 1, "alice", "alice-secret")
    room.leave(1)
    away = room.mailbox.away("alice")
    assert away is not None and away.box == secret_digest("alice-secret") and b"alice-secret" not in away.box
