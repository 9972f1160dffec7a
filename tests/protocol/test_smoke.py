"""A first round trip through the codec and the state machine (the full suite is in sibling modules)."""

from net.protocol import Connection, ConnectionState, Role
from net.protocol import events as ev


def test_hello_welcome_round_trip_opens_both_ends() -> None:
    client, host = Connection(Role.CLIENT), Connection(Role.HOST)
    host.receive_data(client.send(ev.Hello(version=1, nick="小明", client_id="c1")))
    assert host.next_event() == ev.Hello(version=1, nick="小明", client_id="c1")
    welcome = ev.Welcome(version=1, nick="小明", room="r", members=(ev.MemberInfo("小明"),))
    client.receive_data(host.send(welcome))
    assert client.next_event() == welcome
    assert client.state is host.state is ConnectionState.OPEN
