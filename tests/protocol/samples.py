"""Hand-picked events of every kind, each optional field both used and left out.

Shared by the codec, connection and documentation tests (docs/PROTOCOL.md's examples were
generated from these with the real encoder).
"""

from __future__ import annotations

from net.protocol import events as ev

T0 = 1_763_790_240.5  # 2025-11-22 05:44:00.5 UTC

ALICE = ev.MemberInfo(nick="alice", host=True, since=T0 - 600)
XIAOMING = ev.MemberInfo(nick="小明", since=T0 - 60)

ROOM_MESSAGE = ev.ChatMessage(id="3f9a1c2e-41", sender="alice", text="hello, 大家好 👋", time=T0)
ACTION_MESSAGE = ev.ChatMessage(id="3f9a1c2e-42", sender="小明", text="waves", time=T0 + 1, action=True)
PRIVATE_MESSAGE = ev.ChatMessage(
    id="3f9a1c2e-43", sender="alice", text="psst\nsee you", time=T0 + 2, to="小明"
)

#: Every event a client may send (several variants of some).
CLIENT_EVENTS: tuple[ev.Event, ...] = (
    ev.Hello(version=1, nick="小明", client_id="5b0e8c1f7d3a4e21"),
    ev.Hello(version=1, nick="bob", client_id="c-2", password="open sesame"),
    ev.Say(id="m1", text="hello, 大家好 👋"),
    ev.Say(id="m2", text="waves", action=True),
    ev.Say(id="m3", text="psst\nsee you", to="alice"),
    ev.Rename(nick="Xiǎo_Míng"),
    ev.Typing(active=True),
    ev.Typing(active=False, to="alice"),
    ev.Hello(version=2, nick="鲍勃", client_id="c-3", resume="r-secret", mailbox="lasting-secret"),
    ev.Hello(version=2, nick="bob", client_id="c-4", handover=True, host_port=47800, host_key="ab" * 32),
    ev.Hello(version=2, nick="erin", client_id="c-6", handover=True, files=True),
    ev.Hello(version=2, nick="look", client_id="c-5", look=True),
    ev.Who(),
    ev.Got(ids=("3f9a1c2e-43", "3f9a1c2e-44")),
    ev.FileControl(
        op="offer", offer="f1", names=("照片", "report.pdf"), count=12, size=48213, port=47801, key="ab" * 32
    ),
    ev.FileControl(op="accept", offer="f1", to="alice"),
    ev.FileControl(op="grant", offer="f1", to="小明", token="q0XbW1bz-3rj5yR_0aUq8mMvbC2mHHdJ"),
    ev.FileControl(op="decline", offer="f1", to="alice", reason="no space"),
    ev.Ping(token="17"),
    ev.Pong(token="4"),
    ev.Bye(reason="closing the window"),
    ev.Bye(),
)

#: Every event a host may send (several variants of some).
HOST_EVENTS: tuple[ev.Event, ...] = (
    ev.Welcome(
        version=1,
        nick="小明",
        room="LanChat",
        members=(ALICE, XIAOMING),
        history=(ROOM_MESSAGE, ACTION_MESSAGE),
        time=T0 + 3,
        heartbeat=10.0,
        rate=20.0,
        burst=60,
    ),
    ev.Welcome(version=1, nick="bob", room=""),
    ev.Refuse(code="nick_taken", text="the nickname alice is already taken"),
    ROOM_MESSAGE,
    ACTION_MESSAGE,
    PRIVATE_MESSAGE,
    ev.Ack(id="m1", msg_id="3f9a1c2e-41", time=T0),
    ev.Held(id="m3", msg_id="3f9a1c2e-43", time=T0, to="alice", expires=T0 + 7 * 86400),
    ev.Mail(messages=(PRIVATE_MESSAGE,)),
    ev.Delivered(msg_id="3f9a1c2e-43", to="alice", time=T0 + 60),
    ev.Joined(nick="小明", time=T0 - 60),
    ev.Joined(nick="alice", time=T0 - 600, host=True),
    ev.Left(nick="bob", time=T0 + 5, reason="quit"),
    ev.Left(nick="carol", time=T0 + 6),
    ev.Renamed(old="小明", new="Xiǎo_Míng", time=T0 + 7),
    ev.Members(members=(ALICE, XIAOMING)),
    ev.Members(),
    ev.TypingNotice(nick="alice", active=True),
    ev.TypingNotice(nick="alice", active=False, to="小明"),
    ev.FileNotice(
        op="offer",
        offer="f1",
        sender="alice",
        time=1763790250.5,
        names=("照片",),
        count=12,
        size=48213,
        port=47801,
        key="ab" * 32,
        address="192.168.1.20",
    ),
    ev.FileNotice(
        op="grant",
        offer="f1",
        sender="alice",
        time=1763790251.5,
        to="小明",
        token="q0XbW1bz-3rj5yR_0aUq8mMvbC2mHHdJ",
    ),
    ev.Successors(
        epoch=0,
        room="LanChat",
        successors=(ev.SuccessorEntry("bob", ("192.168.1.21", "fd00::21"), 47800, "tcp", "ab" * 32),),
        cert="MIIBfzCCASWgAwIBAgIU",
        sig="MEUCIQDx3v",
    ),
    ev.Handover(
        epoch=3,
        room="大家",
        successors=(ev.SuccessorEntry("小明", ("192.168.1.30",), 47802, "udp", "cd" * 32),),
        cert="MIIBfzCCASWgAwIBAgIU",
        sig="MEQCIEm0",
    ),
    ev.Error(code="rate_limited", text="too many messages; wait 0.50 s", ref="m9", retry_after=0.5),
    ev.Error(code="bad_json", text="invalid JSON: Expecting value: line 1 column 1 (char 0)"),
    ev.Ping(token="8"),
    ev.Pong(token="17"),
    ev.Bye(reason="host stopped"),
)
