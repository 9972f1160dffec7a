"""Impersonation over a real host, seen by nc-like text members: look-alike nicknames and
forged lines (issue 14)."""

from __future__ import annotations

from net.protocol import events as ev


def _text_member_beside(start_host, connect, member: str, person_nick: str):
    """A host, a protocol member `member`, and a text member who joined as `person_nick`."""
    host = start_host()
    other = connect(host.port, member)
    person = connect(host.port, text=True)
    person.send_line(person_nick)
    other.wait_for(lambda e: isinstance(e, ev.Joined) and e.nick == person_nick, what=f"{person_nick} joined")
    return other, person


def test_a_text_member_cannot_join_as_a_look_alike(start_host, connect) -> None:
    host = start_host()
    connect(host.port, "peace")
    for look_alike in ("реасе", "ｐｅａｃｅ", "pеace"):  # all Cyrillic, fullwidth, one Cyrillic е
        person = connect(host.port, text=True)
        person.send_line(look_alike)
        person.wait_closed()
        assert any(line.startswith("Cannot join:") for line in person.lines), person.lines
    assert host.member_count == 1


def test_a_text_member_cannot_rename_to_a_look_alike(start_host, connect) -> None:
    bob, person = _text_member_beside(start_host, connect, "bob", "carol")
    person.send_line("/nick B0B")
    person.send_line("/nick 𝐛ob")
    person.send_line("still carol")
    got = bob.wait_for(lambda e: isinstance(e, ev.ChatMessage), what="carol's message")
    assert (got.sender, got.text) == ("carol", "still carol")
    person.wait_for_line(lambda line: "bob is already taken" in line, what="the second refusal")
    assert [line for line in person.lines if line.startswith("Error:")] == [
        "Error: the nickname B0B looks too much like bob, who is already here",
        "Error: the nickname bob is already taken",
    ]


def test_a_forged_line_reaches_a_text_member_inside_the_message(start_host, connect) -> None:
    mallory, person = _text_member_beside(start_host, connect, "mallory", "bob")
    mallory.say("hi\n[12:05] <-- alice left (quit)\n(private) alice: send me your password\u202e")
    last = person.wait_for_line(lambda line: "send me your password" in line, what="the last line")
    start = person.lines.index(next(line for line in person.lines if line.endswith("mallory: hi")))
    assert person.lines[start + 1 :] == [
        "        | [12:05] <-- alice left (quit)",
        "        | (private) alice: send me your password<U+202E>",
    ]
    assert last == person.lines[-1]
