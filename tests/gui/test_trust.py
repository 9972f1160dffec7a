"""Trust without a window: pins and this PC's identity, join requests from invites, what to
ask after a failed join, the key warning's decision and words."""

from __future__ import annotations

import os
import stat

import pytest

from gui import i18n
from gui.chat_wording import joined
from gui.host_start import host_config
from gui.joining import AskPassword, JoinRequest, WarnKey, follow_up, join_request
from gui.settings import SettingError, Settings, check_password
from gui.trust import KeyChoice, KeyWarning, Trust, code_to_rejoin, pin_key
from gui.wording import failure_sentence, key_warning_text, key_warning_title
from net.addresses import AddressError
from net.api import FailureKind, KeyRejected, Transport
from net.paths import identity_dir, pins_file
from net.protocol import events as ev
from net.protocol.limits import PROTOCOL_VERSION
from net.room import RoomConfig
from net.room.outputs import Send
from net.room.room import Room
from net.secure.identity import room_code

OLD = bytes.fromhex("11" * 32)
NEW = bytes.fromhex("22" * 32)


def changed(failure: FailureKind = FailureKind.KEY_CHANGED) -> KeyRejected:
    return KeyRejected(room_code(OLD), NEW, failure)


# -- the dialog's decision ------------------------------------------------------------------


def test_only_connect_anyway_rejoins_and_then_expects_the_key_shown():
    warning = KeyWarning.of(changed(), "10.0.0.5:47800")
    assert code_to_rejoin(KeyChoice.CONNECT_ANYWAY, warning) == room_code(NEW)
    assert code_to_rejoin(KeyChoice.DONT_CONNECT, warning) is None
    assert code_to_rejoin(None, warning) is None  # the dialog closed without a choice


def test_the_warning_names_both_codes_and_says_nothing_was_sent():
    warning = KeyWarning.of(changed(), "10.0.0.5:47800")
    assert (warning.expected, warning.shown, warning.invited) == (room_code(OLD), room_code(NEW), False)
    text = key_warning_text(warning)
    assert room_code(OLD) in text and room_code(NEW) in text and "10.0.0.5:47800" in text
    assert "posing as the host" in text and "Nothing was sent" in text
    assert key_warning_title(warning) == "The chat’s room code has changed"


def test_an_invite_whose_code_does_not_match_is_worded_as_such():
    warning = KeyWarning.of(changed(FailureKind.KEY_MISMATCH), "10.0.0.5:47800")
    assert warning.invited
    assert key_warning_title(warning) == "This is not the chat the invite names"
    assert "The invite says" in key_warning_text(warning)


def test_the_warning_reads_in_chinese():
    i18n.set_language("zh_CN")
    warning = KeyWarning.of(changed(), "10.0.0.5:47800")
    text = key_warning_text(warning)
    assert "冒充" in text and room_code(OLD) in text and room_code(NEW) in text
    assert key_warning_title(warning) == "聊天的房间码已改变"


# -- pins and identity ------------------------------------------------------------------------


def test_pins_are_kept_per_address_and_a_code_overrides_them(tmp_path):
    trust = Trust(tmp_path)
    where = pin_key("10.0.0.5", 47800)
    assert where == "10.0.0.5:47800"  # as `main.py join` keys them (one file for both)
    assert trust.pinned(where, None) is None  # never met: trust on first use
    trust.verified(where, OLD)
    assert trust.pinned(where, None) == OLD
    assert trust.pinned(where, room_code(NEW)) is None  # the code decides, not the old pin
    trust.verified(where, NEW)  # the room proved the accepted code's key: the pin follows
    again = Trust(tmp_path)  # a later run reads the same file
    assert again.pinned(where, None) == NEW
    assert pins_file(tmp_path).exists()


def test_the_identity_is_made_once_in_the_settings_folder(tmp_path):
    first = Trust(tmp_path).identity()
    assert first.key_path.parent == identity_dir(tmp_path)
    assert Trust(tmp_path).identity().fingerprint == first.fingerprint
    assert len(first.code) == 24 and first.code.count("-") == 4


# -- join requests and what follows a failure ------------------------------------------------------


def test_an_invite_gives_address_transport_and_code(tmp_path):
    code = room_code(NEW)
    request = join_request("me", f" lanchat://127.0.0.1:4000/udp#{code.lower()} ", 47800, Transport.TCP)
    assert (request.host, request.port, request.transport, request.code) == (
        "127.0.0.1",
        4000,
        Transport.UDP,
        code,
    )
    assert request.where == "127.0.0.1:4000"
    config = request.client_config(client_id="c", resume_secret="s", trust=Trust(tmp_path))
    assert (config.expected_code, config.pinned, config.resume_secret) == (code, None, "s")
    assert len(config.mailbox) >= 32


def test_the_mailbox_secret_is_made_once_owner_only_and_kept_across_runs(tmp_path):
    first = Trust(tmp_path).mailbox()
    assert len(first) >= 32 and Trust(tmp_path).mailbox() == first  # a later run has the same
    path = identity_dir(tmp_path) / "mailbox.secret"
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("not a secret", encoding="ascii")  # damaged: a new one, not a crash
    again = Trust(tmp_path).mailbox()
    assert len(again) >= 32 and again != first


def test_a_plain_address_has_no_code_and_keeps_the_given_transport():
    request = join_request("me", "10.0.0.5", 47800, Transport.TCP)
    assert (request.host, request.port, request.transport, request.code) == (
        "10.0.0.5",
        47800,
        Transport.TCP,
        None,
    )


@pytest.mark.parametrize("text", ["lanchat://10.0.0.5#not-a-code", "lanchat://10.0.0.5/sctp", "a b"])
def test_a_bad_invite_is_refused(text):
    with pytest.raises(AddressError):
        join_request("me", text, 47800, Transport.TCP)


def test_what_to_ask_after_a_failed_join():
    request = JoinRequest("me", "10.0.0.5", 47800, Transport.TCP)
    assert follow_up(FailureKind.PASSWORD, None, request) == AskPassword("10.0.0.5:47800", wrong=False)
    retried = request.again(password="guess")
    assert follow_up(FailureKind.PASSWORD, None, retried) == AskPassword("10.0.0.5:47800", wrong=True)
    match follow_up(FailureKind.KEY_CHANGED, changed(), request):
        case WarnKey(warning=warning):
            assert warning.shown == room_code(NEW)
        case other:
            pytest.fail(f"expected a key warning, got {other}")
    assert follow_up(FailureKind.REFUSED, None, request) is None
    accepted = retried.again(code=room_code(NEW))
    assert (accepted.code, accepted.password) == (room_code(NEW), "guess")  # both kept


def test_passwords_are_checked_as_typed():
    assert check_password(" with spaces ", required=True) == " with spaces "
    assert check_password("", required=False) == ""
    with pytest.raises(SettingError, match="type the chat’s password"):
        check_password("", required=True)
    with pytest.raises(SettingError, match="at most 128"):
        check_password("x" * 129, required=False)


def test_the_host_config_carries_identity_password_and_the_plaintext_setting(tmp_path):
    identity = Trust(tmp_path).identity()
    config = host_config(Settings(), 4000, "Room", owner="me-id", identity=identity, password="")
    assert config.identity == identity and not config.allow_plaintext and config.room.password is None
    config = host_config(
        Settings(allow_plaintext=True), 4000, "Room", owner="me-id", identity=identity, password="pw"
    )
    assert config.allow_plaintext and config.room.password == "pw"
    assert config.room.owner_client_id == "me-id"


# -- words ------------------------------------------------------------------------------------------


def session_in_use_text() -> str:
    """What the room says to a second connection with a member's client id but not its secret."""
    room = Room(RoomConfig(name="r"))
    room.join("first", ev.Hello(PROTOCOL_VERSION, "ann", "same-id", resume="secret"))
    refusal = next(
        out.event
        for out in room.join("second", ev.Hello(PROTOCOL_VERSION, "ann", "same-id", resume="guess"))
        if isinstance(out, Send) and isinstance(out.event, ev.Refuse)
    )
    assert refusal.code == "session_in_use"
    return refusal.text


def test_the_new_failures_and_session_in_use_are_worded():
    for kind in (FailureKind.ENCRYPTION, FailureKind.KEY_CHANGED, FailureKind.KEY_MISMATCH):
        assert "10.0.0.5:47800" in failure_sentence(kind, "10.0.0.5:47800")
    refusal = session_in_use_text()  # reaches the client as a PROTOCOL failure with this text
    assert failure_sentence(FailureKind.PROTOCOL, "h", refusal).startswith("The host still holds")
    assert "does not understand" in failure_sentence(FailureKind.PROTOCOL, "h", "bad frame")
    assert joined("bob", False, plaintext=True) == "bob joined the chat (unencrypted)."
    i18n.set_language("zh_CN")
    assert failure_sentence(FailureKind.PROTOCOL, "h", refusal).startswith("主持人仍保留")
    assert joined("bob", False, plaintext=True) == "bob 加入了聊天（未加密）。"
