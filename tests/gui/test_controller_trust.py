"""The controller's part in trust, with fakes: what each join expects of the host's key, the
pins it keeps, and asking again after a changed key or a needed password."""

from __future__ import annotations

import pytest

from gui.controller import Controller
from gui.settings import Settings
from gui.trust import Trust
from net.api import ClientState, FailureKind, HostVerified, KeyRejected, StateChanged
from net.protocol import events as ev
from net.secure.identity import room_code
from tests.gui.conftest import HandClock
from tests.gui.test_controller import FakeClient, FakeShell

OLD = bytes.fromhex("aa" * 32)
NEW = bytes.fromhex("bb" * 32)
WHERE = "10.0.0.5:4000"


class Rig:
    """A controller with fake clients; `handle` passes a batch as the bridge would, after
    what the controller itself queued (the marker behind an ended session)."""

    def __init__(self, directory) -> None:
        self.shell = FakeShell()
        self.clients: list[FakeClient] = []
        self.queue: list[object] = []
        self.trust = Trust(directory)
        self.controller = Controller(
            Settings(),
            self.shell,
            self.queue.append,
            client_factory=self.make_client,
            clock=HandClock(),
            trust=self.trust,
        )

    def make_client(self, transport, config, on_event) -> FakeClient:
        self.clients.append(FakeClient(transport, config, on_event))
        return self.clients[-1]

    def handle(self, batch: list[object]) -> None:
        queued = self.queue[:]
        self.queue.clear()
        self.controller.handle([*queued, *batch])


@pytest.fixture
def rig(tmp_path):
    return Rig(tmp_path)


def welcome() -> ev.Welcome:
    return ev.Welcome(1, "me", "Room", (ev.MemberInfo("me"), ev.MemberInfo("bob", host=True)))


def refused(failure: FailureKind) -> StateChanged:
    return StateChanged(ClientState.DISCONNECTED, "no", failure)


def test_the_first_join_pins_the_key_and_later_joins_expect_it(rig):
    controller, shell, clients, trust = rig.controller, rig.shell, rig.clients, rig.trust
    controller.join("me", WHERE)
    first = clients[-1].config
    assert (first.expected_code, first.pinned) == (None, None)  # never met: trust on first use
    assert first.resume_secret == controller.resume_secret and first.client_id == controller.client_id
    rig.handle([HostVerified(OLD, first_use=True), welcome(), StateChanged(ClientState.CONNECTED)])
    assert trust.pinned(WHERE, None) == OLD
    assert shell.view.status.encrypted and shell.view.status.code == room_code(OLD)
    assert any(room_code(OLD) in text and "first time" in text for text in shell.view.texts())

    controller.leave()
    controller.join("me", WHERE)
    again = clients[-1].config
    assert again.pinned == OLD and again.expected_code is None
    assert again.resume_secret == first.resume_secret  # one per run: a quick rejoin resumes


def test_an_invite_expects_its_code_and_pins_what_it_proved(rig):
    controller, clients, trust = rig.controller, rig.clients, rig.trust
    trust.verified(WHERE, OLD)  # an older pin does not count against an invite
    controller.join("me", f"lanchat://{WHERE}#{room_code(NEW)}")
    config = clients[-1].config
    assert (config.expected_code, config.pinned) == (room_code(NEW), None)
    rig.handle([HostVerified(NEW, first_use=False)])
    assert trust.pinned(WHERE, None) == NEW


def test_a_changed_key_warns_and_connect_anyway_expects_the_new_code(rig):
    controller, shell, clients, trust = rig.controller, rig.shell, rig.clients, rig.trust
    trust.verified(WHERE, OLD)
    controller.join("me", WHERE)
    # The rejection and the failure may arrive in separate batches.
    rig.handle([KeyRejected(room_code(OLD), NEW, FailureKind.KEY_CHANGED)])
    assert not shell.warnings
    rig.handle([refused(FailureKind.KEY_CHANGED)])
    assert controller.session is None and clients[-1].closed
    assert "nothing was sent" in shell.start_errors[-1]
    (warning,) = shell.warnings
    assert (warning.expected, warning.shown, warning.address) == (room_code(OLD), room_code(NEW), WHERE)
    assert trust.pinned(WHERE, None) == OLD  # nothing changes until the user says so

    controller.rejoin(code=warning.shown)
    config = clients[-1].config
    assert (config.expected_code, config.pinned, config.host, config.port) == (
        room_code(NEW),
        None,
        "10.0.0.5",
        4000,
    )
    rig.handle([HostVerified(NEW, first_use=False), welcome()])
    assert trust.pinned(WHERE, None) == NEW


def test_a_needed_password_is_asked_for_and_sent_on_the_next_join(rig):
    controller, shell, clients = rig.controller, rig.shell, rig.clients
    controller.join("me", WHERE)
    rig.handle([refused(FailureKind.PASSWORD)])
    assert shell.password_asks == [(WHERE, False)]
    assert shell.start_errors[-1] == "The chat needs a password: none was given, or it was wrong."
    controller.rejoin(password="guess")
    assert clients[-1].config.password == "guess"
    rig.handle([refused(FailureKind.PASSWORD)])
    assert shell.password_asks[-1] == (WHERE, True)  # said to be wrong this time
    controller.rejoin(password="sesame")
    assert clients[-1].config.password == "sesame"
    rig.handle([welcome(), StateChanged(ClientState.CONNECTED)])
    assert controller.session is not None and controller.session.model.welcomed


def test_other_failures_ask_nothing(rig):
    controller, shell = rig.controller, rig.shell
    controller.join("me", WHERE)
    rig.handle([refused(FailureKind.REFUSED)])
    assert not shell.warnings and not shell.password_asks


def test_a_plaintext_member_is_marked_and_announced(rig):
    controller, shell = rig.controller, rig.shell
    controller.join("me", WHERE)
    rig.handle([welcome(), ev.Joined("nc-user", 5.0, plaintext=True)])
    assert "nc-user joined the chat (unencrypted)." in shell.view.texts()
    marked = {m.nick: m.plaintext for m in shell.view.members}
    assert marked == {"bob": False, "me": False, "nc-user": True}
    rig.handle([ev.Renamed("nc-user", "telnet", 6.0)])
    assert {m.nick: m.plaintext for m in controller.members()}["telnet"]  # still marked
