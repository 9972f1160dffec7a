"""The controller without a window or a network: fake client, view and shell."""

from __future__ import annotations

import errno

import pytest

from gui import i18n
from gui.controller import Controller
from gui.model.changes import Incoming
from gui.model.values import ROOM
from gui.settings import Settings
from gui.wording import failure_sentence, send_refused_sentence
from net.api import (
    ClientConfig,
    ClientState,
    Delivered,
    DeliveryFailed,
    FailureKind,
    HostStartError,
    LatencyMeasured,
    StateChanged,
    Transport,
)
from net.client.errors import MessageEmpty, MessageTooLong, OutboxFull, SendRefused
from net.protocol import events as ev
from net.protocol.limits import PROTOCOL_VERSION
from tests.gui.conftest import HandClock


class FakeClient:
    def __init__(self, transport, config: ClientConfig, on_event) -> None:
        self.transport = transport
        self.config = config
        self.on_event = on_event
        self.state = ClientState.CONNECTING
        self.nick = config.nick
        self.sent: list[tuple[str, str | None, bool]] = []
        self.renames: list[str] = []
        self.typing: list[tuple[bool, str | None]] = []
        self.started = self.closed = False
        self.refusal: SendRefused | None = None  # raised by send_message when set

    def start(self) -> None:
        self.started = True

    def send_message(self, text, *, to=None, action=False) -> str:
        if self.refusal is not None:
            raise self.refusal
        self.sent.append((text, to, action))
        return f"local-{len(self.sent)}"

    def rename(self, nick) -> None:
        self.renames.append(nick)

    def set_typing(self, active, to=None) -> None:
        self.typing.append((active, to))

    def request_members(self) -> None:
        pass

    def close(self, reason="") -> None:
        self.closed = True


class FakeView:
    def __init__(self) -> None:
        self.lines: dict[str | None, list] = {}
        self.calls: list[tuple] = []
        self.status = None
        self.members: list = []
        self.typing: dict[str | None, list[str]] = {}

    def add_lines(self, conversation, lines) -> None:
        self.lines.setdefault(conversation, []).extend(lines)

    def texts(self, conversation=ROOM) -> list[str]:
        return [line.text for line in self.lines.get(conversation, [])]

    def mark_delivered(self, local_id, when, mark, again="") -> None:
        self.calls.append(("delivered", local_id, when, mark))

    def mark_failed(self, local_id, mark) -> None:
        self.calls.append(("failed", local_id, mark))

    def set_members(self, members, typing) -> None:
        self.members = members

    def set_typing(self, conversation, names) -> None:
        self.typing[conversation] = names

    def set_status(self, status) -> None:
        self.status = status

    def set_room(self, name, own_nick) -> None:
        self.calls.append(("room", name, own_nick))

    def open_private(self, key, nick, focus) -> None:
        self.calls.append(("open", key, nick, focus))

    def rename_private(self, old_key, new_key, nick) -> None:
        self.calls.append(("rename", old_key, new_key, nick))

    def clear(self, conversation) -> None:
        self.lines.pop(conversation, None)


class FakeShell:
    def __init__(self) -> None:
        self.view = FakeView()
        self.start_errors: list[str | None] = []
        self.nickname_wrong: list[bool] = []  # per show_start: the cursor to the nickname
        self.quits = 0
        self.attention_calls: list[tuple[int, bool]] = []
        self.incoming: list = []  # the live messages handed over with each attention call
        self.saves = 0
        self.warnings: list = []  # KeyWarning per warning shown
        self.password_asks: list[tuple[str, bool]] = []

    def show_chat(self):
        return self.view

    def show_start(self, error=None, *, nickname_wrong=False) -> None:
        self.start_errors.append(error)
        self.nickname_wrong.append(nickname_wrong)

    def quit(self) -> None:
        self.quits += 1

    def attention(self, count, mention, incoming) -> None:
        self.attention_calls.append((count, mention))
        self.incoming.append(incoming)

    def save_settings(self) -> None:
        self.saves += 1

    def warn_key(self, warning) -> None:
        self.warnings.append(warning)

    def ask_password(self, address, wrong) -> None:
        self.password_asks.append((address, wrong))


@pytest.fixture
def rig():
    shell = FakeShell()
    clients: list[FakeClient] = []
    clock = HandClock()

    def make_client(transport, config, on_event):
        client = FakeClient(transport, config, on_event)
        clients.append(client)
        return client

    controller = Controller(Settings(), shell, lambda _e: None, client_factory=make_client, clock=clock)
    return controller, shell, clients, clock


def welcome(nick="me", members=("me", "bob")):
    return ev.Welcome(
        version=PROTOCOL_VERSION,
        nick=nick,
        room="Room",
        members=tuple(ev.MemberInfo(m, host=(m == "bob")) for m in members),
    )


def joined(rig):
    controller, shell, clients, _clock = rig
    assert controller.join("me", "10.0.0.5:4000") is None
    controller.handle([welcome(), StateChanged(ClientState.CONNECTED)])
    return controller, shell, clients[0]


def test_join_starts_a_client_with_the_address_and_settings(rig):
    controller, shell, clients, _ = rig
    assert controller.join("me", " 10.0.0.5:4000 ") is None
    client = clients[0]
    assert client.started and client.transport is Transport.TCP
    assert (client.config.host, client.config.port, client.config.nick) == ("10.0.0.5", 4000, "me")
    assert client.config.client_id == controller.client_id
    assert controller.settings.recent_hosts == ["10.0.0.5:4000"]
    assert shell.saves == 1


def test_join_uses_the_announced_transport_over_the_setting(rig):
    controller, _, clients, _ = rig
    controller.join("me", "10.0.0.5", Transport.UDP)
    assert clients[0].transport is Transport.UDP
    assert clients[0].config.port == controller.settings.default_port


@pytest.mark.parametrize(
    ("nick", "address", "fragment"),
    [("", "10.0.0.5", "nickname"), ("me", "", "address"), ("me", "a b", "is not an address")],
)
def test_join_refuses_bad_input_without_connecting(rig, nick, address, fragment):
    controller, _, clients, _ = rig
    assert fragment in controller.join(nick, address)
    assert not clients


def test_welcome_opens_the_chat_view_with_members_and_history(rig):
    controller, shell, _clients, _ = rig
    controller.join("me", "h")
    history = (ev.ChatMessage("h1", "bob", "earlier", 1.0), ev.ChatMessage("h2", "me", "mine", 2.0))
    controller.handle(
        [ev.Welcome(1, "me", "Room", (ev.MemberInfo("me"), ev.MemberInfo("bob", True)), history)]
    )
    view = shell.view
    assert ("room", "Room", "me") in view.calls
    assert [m.nick for m in view.members] == ["bob", "me"]  # the host first
    assert view.texts()[:2] == ["earlier", "mine"]
    assert view.lines[ROOM][1].own
    assert "You joined “Room” as me." in view.texts()


def test_a_failed_first_connection_goes_back_with_the_sentence(rig):
    controller, shell, clients, _ = rig
    controller.join("me", "10.0.0.5")
    controller.handle([StateChanged(ClientState.DISCONNECTED, "refused", FailureKind.REFUSED)])
    assert clients[0].closed
    assert controller.session is None
    assert shell.start_errors[-1].startswith("Nobody is hosting a chat at 10.0.0.5:")


def test_every_failure_kind_has_a_sentence():
    for kind in FailureKind:
        sentence = failure_sentence(kind, "10.0.0.5:47800")
        assert sentence.endswith(".") and len(sentence.split()) >= 4, kind


def test_messages_commands_and_delivery(rig):
    controller, shell, client = joined(rig)
    view = shell.view
    assert controller.submit("hello", ROOM)
    assert client.sent[-1] == ("hello", None, False)
    line = view.lines[ROOM][-1]
    assert line.own and line.local_id == "local-1" and line.mark == "sending…"
    controller.handle([Delivered("local-1", "m1", 5.0)])
    assert ("delivered", "local-1", 5.0, "✓") in view.calls  # the host's time, to be shown

    assert controller.submit("/me waves", ROOM)
    assert client.sent[-1] == ("waves", None, True)
    assert not controller.submit("/bogus", ROOM)
    assert "There is no command /bogus." in view.texts()[-1]
    assert not controller.submit("/msg", ROOM)
    assert view.texts()[-1] == "Usage: /msg NICK TEXT"
    assert not controller.submit("x" * 20_000, ROOM)
    assert "too long" in view.texts()[-1]
    assert controller.submit("/quit", ROOM) and shell.quits == 1


@pytest.mark.parametrize(
    ("refusal", "sentence"),
    [
        (MessageEmpty(), "There is nothing to send: this message holds only invisible characters."),
        (MessageTooLong(100), "This message is too long: at most 100 characters can be sent at once."),
        (OutboxFull(2_000), "This message cannot be sent: too many are still waiting to go out."),
    ],
)
def test_each_refused_message_is_worded_for_its_reason(rig, refusal, sentence):
    controller, shell, client = joined(rig)
    client.refusal = refusal
    assert not controller.submit("hello", ROOM)  # False: the input is kept
    assert shell.view.lines[ROOM][-1].kind == "error"
    assert shell.view.texts()[-1] == sentence


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_three_refusals_read_differently(language):
    i18n.set_language(language)
    try:
        sentences = {send_refused_sentence(r) for r in (MessageEmpty(), MessageTooLong(10), OutboxFull(5))}
    finally:
        i18n.set_language("en")
    assert len(sentences) == 3


def test_private_messages_open_a_conversation(rig):
    controller, shell, client = joined(rig)
    view = shell.view
    controller.handle([ev.ChatMessage("p1", "bob", "psst", 3.0, to="me")])
    assert ("open", "bob", "bob", False) in view.calls
    assert view.texts("bob") == ["psst"]
    assert shell.attention_calls[-1] == (1, True)  # a private message counts as a mention
    assert shell.incoming[-1] == [Incoming("bob", "bob", "psst", private=True)]  # for a notification
    assert controller.submit("hi back", "bob")
    assert client.sent[-1] == ("hi back", "bob", False)
    assert controller.submit("/msg bob again", ROOM)
    assert client.sent[-1] == ("again", "bob", False)
    controller.handle([DeliveryFailed("local-2", "bob is not here")])
    assert view.calls[-1][:2] == ("failed", "local-2")


def test_renames_follow_members_and_private_tabs(rig):
    controller, shell, client = joined(rig)
    view = shell.view
    controller.open_private("bob", focus=False)
    controller.handle([ev.Renamed("bob", "robert", 4.0)])
    assert ("rename", "bob", "robert", "robert") in view.calls
    assert "bob is now known as robert." in view.texts()
    assert "bob is now known as robert." in view.texts("robert")
    assert {m.nick for m in controller.members()} == {"me", "robert"}
    controller.handle([ev.Renamed("me", "myself", 5.0)])
    assert controller.nick == "myself"
    assert "You are now known as myself." in view.texts()
    assert controller.submit("/nick new-me", ROOM)
    assert client.renames == ["new-me"]
    assert not controller.submit("/nick bad name", ROOM)


def test_join_leave_and_typing_with_expiry(rig):
    controller, shell, _client = joined(rig)
    _, _, _, clock = rig
    view = shell.view
    controller.handle([ev.Joined("carol", 6.0)])
    assert "carol joined the chat." in view.texts()
    controller.handle([ev.TypingNotice("carol", True)])
    assert view.typing[ROOM] == ["carol"]
    clock.now += 9
    controller.tick()
    assert view.typing[ROOM] == []
    controller.handle([ev.Left("carol", 7.0)])
    assert "carol left the chat." in view.texts()
    assert "carol" not in {m.nick for m in controller.members()}


def test_status_follows_states_and_latency(rig):
    controller, shell, _client = joined(rig)
    view = shell.view
    assert view.status.state is ClientState.CONNECTED
    controller.handle([LatencyMeasured(0.004)])
    assert view.status.rtt == 0.004
    controller.handle([StateChanged(ClientState.RECONNECTING, "bye", FailureKind.HOST_LEFT, retry_in=2.0)])
    assert view.status.state is ClientState.RECONNECTING
    assert view.status.reason == "The host closed the chat."
    assert view.status.rtt is None
    assert "The host closed the chat." in view.texts()


def test_host_start_error_is_a_sentence_with_a_free_port(rig):
    controller, _shell, clients, _ = rig

    class TakenHost:
        port = 0

        def start(self) -> None:
            try:
                raise OSError(errno.EADDRINUSE, "in use")
            except OSError as exc:
                raise HostStartError("port in use") from exc

        def stop(self, reason="") -> None:
            pass

    controller._make_host = lambda transport, config, on_event: TakenHost()
    sentence = controller.host("me", "Room", 47800, port_given=True)
    assert sentence.startswith("Port 47800 is already in use on this PC.")
    assert controller.suggested_port is not None and controller.suggested_port > 47800
    assert not clients


def test_a_left_sessions_last_events_never_reach_the_next_one():
    """Leave and join again before the main loop drained the queue: the old client's last
    events (its "disconnected" above all) must not read as the new join failing."""
    queue: list[object] = []
    shell = FakeShell()
    clients: list[FakeClient] = []

    def make_client(transport, config, on_event):
        clients.append(FakeClient(transport, config, on_event))
        return clients[-1]

    controller = Controller(Settings(), shell, queue.append, client_factory=make_client, clock=HandClock())
    controller.join("me", "10.0.0.5:4000")
    old = clients[-1]
    old.on_event(welcome())
    controller.handle(queue[:])
    queue.clear()
    old.on_event(ev.Joined("late", 9.0))  # queued, not yet shown
    controller.leave()
    old.on_event(StateChanged(ClientState.DISCONNECTED, "left", FailureKind.CLOSED))  # while closing
    controller.join("me", "10.0.0.5:4000")
    new = clients[-1]
    new.on_event(StateChanged(ClientState.CONNECTING))
    controller.handle(queue[:2])  # the old Joined and the marker: nothing for the new session
    controller.handle(queue[2:])
    assert controller.session is not None and controller.session.client is new
    assert controller.session.model.status().state is ClientState.CONNECTING
    assert shell.start_errors == [None]  # only the leave: no failure shown
    new.on_event(welcome())
    controller.handle(queue[3:])
    assert "late" not in {m.nick for m in controller.members()}
