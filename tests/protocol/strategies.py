"""Hypothesis strategies for valid protocol events (what the codec must accept and round-trip)."""

from __future__ import annotations

import itertools

from hypothesis import strategies as st

from net.protocol import events as ev
from net.protocol.limits import MAX_ID_CHARS, MAX_REASON_CHARS

#: Any code point the codec accepts in a string field: no controls (C0, DEL, C1) and no
#: surrogates. Plenty of CJK and astral characters (emoji) to exercise multi-byte UTF-8.
_safe_chars = st.characters(blacklist_categories=("Cs", "Cc"))
_wide_chars = st.sampled_from('小明大家好中文字😀👋🎉𠀀é̃ß"\\/')
_chars = st.one_of(_safe_chars, _wide_chars)

ids = st.text(_chars, min_size=1, max_size=MAX_ID_CHARS)
nicks = st.text(_chars, min_size=1, max_size=30)
short_texts = st.text(_chars, max_size=40)
reasons = st.text(_chars, max_size=MAX_REASON_CHARS)
message_texts = st.text(st.one_of(_chars, st.sampled_from("\n\t")), min_size=1, max_size=200)
times = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
small_ints = st.integers(min_value=-(2**53), max_value=2**53)


def _optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


member_infos = st.builds(ev.MemberInfo, nick=nicks, host=st.booleans(), since=times)
chat_messages = st.builds(
    ev.ChatMessage,
    id=ids,
    sender=nicks,
    text=message_texts,
    time=times,
    to=_optional(nicks),
    action=st.booleans(),
)
_ping = st.builds(ev.Ping, token=short_texts)
_pong = st.builds(ev.Pong, token=short_texts)
_bye = st.builds(ev.Bye, reason=reasons)

#: Events a client may send once the connection is open (hello and bye excluded).
client_open_events = st.one_of(
    st.builds(ev.Say, id=ids, text=message_texts, to=_optional(nicks), action=st.booleans()),
    st.builds(ev.Rename, nick=nicks),
    st.builds(ev.Typing, active=st.booleans(), to=_optional(nicks)),
    st.just(ev.Who()),
    _ping,
    _pong,
)
hellos = st.builds(
    ev.Hello, version=small_ints, nick=nicks, client_id=ids, password=_optional(st.text(_chars, max_size=128))
)
client_events = st.one_of(hellos, client_open_events, _bye)

welcomes = st.builds(
    ev.Welcome,
    version=small_ints,
    nick=nicks,
    room=st.text(_chars, max_size=48),
    members=st.lists(member_infos, max_size=4).map(tuple),
    history=st.lists(chat_messages, max_size=4).map(tuple),
    time=times,
    heartbeat=times,
    rate=_optional(times),
    burst=_optional(small_ints),
)

#: Events a host may send once the connection is open (welcome, refuse and bye excluded).
host_open_events = st.one_of(
    chat_messages,
    st.builds(ev.Ack, id=ids, msg_id=ids, time=times),
    st.builds(ev.Joined, nick=nicks, time=times, host=st.booleans()),
    st.builds(ev.Left, nick=nicks, time=times, reason=reasons),
    st.builds(ev.Renamed, old=nicks, new=nicks, time=times),
    st.builds(ev.Members, members=st.lists(member_infos, max_size=4).map(tuple)),
    st.builds(ev.TypingNotice, nick=nicks, active=st.booleans(), to=_optional(nicks)),
    st.builds(
        ev.Error,
        code=st.text(_chars, min_size=1, max_size=64),
        text=reasons,
        ref=_optional(ids),
        retry_after=_optional(times),
    ),
    _ping,
    _pong,
)
host_events = st.one_of(
    welcomes,
    st.builds(ev.Refuse, code=st.text(_chars, min_size=1, max_size=64), text=reasons),
    host_open_events,
    _bye,
)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at the given offsets (taken modulo its length), without empty pieces.

    Empty pieces are left out because ``b""`` means end of stream to a connection.
    """
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[a:b] for a, b in itertools.pairwise([0, *points, len(data)]) if b > a]
