"""The IP Messenger state machine: entry and answers, messages and acknowledgements, resends."""

from __future__ import annotations

import random

import pytest

from net.ipmsg import codec as c
from net.ipmsg.engine import BROADCAST, Datagram, Identity, IpmsgEngine, UnknownUser
from net.ipmsg.events import IpmsgDelivered, IpmsgMessage, IpmsgRead, IpmsgUndelivered, IpmsgUsers
from net.ipmsg.outbox import MAX_ATTEMPTS, MAX_PENDING, OutboxFull
from tests.ipmsg import peer

FEIQ = "10.0.0.7:2425"
IPTUX = "10.0.0.8:2425"
START = 1000.0


def make_engine(**options: object) -> IpmsgEngine:
    me = Identity(nick="小王", group="LanChat", user="wang", host="wang-pc")
    return IpmsgEngine(me, START, rng=random.Random(7), first_packet_no=500, **options)  # type: ignore[arg-type]


def parsed(datagrams: list[Datagram]) -> list[tuple[str, c.Packet]]:
    return [(d.to, c.parse_packet(d.data)) for d in datagrams]


def test_enter_broadcasts_br_entry_announcing_utf8() -> None:
    engine = make_engine()
    engine.enter(START)
    [(to, packet)] = parsed(engine.take()[0])
    assert to == BROADCAST and packet.mode == c.BR_ENTRY and packet.has(c.CAPUTF8OPT)
    assert packet.user == b"wang" and packet.host == b"wang-pc"
    entry = c.parse_entry_extra(packet.extra)
    assert entry.nick == "小王".encode("gbk") and entry.group == b"LanChat" and entry.encoding == b"utf-8"


def test_br_entry_is_listed_and_answered_after_a_random_delay() -> None:
    engine = make_engine()
    engine.receive(peer.feiq_entry("张三", "研发部", user=b"zhangsan", host=b"ZHANG-PC"), FEIQ, START)
    datagrams, events = engine.take()
    assert datagrams == []  # not at once: after a random delay
    [users] = events
    assert isinstance(users, IpmsgUsers)
    [user] = users.users
    assert (user.nick, user.group, user.host, user.address, user.encoding) == (
        "张三",
        "研发部",
        "ZHANG-PC",
        FEIQ,
        "gbk",
    )
    deadline = engine.next_deadline()
    assert deadline is not None and START <= deadline <= START + 4.0
    engine.tick(deadline)
    [(to, answer)] = parsed(engine.take()[0])
    assert to == FEIQ and answer.mode == c.ANSENTRY and not answer.has(c.UTF8OPT)
    assert c.parse_entry_extra(answer.extra).nick == "小王".encode("gbk")


def test_the_answer_delay_is_random() -> None:
    deadlines = set()
    for seed in range(5):
        engine = IpmsgEngine(Identity("me"), START, rng=random.Random(seed))
        engine.receive(peer.feiq_entry("x"), FEIQ, START)
        deadlines.add(engine.next_deadline())
    assert len(deadlines) == 5


def test_ansentry_and_absence_update_and_exit_removes() -> None:
    engine = make_engine()
    engine.enter(START)
    engine.receive(peer.iptux_entry("李四", "Dev", command=c.ANSENTRY), IPTUX, START + 0.1)
    [users] = engine.take()[1]
    assert isinstance(users, IpmsgUsers) and users.users[0].encoding == "utf-8"
    assert not users.users[0].absent  # iptux sets ABSENCEOPT on every entry: not "away"
    assert engine.guard.is_verified(IPTUX)  # it answered our BR_ENTRY
    engine.receive(peer.iptux_entry("李四 (away)", "Dev", command=c.BR_ABSENCE), IPTUX, START + 1)
    [users] = engine.take()[1]
    assert isinstance(users, IpmsgUsers) and users.users[0].nick == "李四 (away)"
    engine.receive(peer.packet(c.BR_EXIT), IPTUX, START + 2)
    assert engine.take()[1] == [IpmsgUsers(())]


def test_a_message_is_acknowledged_shown_once_and_resends_reacknowledged() -> None:
    engine = make_engine()
    engine.receive(peer.feiq_entry("张三"), FEIQ, START)
    engine.take()
    data = peer.message("你好，世界", number=777)
    engine.receive(data, FEIQ, START + 1)
    datagrams, events = engine.take()
    [(to, ack)] = parsed(datagrams)
    assert to == FEIQ and ack.mode == c.RECVMSG and c.acknowledged_number(ack.extra) == 777
    assert events == [IpmsgMessage(FEIQ, "张三", "你好，世界", 777)]
    retry = peer.message("你好，世界", number=777, command=c.SENDMSG | c.SENDCHECKOPT | c.RETRYOPT)
    engine.receive(retry, FEIQ, START + 2)
    datagrams, events = engine.take()
    assert len(datagrams) == 1 and events == []  # acknowledged again, not shown twice


def test_utf8_flagged_message_from_an_unknown_sender_lists_it() -> None:
    engine = make_engine()
    data = peer.message("héllo 你好", encoding="utf-8", command=c.SENDMSG | c.UTF8OPT, user=b"ghost")
    engine.receive(data, "10.0.0.9:2425", START)
    _datagrams, events = engine.take()
    assert isinstance(events[0], IpmsgUsers) and events[0].users[0].nick == "ghost"
    assert isinstance(events[1], IpmsgMessage) and events[1].text == "héllo 你好"


def test_our_message_is_resent_until_recvmsg_then_delivered() -> None:
    engine = make_engine()
    engine.receive(peer.iptux_entry("李四"), IPTUX, START)
    engine.take()
    message_id = engine.send_message(IPTUX, "中文消息", START)
    [(to, sent)] = parsed(engine.take()[0])
    assert to == IPTUX and sent.mode == c.SENDMSG and sent.has(c.SENDCHECKOPT) and sent.has(c.UTF8OPT)
    assert sent.extra.rstrip(b"\0").decode() == "中文消息"
    engine.tick(START + 1.0)
    [(_to, resent)] = [(to, p) for to, p in parsed(engine.take()[0]) if p.mode == c.SENDMSG]
    assert resent.packet_no == sent.packet_no and resent.has(c.RETRYOPT)
    engine.receive(peer.packet(c.RECVMSG, b"%d" % sent.packet_no), IPTUX, START + 1.2)
    assert engine.take()[1] == [IpmsgDelivered(IPTUX, message_id)]
    engine.tick(START + 10)
    assert engine.take() == ([], [])


def test_an_unacknowledged_message_fails_after_bounded_resends() -> None:
    engine = make_engine()
    engine.receive(peer.feiq_entry("张三"), FEIQ, START)
    engine.take()
    message_id = engine.send_message(FEIQ, "hello", START)
    sends = len(engine.take()[0])
    events: list[object] = []
    now = START
    for _ in range(20):
        now += 1.0
        engine.tick(now)
        datagrams, new = engine.take()
        sends += len([d for d in datagrams if d.to == FEIQ and c.parse_packet(d.data).mode == c.SENDMSG])
        events += new
    assert sends == MAX_ATTEMPTS
    assert events == [IpmsgUndelivered(FEIQ, message_id)]


def test_a_recvmsg_from_another_address_does_not_acknowledge() -> None:
    engine = make_engine()
    engine.receive(peer.feiq_entry("张三"), FEIQ, START)
    engine.take()
    engine.send_message(FEIQ, "hello", START)
    [(_to, sent)] = parsed(engine.take()[0])
    engine.receive(peer.packet(c.RECVMSG, b"%d" % sent.packet_no), "10.0.0.66:2425", START + 0.5)
    assert engine.take()[1] == []
    assert engine.outbox.sent_to(FEIQ, sent.packet_no)


def test_a_long_message_goes_in_pieces_and_is_delivered_when_all_are_acknowledged() -> None:
    engine = make_engine()
    engine.receive(peer.feiq_entry("张三"), FEIQ, START)
    engine.take()
    text = "长" * 10_000  # 20 000 bytes in GBK: three datagrams within 8000 bytes each
    message_id = engine.send_message(FEIQ, text, START)
    sent = parsed(engine.take()[0])
    assert len(sent) == 3 and all(len(c.build_packet(p)) <= c.MAX_SEND_BYTES for _to, p in sent)
    assert "".join(c.message_text_bytes(p.extra).decode("gbk") for _to, p in sent) == text
    for index, (_to, packet) in enumerate(sent):
        engine.receive(peer.packet(c.RECVMSG, b"%d" % packet.packet_no), FEIQ, START + 0.1)
        expected = [IpmsgDelivered(FEIQ, message_id)] if index == 2 else []
        assert engine.take()[1] == expected


def test_refusals_are_visible() -> None:
    engine = make_engine()
    with pytest.raises(UnknownUser):
        engine.send_message(FEIQ, "hi", START)
    engine.receive(peer.feiq_entry("张三"), FEIQ, START)
    with pytest.raises(ValueError):
        engine.send_message(FEIQ, "   ", START)
    with pytest.raises(ValueError):
        engine.send_message(FEIQ, "x" * 70_000, START)
    for _ in range(MAX_PENDING):
        engine.send_message(FEIQ, "m", START)
    with pytest.raises(OutboxFull):
        engine.send_message(FEIQ, "one too many", START)


def test_exit_fails_pending_messages_at_once() -> None:
    engine = make_engine()
    engine.receive(peer.feiq_entry("张三"), FEIQ, START)
    message_id = engine.send_message(FEIQ, "hi", START)
    engine.take()
    engine.receive(peer.packet(c.BR_EXIT), FEIQ, START + 0.1)
    assert IpmsgUndelivered(FEIQ, message_id) in engine.take()[1]


def test_readmsg_is_reported_and_sealed_messages_get_one() -> None:
    engine = make_engine()
    engine.receive(peer.feiq_entry("张三"), FEIQ, START)
    engine.take()
    engine.receive(peer.packet(c.READMSG, b"612"), FEIQ, START)
    assert engine.take()[1] == [IpmsgRead(FEIQ, 612)]
    sealed = c.SENDMSG | c.SENDCHECKOPT | c.SECRETOPT | c.READCHECKOPT
    engine.receive(peer.message("secret", command=sealed, number=900), FEIQ, START)
    modes = [p.mode for _to, p in parsed(engine.take()[0])]
    assert modes == [c.RECVMSG, c.READMSG]


def test_unknown_and_feiq_specific_commands_are_ignored() -> None:
    engine = make_engine()
    for mode in (0x79, 0x72, 0x60, 0x90, 0xFF):
        engine.receive(peer.packet(mode, b"whatever", version=peer.FEIQ_VERSION), FEIQ, START)
    assert engine.take() == ([], [])
    assert engine.ignored == 5


def test_our_own_broadcast_heard_back_is_ignored() -> None:
    engine = make_engine()
    engine.enter(START)
    [datagram] = engine.take()[0]
    engine.receive(datagram.data, "127.0.0.1:2425", START)
    assert engine.take() == ([], [])
    assert len(engine.peers) == 0


def test_getinfo_is_answered_with_our_version() -> None:
    engine = make_engine()
    engine.enter(START)
    engine.take()
    engine.receive(peer.feiq_entry("x", command=c.ANSENTRY), FEIQ, START)  # verified: answered our entry
    engine.receive(peer.packet(c.GETINFO), FEIQ, START)
    [(_to, info)] = parsed(engine.take()[0])
    assert info.mode == c.SENDINFO and info.extra == b"LanChat\0"


def test_absence_of_an_ip_messenger_user() -> None:
    engine = make_engine()
    engine.receive(peer.entry("Taro", command=c.BR_ABSENCE | c.ABSENCEOPT), FEIQ, START)
    assert engine.peers.users()[0].absent
    engine.receive(peer.entry("Taro", command=c.BR_ABSENCE), FEIQ, START + 1)
    assert not engine.peers.users()[0].absent


def test_set_absent_broadcasts_br_absence() -> None:
    engine = make_engine()
    engine.set_absent(True, START)
    [(to, packet)] = parsed(engine.take()[0])
    assert to == BROADCAST and packet.mode == c.BR_ABSENCE and packet.has(c.ABSENCEOPT)
    engine.leave(START)
    [(to, packet)] = parsed(engine.take()[0])
    assert to == BROADCAST and packet.mode == c.BR_EXIT


def test_packet_numbers_grow() -> None:
    engine = make_engine()
    engine.enter(START)
    engine.set_absent(False, START)
    first, second = (p.packet_no for _to, p in parsed(engine.take()[0]))
    assert second > first


def test_rename_tells_everyone_with_br_absence() -> None:
    engine = make_engine()
    engine.rename("老王", START)
    [(to, packet)] = parsed(engine.take()[0])
    assert to == BROADCAST and packet.mode == c.BR_ABSENCE
    assert c.parse_entry_extra(packet.extra).nick == "老王".encode("gbk")
