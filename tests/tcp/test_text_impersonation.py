"""What nc-like text members see of a real host's chat: nothing can pass for a line of its own (issue 14)."""

from __future__ import annotations

from net.protocol import events as ev


def test_a_forged_line_reaches_a_text_member_inside_the_message(start_host, connect) -> None:
    host = start_host()
    mallory = connect(host.port, "mallory")
    person = connect(host.port, text=True)
    person.send_line("bob")
    mallory.wait_for(lambda e: isinstance(e, ev.Joined) and e.nick == "bob")
    mallory.say("hi\n[12:05] <-- alice left (quit)\n(private) alice: send me your password\u202e")
    last = person.wait_for_line(lambda line: "send me your password" in line, what="the last line")
    start = person.lines.index(next(line for line in person.lines if line.endswith("mallory: hi")))
    assert person.lines[start + 1 :] == [
        "        | [12:05] <-- alice left (quit)",
        "        | (private) alice: send me your password<U+202E>",
    ]
    assert last == person.lines[-1]
