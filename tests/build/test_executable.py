"""Acceptance tests of the built LanChat: what a user who double-clicks it gets.

Built once per session (tests/build/conftest.py). Each test drives the real executable:
the command line, a window-less host with a protocol and a plain-text client, the window on
a private Xvfb joining a host and chatting, closing it, and an error in a Tk callback, a
thread and start-up with no console at all.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from PyInstaller.archive.readers import CArchiveReader

from bench.startup import measure_startup_detail
from gui.crash import DIALOG_TITLE, TEST_CRASH_MESSAGE
from gui.settings import Settings, SettingsStore
from net import __version__
from net.protocol import events as ev
from tests.build.clients import ProtocolClient, TextClient
from tests.build.conftest import REPO, Build, Processes
from tests.build.x11 import Screen
from tests.gui.notification_server import NotificationServer
from tests.helpers import wait_until

# The first test using the build waits for it (tens of seconds on two busy cores).
pytestmark = [pytest.mark.build, pytest.mark.timeout(600)]

MAIN_WINDOW = "^LanChat$"
ROOM = "Build test"
CLOSE_WITHIN = 2.0


def start_host(build: Build, processes: Processes, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """`LanChat host` on a port the system picks; returns the process and the port. Plain text
    is allowed too, so `nc` users can join beside the TLS members."""
    host = processes.start(
        [
            str(build.executable),
            "host",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--name",
            ROOM,
            "--allow-plaintext",
        ],
        env,
        capture=True,
    )
    found = host.output.wait_for(r"listening on .*?:(\d+)\b")  # type: ignore[attr-defined]
    return host, int(found.group(1))


def stop_host(host: subprocess.Popen) -> None:
    host.terminate()  # SIGTERM: the host tells its members and exits 0
    assert host.wait(timeout=10) == 0


def wait_for_exit(process: subprocess.Popen, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    status = process.wait(timeout=timeout)
    return status, time.monotonic() - started


def without_console(args: list[str]) -> list[str]:
    """`args` started with stdout and stderr closed, as a double-clicked windowed .exe is."""
    return ["sh", "-c", 'exec "$@" 1>&- 2>&-', "without-console", *args]


def wait_for_chat_input(screen: Screen, observer: ProtocolClient, timeout: float = 15.0) -> None:
    """Wait until keys typed into the window reach the chat's input box, as a user sees it appear.

    A space and a backspace change nothing wherever they land; once they land in the chat
    input, the others see "carol is typing", which is the sign this waits for.
    """
    deadline = time.monotonic() + timeout
    while True:
        screen.press("space", "BackSpace")
        try:
            observer.wait_for(
                lambda e: isinstance(e, ev.TypingNotice) and e.nick == "carol" and e.active,
                "typing",
                timeout=0.5,
            )
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def test_version(onefile_build: Build, processes: Processes, app_env: dict[str, str]) -> None:
    process = processes.start([str(onefile_build.executable), "--version"], app_env, capture=True)
    assert process.wait(timeout=30) == 0
    process.output.join()  # type: ignore[attr-defined]
    assert process.output.lines == [f"LanChat {__version__}"]  # type: ignore[attr-defined]


def test_the_built_program_reads_every_picture_format_it_shows(
    onefile_build: Build, processes: Processes, app_env: dict[str, str]
) -> None:
    """Pillow is bundled in part (build.spec leaves out AVIF and colour management): the
    built program's doctor writes and reads back each format thumbnails are made of."""
    command = [str(onefile_build.executable), "doctor", "--timeout", "0.2"]
    process = processes.start(command, app_env, capture=True)
    assert process.wait(timeout=30) == 0
    process.output.join()  # type: ignore[attr-defined]
    pictures = [line for line in process.output.lines if line.startswith("Pictures:")]  # type: ignore[attr-defined]
    assert pictures == [f"Pictures: thumbnails for PNG, JPEG, GIF, WEBP, BMP (Pillow {version('pillow')})"]
    files = set(CArchiveReader(str(onefile_build.executable)).toc)
    assert not any("avif" in name.lower() or "lcms" in name.lower() for name in files)


def test_bundle_holds_what_is_needed_and_nothing_of_the_tests(onefile_build: Build) -> None:
    archive = CArchiveReader(str(onefile_build.executable))
    files = set(archive.toc)
    modules = set(archive.open_embedded_archive("PYZ.pyz").toc)
    tops = {name.split(".")[0] for name in modules}

    expected_assets = {
        "assets/" + path.relative_to(REPO / "assets").as_posix()
        for path in (REPO / "assets").rglob("*")
        if path.is_file() and path.suffix in {".png", ".ico", ".icns", ".mo", ".tcl", ".json"}
    }
    assert expected_assets <= files
    assert "assets/icons/lanchat-64.png" in files
    assert {"assets/emoji/README.md", "assets/emoji/LICENSE-GRAPHICS-CC-BY-4.0.txt"} <= files  # CC-BY 4.0
    assert {"confusable_homoglyphs/confusables.json", "confusable_homoglyphs/categories.json"} <= files
    assert "desktop_notifier/resources/python.png" in files  # opened when desktop-notifier is imported
    assert any(name.startswith("_tcl_data/") for name in files) and any(
        name.startswith("_tk_data/") for name in files
    )
    for command in ("host", "join", "discover"):
        assert f"cli.{command}" in modules  # loaded through importlib by main.py
    assert {
        "hosting",
        "net.tcp.host",
        "net.udp.host",
        "net.discovery",
        "gui.app",
        "gui.crash",
        "assets",
        "desktop_notifier",  # imported in a function only (gui/notify/backend.py)
        "desktop_notifier.backends.dbus",
        "dbus_fast.aio",
        "tkinterdnd2",  # drag and drop (gui/files/input.py), imported in a function only
        "PIL.ImageTk",  # thumbnails (gui/files/sharing.py)
    } <= modules
    assert any(name.startswith("tkinterdnd2/tkdnd/") for name in files)  # this platform's tkdnd
    assert not tops & {
        "tests",
        "bench",
        "pytest",
        "_pytest",
        "hypothesis",
        "setuptools",
        "pip",
        "PyInstaller",
    }
    assert not any(name.endswith(".py") and name.startswith("assets/") for name in files)


def test_host_serves_protocol_and_plain_text_clients(
    onefile_build: Build, processes: Processes, app_env: dict[str, str]
) -> None:
    host, port = start_host(onefile_build, processes, app_env)
    alice = ProtocolClient(port, "alice")
    dave = TextClient(port, "dave")
    try:
        alice.wait_for(lambda e: isinstance(e, ev.Joined) and e.nick == "dave", "dave joining")
        alice.say("hello dave, 你好")
        dave.wait_for_line(r"^\[\d\d:\d\d\] alice: hello dave, 你好$")
        dave.send_line("hi alice from nc")
        message = alice.wait_for(
            lambda e: isinstance(e, ev.ChatMessage) and e.sender == "dave", "dave's line"
        )
        assert message.text == "hi alice from nc"  # type: ignore[attr-defined]
        dave.send_line("/nick a1ice")  # a look-alike: the bundled confusables data is read
        dave.wait_for_line(r"^Error: the nickname a1ice looks too much like alice, who is already here$")
    finally:
        alice.close()
        dave.close()
    stop_host(host)
    assert any("listening" in line for line in host.output.lines)  # `host` logs to stdout


def test_window_joins_a_host_chats_and_closes(
    onefile_build: Build, processes: Processes, app_env: dict[str, str], screen: Screen, tmp_path: Path
) -> None:
    host, port = start_host(onefile_build, processes, app_env)
    observer = ProtocolClient(port, "observer")
    # A returning user: the nickname is known, so the window opens with the address field focused.
    assert SettingsStore(tmp_path / "config").save(Settings(nickname="carol")) is None
    # A desktop session bus with a notification service on it (a real dbus-daemon).
    bus_folder = Path(tempfile.mkdtemp(prefix="lanchat-dbus-"))
    notifications = NotificationServer(bus_folder)
    app_env = {**app_env, "DBUS_SESSION_BUS_ADDRESS": notifications.address}
    app = processes.start([str(onefile_build.executable)], screen.env(app_env))
    try:
        window = screen.wait_for_window(MAIN_WINDOW, timeout=30)
        screen.focus(window)
        screen.type_text(f"127.0.0.1:{port}")
        screen.press("Return")
        observer.wait_for(
            lambda e: isinstance(e, ev.Joined) and e.nick == "carol", "carol joining", timeout=15
        )
        wait_for_chat_input(screen, observer)

        screen.type_text("hello from the window")
        screen.press("Return")
        said = observer.wait_for(
            lambda e: isinstance(e, ev.ChatMessage) and e.sender == "carol", "carol's message"
        )
        assert said.text == "hello from the window"  # type: ignore[attr-defined]

        # Away from the window, a new message shows as an unread count in its title.
        # (A message that overtakes the window's noticing the focus loss counts as read, so
        # the observer says something again until the count shows.)
        screen.drop_focus()
        said_at = 0.0

        def unread_count_shown() -> bool:
            nonlocal said_at
            if screen.windows(r"^\([0-9]+\) .*LanChat$"):
                return True
            if time.monotonic() - said_at > 2:
                observer.say("hi carol 🎉")  # the emoji picture comes from the bundled sheets
                said_at = time.monotonic()
            return False

        wait_until(unread_count_shown, timeout=15, interval=0.05, message="an unread count in the title")
        # ... and a desktop notification, through the bundled desktop-notifier and D-Bus.
        wait_until(
            lambda: any(
                (note.app_name, note.summary, note.body) == ("LanChat", f"observer in {ROOM}", "hi carol 🎉")
                for note in notifications.shown()
            ),
            timeout=15,
            message="a desktop notification",
        )

        screen.request_close(window)
        status, seconds = wait_for_exit(app, timeout=10)
        assert status == 0
        assert seconds < CLOSE_WITHIN, f"closing took {seconds:.2f} s"
        observer.wait_for(lambda e: isinstance(e, ev.Left) and e.nick == "carol", "carol leaving")
    finally:
        observer.close()
        notifications.stop()
        shutil.rmtree(bus_folder, ignore_errors=True)
    stop_host(host)
    log = (tmp_path / "log" / "lanchat.log").read_text(encoding="utf-8")
    assert [line for line in log.splitlines() if " ERROR " in line] == []


def test_a_chinese_start_and_close_is_quick_and_logs_no_problem(
    onefile_build: Build, processes: Processes, app_env: dict[str, str], screen: Screen, tmp_path: Path
) -> None:
    # Chinese needs the bundled catalog, the window its bundled icons: either missing is logged.
    assert SettingsStore(tmp_path / "config").save(Settings(nickname="小明", language="zh_CN")) is None
    app = processes.start([str(onefile_build.executable)], screen.env(app_env))
    window = screen.wait_for_window(MAIN_WINDOW, timeout=30)
    screen.request_close(window)
    status, seconds = wait_for_exit(app, timeout=10)
    assert status == 0
    assert seconds < CLOSE_WITHIN, f"closing took {seconds:.2f} s"
    log_file = tmp_path / "log" / "lanchat.log"
    problems = [
        line
        for line in log_file.read_text(encoding="utf-8").splitlines()
        if " WARNING " in line or " ERROR " in line
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("mode", "logged"),
    [("tk", "unhandled error in a window callback"), ("thread", "unhandled error in thread test-crash")],
)
def test_an_error_goes_to_the_log_file_and_a_dialog_without_a_console(
    mode: str,
    logged: str,
    onefile_build: Build,
    processes: Processes,
    app_env: dict[str, str],
    screen: Screen,
    tmp_path: Path,
) -> None:
    env = screen.env({**app_env, "LANCHAT_TEST_CRASH": mode})
    app = processes.start(without_console([str(onefile_build.executable)]), env)
    window = screen.wait_for_window(MAIN_WINDOW, timeout=30)
    dialog = screen.wait_for_window(f"^{re.escape(DIALOG_TITLE)}$")

    log_text = (tmp_path / "log" / "lanchat.log").read_text(encoding="utf-8")
    assert logged in log_text
    assert "Traceback (most recent call last)" in log_text
    assert f"RuntimeError: {TEST_CRASH_MESSAGE}" in log_text

    # The program carries on: the dialog goes away, the window stays and closes normally.
    screen.request_close(dialog)
    wait_until(lambda: not screen.windows(f"^{re.escape(DIALOG_TITLE)}$"), message="the dialog closing")
    assert app.poll() is None
    screen.request_close(window)
    status, _seconds = wait_for_exit(app, timeout=10)
    assert status == 0


def test_an_error_at_start_up_is_shown_before_the_program_ends(
    onefile_build: Build, processes: Processes, app_env: dict[str, str], screen: Screen, tmp_path: Path
) -> None:
    env = screen.env({**app_env, "LANCHAT_TEST_CRASH": "main"})
    app = processes.start(without_console([str(onefile_build.executable)]), env)
    dialog = screen.wait_for_window(f"^{re.escape(DIALOG_TITLE)}$", timeout=30)
    log_text = (tmp_path / "log" / "lanchat.log").read_text(encoding="utf-8")
    assert "unhandled error; LanChat stops" in log_text
    assert f"RuntimeError: {TEST_CRASH_MESSAGE}" in log_text
    assert app.poll() is None  # waiting for the user to read the dialog
    screen.request_close(dialog)
    status, _seconds = wait_for_exit(app, timeout=10)
    assert status == 1


def test_the_folder_build_has_a_console_companion(
    onedir_build: Build, processes: Processes, app_env: dict[str, str]
) -> None:
    cli = onedir_build.executable.with_name("lanchat-cli" + onedir_build.executable.suffix)
    for program in (onedir_build.executable, cli):
        process = processes.start([str(program), "--version"], app_env, capture=True)
        assert process.wait(timeout=30) == 0
        process.output.join()  # type: ignore[attr-defined]
        assert process.output.lines == [f"LanChat {__version__}"]  # type: ignore[attr-defined]
    process = processes.start([str(cli), "--help"], app_env, capture=True)
    assert process.wait(timeout=30) == 0
    process.output.join()  # type: ignore[attr-defined]
    help_text = "\n".join(process.output.lines)  # type: ignore[attr-defined]
    assert all(command in help_text for command in ("host", "join", "discover"))


def test_start_up_time_and_size_of_both_builds(
    builds: dict[str, Build], capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a speed limit (the machine is shared): that both start, and the figures to report."""
    figures = {}
    for kind, build in builds.items():
        runs = [measure_startup_detail(str(build.executable)) for _ in range(2)]
        best = min(runs, key=lambda run: run.seconds)
        assert best.seconds < 30
        cpu = f" (CPU {best.cpu_seconds:.2f} s)" if best.cpu_seconds is not None else ""
        figures[kind] = f"{kind}: {build.size / 1e6:.1f} MB, window after {best.seconds:.2f} s{cpu}"
    with capsys.disabled():
        print(
            f"\nPyInstaller run (both builds): {builds['onefile'].seconds:.0f} s; "
            + "; ".join(figures.values())
        )
