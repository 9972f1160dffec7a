"""Port 2425 is open to anyone on the LAN: bad packets, floods, forgery, amplification (pure engine).

The live version of these, through a real socket, is in test_bridge.py.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from net.ipmsg import codec as c
from net.ipmsg.engine import Identity, IpmsgEngine
from net.ipmsg.events import IpmsgMessage, IpmsgUsers
from net.ipmsg.guard import MAX_SOURCES, SOURCE_BURST
from net.ipmsg.peers import MAX_PEERS
from tests.ipmsg import peer

START = 1000.0
REAL = "10.0.0.7:2425"
FORGER = "10.0.0.66:2425"


def make_engine(nick: str = "a rather long nickname 的") -> IpmsgEngine:
    me = Identity(nick=nick, group="a rather long group name too", user="someuser", host="some-host-name")
    return IpmsgEngine(me, START, rng=random.Random(1))


def replies_after(engine: IpmsgEngine, now: float) -> list[tuple[str, bytes]]:
    engine.tick(now)
    return [(d.to, d.data) for d in engine.take()[0]]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_and_never_get_a_bigger_answer(data: bytes) -> None:
    engine = make_engine()
    engine.receive(data, FORGER, START)
    for to, reply in replies_after(engine, START + 10):
        assert to == FORGER and len(reply) <= len(data)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([c.BR_ENTRY, c.SENDMSG | c.SENDCHECKOPT, c.GETINFO, c.BR_ABSENCE, c.SENDMSG | c.SECRETOPT
                     | c.READCHECKOPT | c.SENDCHECKOPT]),
    st.binary(max_size=40), st.binary(max_size=8), st.binary(max_size=8),
)  # fmt: skip
def test_well_formed_packets_from_a_stranger_get_no_bigger_answer(
    command: int, extra: bytes, user: bytes, host: bytes
) -> None:
    engine = make_engine()
    user, host = user.replace(b":", b""), host.replace(b":", b"")
    data = c.build_packet(c.Packet(b"1", 5, user, host, command, extra))
    engine.receive(data, FORGER, START)
    for to, reply in replies_after(engine, START + 10):
        assert to == FORGER and len(reply) <= len(data)


def test_a_tiny_br_entry_gets_no_answer_or_a_shortened_one() -> None:
    engine = make_engine()
    tiny = b"1:1:a:b:1:x\0"
    engine.receive(tiny, FORGER, START)
    assert all(len(reply) <= len(tiny) for _to, reply in replies_after(engine, START + 10))
    engine = make_engine(nick="n")
    medium = peer.entry("someone with a nickname long enough for our answer", user=b"u", host=b"h")
    engine.receive(medium, FORGER, START)
    [(_to, answer)] = replies_after(engine, START + 10)
    assert len(answer) <= len(medium) and c.parse_packet(answer).mode == c.ANSENTRY


def test_a_verified_address_gets_full_answers() -> None:
    engine = make_engine()
    engine.enter(START)
    engine.take()
    engine.receive(peer.entry("x", command=c.ANSENTRY), REAL, START + 0.5)
    engine.receive(b"1:9:a:b:1:x\0", REAL, START + 1)
    [(_to, answer)] = replies_after(engine, START + 10)
    assert c.parse_entry_extra(c.parse_packet(answer).extra).encoding == b"utf-8"  # the full form


def test_a_flood_from_one_address_is_cut_to_its_burst() -> None:
    engine = make_engine("n")
    for number in range(5000):
        engine.receive(peer.message("spam", number=number + 1, user=b"u", host=b"h"), FORGER, START)
    datagrams, events = engine.take()
    messages = [e for e in events if isinstance(e, IpmsgMessage)]
    assert len(messages) <= SOURCE_BURST
    assert engine.guard.dropped >= 5000 - SOURCE_BURST
    assert len(datagrams) <= SOURCE_BURST


def test_many_forged_sources_keep_every_table_bounded() -> None:
    engine = make_engine("n")
    for index in range(MAX_SOURCES + 2000):
        source = f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}:2425"
        engine.receive(peer.entry(f"user{index}"), source, START + index * 0.001)
    assert engine.guard.tracked_sources <= MAX_SOURCES
    assert len(engine.peers) <= MAX_PEERS and engine.peers.refused > 0
    assert len(engine._answers) <= 256  # pending ANSENTRYs
    sent = sum(len(d.data) for d in engine.take()[0])
    assert sent == 0  # all answers still waiting for their delay


def test_a_packet_claiming_another_users_name_and_host_is_a_separate_entry() -> None:
    engine = make_engine("n")
    engine.receive(peer.feiq_entry("张三", user=b"zhangsan", host=b"ZHANG-PC"), REAL, START)
    engine.receive(peer.feiq_entry("张三", user=b"zhangsan", host=b"ZHANG-PC"), FORGER, START)
    engine.receive(peer.packet(c.BR_EXIT, user=b"zhangsan", host=b"ZHANG-PC"), FORGER, START + 1)
    engine.take()
    assert [user.address for user in engine.peers.users()] == [REAL]
    engine.receive(peer.message("我是张三", user=b"zhangsan", host=b"ZHANG-PC"), FORGER, START + 2)
    events = engine.take()[1]
    message = next(e for e in events if isinstance(e, IpmsgMessage))
    assert message.address == FORGER  # shown as from the forger's address, not the real user's
    assert any(isinstance(e, IpmsgUsers) for e in events)


def test_labels_are_cleaned_and_bounded() -> None:
    engine = make_engine("n")
    nasty = "\x1b[31m" + "长" * 500 + "\n\t"
    engine.receive(peer.entry(nasty, "g\x00roup", encoding="utf-8"), REAL, START)
    [user] = engine.peers.users()
    assert len(user.nick) <= 64 and all(char.isprintable() for char in user.nick)


def test_goodbyes_go_to_proven_users_only() -> None:
    engine = make_engine("n")
    engine.enter(START)
    engine.receive(peer.entry("proven", command=c.ANSENTRY), REAL, START + 1)
    engine.receive(peer.entry("maybe forged"), FORGER, START + 1)
    engine.take()
    engine.leave(START + 2)
    assert sorted(d.to for d in engine.take()[0]) == ["*", REAL]
