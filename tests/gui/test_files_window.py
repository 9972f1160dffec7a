"""Files in the window (issue 16): offers shown with Accept/Decline, sending from the window
(/send, drop, paste), progress, pictures inline. A real host and a headless member with its
own `FileTransfers` on 127.0.0.1; the window under pytest-xvfb."""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import net.files.transfers as transfers_module
from gui.app import App
from gui.files import input as files_input
from gui.files.sharing import FileCard
from net.api import ClientConfig, ClientState
from net.files import events as fe
from net.files.fetch import Fetch
from net.files.transfers import FileTransfers
from net.protocol import events as ev
from net.transports import make_client
from tests.gui.conftest import EventLog
from tests.gui.driving import connected, join_from_window, say
from tests.helpers import wait_until
from tests.identity import session_identity


class Member:
    """A headless member with file transfers; `withhold_grants` keeps its accepted offers waiting."""

    def __init__(self, port: int, nick: str) -> None:
        self.events = EventLog()
        self.withhold_grants = False
        config = ClientConfig(host="127.0.0.1", port=port, nick=nick, backoff=(0.1, 0.2), files=True)
        self.client = make_client("tcp", config, lambda event: self.transfers.deliver(event))
        self.transfers = FileTransfers(
            session_identity(),
            self._step,
            self.events,
            own_nick=lambda: self.client.nick,
            host_address="127.0.0.1",
            bind="127.0.0.1",
        )
        self.transfers.start()
        self.client.start()
        wait_until(lambda: self.client.state is ClientState.CONNECTED, message=f"{nick} connected")

    def _step(self, step: ev.FileControl) -> bool:
        if self.withhold_grants and step.op == "grant":
            return True
        return self.client.send_file_step(step)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.transfers.close()
        self.client.close()


@dataclass
class Files:
    app: App
    zoe: Member
    downloads: Path
    opened: list[list[str]]


@pytest.fixture
def files_chat(make_app, headless_host, tmp_path) -> Files:
    host = headless_host(room="Files", rate_per_second=0)
    zoe = Member(host.port, "zoe")
    downloads = tmp_path / "downloads"
    try:
        app = make_app(nickname="yann", download_folder=str(downloads))
        opened: list[list[str]] = []
        app.files.opener.run = opened.append  # type: ignore[method-assign]
        join_from_window(app, "yann", f"127.0.0.1:{host.port}")
        make_app.wait(lambda: connected(app) and len(app.controller.members()) == 2)
        yield Files(app, zoe, downloads, opened)
    finally:
        zoe.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cards(app: App, conversation: str | None = None) -> list[FileCard]:
    pane = app.chat_view.panes[conversation]
    return [pane.nametowidget(name) for name in pane.text.window_names()]


def png(path: Path, size: tuple[int, int] = (800, 400), colour: str = "orange") -> Path:
    from PIL import Image

    Image.new("RGB", size, colour).save(path)
    return path


def test_an_offer_shows_its_details_and_accept_saves_the_files_where_chosen(files_chat, make_app, tmp_path):
    app, zoe = files_chat.app, files_chat.zoe
    source = tmp_path / "out"
    source.mkdir()
    (source / "report.txt").write_bytes(b"quarterly numbers\n" * 1000)
    (source / "data.bin").write_bytes(os.urandom(300_000))
    zoe.transfers.offer([source / "report.txt", source / "data.bin"])
    make_app.wait(lambda: cards(app), message="an offer card in the room")
    card = cards(app)[0]
    assert card.title.cget("text") == "zoe sends the room 2 files, 310.5 KB"
    assert card.names.cget("text") == "report.txt, data.bin"
    chosen = tmp_path / "chosen"
    asked: list[Path] = []
    app.files.choose_folder = lambda initial: asked.append(initial) or chosen
    card.buttons["Accept…"].invoke()
    assert asked == [files_chat.downloads]  # the folder in Settings is offered first
    make_app.wait(lambda: str(card.status.cget("text")).startswith("Saved in"), message="saved")
    # A small room-wide offer goes up to the host once and every member fetches its copy.
    copy = "Route: from the host's copy (sent to the host once for the whole room)"
    assert card.details.cget("text") == copy
    for name in ("report.txt", "data.bin"):
        assert sha(chosen / name) == sha(source / name)
    assert app.settings.download_folder == str(chosen)  # remembered for the next time
    card.buttons["Open"].invoke()
    card.buttons["Show in folder"].invoke()
    assert files_chat.opened[-2][-1] == str(chosen)  # two files: Open opens their folder
    assert files_chat.opened[-1][-1] == str(chosen)  # xdg-open shows the folder of the first


def test_a_private_offer_opens_its_tab_and_decline_answers_the_sender(files_chat, make_app, tmp_path):
    app, zoe = files_chat.app, files_chat.zoe
    (tmp_path / "secret.txt").write_text("just for you")
    offer = zoe.transfers.offer([tmp_path / "secret.txt"], to="yann")
    make_app.wait(lambda: "zoe" in app.chat_view.panes and cards(app, "zoe"), message="a private card")
    card = cards(app, "zoe")[0]
    assert card.title.cget("text") == "zoe sends you 1 file, 12 B"
    card.buttons["Decline"].invoke()
    make_app.wait(lambda: zoe.events.of(fe.OfferAnswered), message="the answer")
    answer = zoe.events.of(fe.OfferAnswered)[0]
    assert (answer.offer, answer.member, answer.accepted) == (offer, "yann", False)
    assert card.status.cget("text") == "Declined."


def test_send_in_a_private_tab_offers_the_file_to_that_member_who_accepts(files_chat, make_app, tmp_path):
    app, zoe = files_chat.app, files_chat.zoe
    payload = tmp_path / "song.ogg"
    payload.write_bytes(os.urandom(500_000))
    app.controller.open_private("zoe")
    say(app.chat_view, f"/send {payload}")
    assert app.chat_view.input.get("1.0", "end-1c") == ""
    make_app.wait(lambda: zoe.events.of(fe.OfferReceived), message="zoe got the offer")
    offer = zoe.events.of(fe.OfferReceived)[0]
    assert (offer.sender, offer.names, offer.count, offer.size, offer.private) == (
        "yann",
        ("song.ogg",),
        1,
        500_000,
        True,
    )
    make_app.wait(lambda: cards(app, "zoe"), message="our card in the private tab")
    assert cards(app, ROOM_KEY) == []  # not in the room
    zoe.transfers.accept("yann", offer.offer, tmp_path / "zoe")
    make_app.wait(lambda: zoe.events.of(fe.TransferFinished), message="zoe received it")
    assert sha(tmp_path / "zoe" / "song.ogg") == sha(payload)
    card = cards(app, "zoe")[0]
    make_app.wait(lambda: card.status.cget("text") == "zoe received 488.3 KB directly", message="told")


ROOM_KEY = None


def test_a_missing_file_is_refused_in_the_conversation(files_chat, make_app, tmp_path):
    app = files_chat.app
    say(app.chat_view, f"/send {tmp_path / 'nothing-here.txt'}")
    make_app.wait(lambda: "Not sent" in app.chat_view.panes[None].content(), message="the refusal")


def test_a_small_picture_is_taken_unasked_shown_inline_and_opens_on_click(files_chat, make_app, tmp_path):
    app, zoe = files_chat.app, files_chat.zoe
    picture = png(tmp_path / "cat.png")
    before = sha(picture)
    zoe.transfers.offer([picture])
    text = app.chat_view.panes[None].text
    make_app.wait(lambda: text.image_names(), message="a thumbnail in the transcript")
    saved = files_chat.downloads / "cat.png"
    assert sha(saved) == before  # the saved file is the sender's, not the thumbnail
    image = text.image_cget(text.image_names()[0], "image")
    assert (text.tk.call("image", "width", image), text.tk.call("image", "height", image)) == (240, 120)
    start = text.index(text.image_names()[0])
    tag = next(name for name in text.tag_names(start) if name.startswith("picture"))
    text.see(start)
    text.update()
    x, y, _w, _h = text.bbox(start)
    text.event_generate("<Motion>", x=x + 2, y=y + 2)  # Tk finds the tag under the pointer
    text.event_generate("<ButtonPress-1>", x=x + 2, y=y + 2)
    text.event_generate("<ButtonRelease-1>", x=x + 2, y=y + 2)
    assert files_chat.opened[-1][-1] == str(saved)
    assert tag


def test_a_big_picture_waits_for_accept(files_chat, make_app, tmp_path):
    app, zoe = files_chat.app, files_chat.zoe
    app.settings.auto_accept_images_mb = 1
    picture = tmp_path / "poster.png"
    picture.write_bytes(os.urandom(1_200_000))  # "an image" by name, over the limit
    zoe.transfers.offer([picture])
    make_app.wait(lambda: cards(app), message="the card")
    assert "Accept…" in cards(app)[0].buttons
    assert not (files_chat.downloads / "poster.png").exists()


def test_a_pasted_picture_is_sent_to_the_conversation_and_shown(files_chat, make_app, tmp_path, monkeypatch):
    from PIL import Image

    app, zoe = files_chat.app, files_chat.zoe
    monkeypatch.setattr(files_input, "clipboard_content", lambda: Image.new("RGB", (300, 300), "teal"))
    view = app.chat_view
    view.clipboard_clear()  # no text on the clipboard: Ctrl+V looks for a picture
    view.input.focus_force()
    view.input.event_generate("<Control-v>")
    make_app.wait(lambda: zoe.events.of(fe.OfferReceived), message="zoe got the pasted picture")
    offer = zoe.events.of(fe.OfferReceived)[0]
    assert offer.names[0].startswith("screenshot-") and offer.names[0].endswith(".png")
    assert not offer.private
    make_app.wait(lambda: view.panes[None].text.image_names(), message="the sender sees it too")
    zoe.transfers.accept("yann", offer.offer, tmp_path / "zoe")
    make_app.wait(lambda: zoe.events.of(fe.TransferFinished), message="zoe received it")
    with Image.open(tmp_path / "zoe" / offer.names[0]) as received:
        assert received.size == (300, 300)


def test_text_on_the_clipboard_pastes_as_text(files_chat, make_app, monkeypatch):
    app = files_chat.app
    asked: list[bool] = []
    monkeypatch.setattr(files_input, "clipboard_content", lambda: asked.append(True))
    view = app.chat_view
    view.clipboard_clear()
    view.clipboard_append("hello")
    view.input.focus_force()
    view.input.event_generate("<Control-v>")
    view.update()
    assert view.input.get("1.0", "end-1c") == "hello"
    assert not asked


def test_files_dropped_on_the_conversation_are_offered(files_chat, make_app, tmp_path):
    app, zoe = files_chat.app, files_chat.zoe
    assert files_input.load_dnd(app.root), "tkdnd loads from the tkinterdnd2 package"
    text = app.chat_view.panes[None].text
    assert app.root.tk.call("bind", text, "<<Drop>>")  # registered as a drop target
    folder = tmp_path / "a folder"
    (folder / "inner").mkdir(parents=True)
    (folder / "inner" / "x.txt").write_text("x")
    (tmp_path / "b.txt").write_text("b")
    data = app.root.tk.call("list", str(folder), str(tmp_path / "b.txt"))
    assert files_input.dropped(app.chat_view, app.files, data) == "copy"
    make_app.wait(lambda: zoe.events.of(fe.OfferReceived), message="zoe got the drop")
    offer = zoe.events.of(fe.OfferReceived)[0]
    assert (set(offer.names), offer.count) == ({"a folder", "b.txt"}, 2)


def accepted_but_waiting(files_chat: Files, make_app, tmp_path: Path) -> tuple[str, FileCard]:
    """zoe's offer, accepted by the window, whose transfer never starts (zoe withholds the
    grant): the transfer events the card shows are the test's to send."""
    app, zoe = files_chat.app, files_chat.zoe
    zoe.withhold_grants = True
    (tmp_path / "big.iso").write_bytes(os.urandom(100_000))
    offer = zoe.transfers.offer([tmp_path / "big.iso"])
    make_app.wait(lambda: cards(app), message="the card")
    card = cards(app)[0]
    app.files.choose_folder = lambda initial: initial
    card.buttons["Accept…"].invoke()
    return offer, card


def test_progress_updates_the_card_and_the_status_bar_and_pause_resumes(files_chat, make_app, tmp_path):
    app, zoe = files_chat.app, files_chat.zoe
    offer, card = accepted_but_waiting(files_chat, make_app, tmp_path)
    assert card.status.cget("text") == "Waiting for zoe…"
    sink = app.files.session.sink
    for done in (10 * 2**20, 20 * 2**20, 30 * 2**20):  # coalesced on the bridge: the last one shows
        sink(fe.TransferProgress(offer, "zoe", done, 100 * 2**20, 2 * 2**20, 0, 1))
    make_app.wait(lambda: "30.0 MB of 100.0 MB" in card.status.cget("text"), message="progress")
    assert card.status.cget("text") == "30.0 MB of 100.0 MB · 2.0 MB/s · 35 s left"
    assert app.files.summary.cget("text") == "1 transfer · 2.0 MB/s · 35 s left"
    card.buttons["Pause"].invoke()
    assert card.status.cget("text") == "Paused at 30.0 MB of 100.0 MB."
    assert app.files.summary.cget("text") == "1 transfer paused"  # paused, not running
    card.buttons["Resume"].invoke()
    assert card.status.cget("text") == "Waiting for zoe…"
    card.buttons["Cancel"].invoke()
    declined = lambda: [a for a in zoe.events.of(fe.OfferAnswered) if not a.accepted]  # noqa: E731
    make_app.wait(declined, message="the sender is told")
    assert declined()[0].reason == "cancelled"


def test_a_pause_in_the_same_batch_as_progress_says_where_the_fetch_stopped(files_chat, make_app, tmp_path):
    """Events are shown in the order they came: a sender's pause that lands in the same
    batch as the last progress still says how far it got."""
    app = files_chat.app
    offer, card = accepted_but_waiting(files_chat, make_app, tmp_path)
    progress = [fe.TransferProgress(offer, "zoe", mb * 2**20, 100 * 2**20, 2**20, 0, 1) for mb in (1, 3)]
    app.files.handle([*progress, fe.TransferPaused(offer, "zoe", "sender")])
    assert card.status.cget("text") == "Paused by zoe at 3.0 MB of 100.0 MB; it goes on when they resume."
    assert list(card.buttons) == ["Cancel"]
    app.files.handle([fe.TransferResumed(offer, "zoe", "sender"), *progress])  # resumed, then progress
    assert card.status.cget("text").startswith("zoe resumed · 3.0 MB of 100.0 MB")


def test_the_send_files_button_offers_what_is_chosen(files_chat, make_app, tmp_path):
    app, zoe = files_chat.app, files_chat.zoe
    (tmp_path / "c.txt").write_text("c")
    app.files.choose_paths = lambda folder: [tmp_path / "c.txt"]
    menu = app.root.nametowidget(app.chat_view.files_button.cget("menu"))
    menu.invoke(0)
    make_app.wait(lambda: zoe.events.of(fe.OfferReceived), message="zoe got it")
    assert zoe.events.of(fe.OfferReceived)[0].names == ("c.txt",)


def test_a_transfer_through_the_host_says_so_in_the_card(files_chat, make_app, tmp_path):
    """zoe's transfer port refuses connections (a firewall): the fetch of her private offer
    goes through the host's relay, and the card's details say so. (A small room-wide offer
    would come from the host's copy instead: the test above.)"""
    app, zoe = files_chat.app, files_chat.zoe
    with socket.socket() as refused:  # bound, never listening: connections are refused
        refused.bind(("127.0.0.1", 0))
        zoe.transfers._server.port = refused.getsockname()[1]
        (tmp_path / "plan.pdf").write_bytes(os.urandom(200_000))
        zoe.transfers.offer([tmp_path / "plan.pdf"], to="yann")
        make_app.wait(lambda: "zoe" in app.chat_view.panes and cards(app, "zoe"), message="the card")
        card = cards(app, "zoe")[0]
        assert not card.details.winfo_ismapped()  # no route before the bytes go
        app.files.choose_folder = lambda initial: tmp_path / "in"
        card.buttons["Accept…"].invoke()
        saved = lambda: str(card.status.cget("text")).startswith("Saved in")  # noqa: E731
        make_app.wait(saved, message="saved through the host", timeout=20)
    assert card.details.cget("text") == "Route: through the host (the direct connection was refused)"
    app.chat_view.notebook.select(app.chat_view.panes["zoe"])  # the private tab, in front
    make_app.pump()
    assert card.details.winfo_ismapped()
    assert sha(tmp_path / "in" / "plan.pdf") == sha(tmp_path / "plan.pdf")


def test_an_offer_to_a_member_whose_lanchat_reads_no_files_is_refused_on_its_card(
    files_chat, make_app, tmp_path
):
    app = files_chat.app
    port = files_chat.zoe.client.config.port  # type: ignore[attr-defined]
    older_events = EventLog()
    older = make_client("tcp", ClientConfig(host="127.0.0.1", port=port, nick="dave"), older_events)
    older.start()  # an older LanChat: its hello says nothing of files
    try:
        make_app.wait(lambda: len(app.controller.members()) == 3, message="dave joined")
        (tmp_path / "draft.txt").write_text("draft")
        app.controller.open_private("dave")
        say(app.chat_view, f"/send {tmp_path / 'draft.txt'}")
        make_app.wait(lambda: cards(app, "dave"), message="our card")
        card = cards(app, "dave")[0]
        make_app.wait(lambda: card.status.cget("text").startswith("Not offered"), message="the refusal")
        assert card.status.cget("text") == (
            "Not offered: dave's LanChat cannot receive files (an older version); ask them to update."
        )
        assert card.buttons == {}  # nothing to withdraw
        assert "refused" not in app.chat_view.panes[None].content()  # not a second time as a line
        assert older_events.of(ev.FileNotice) == []
    finally:
        older.close()


# -- pause and resume, both sides -------------------------------------------------------------

BIG = 24 * 1024 * 1024


@pytest.fixture
def progress_each_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress after every block (the window's fetches and zoe's), so a test can stop a
    fetch on its first one."""
    monkeypatch.setattr(transfers_module, "Fetch", functools.partial(Fetch, progress_interval=0))


def hold_first_progress(transfers: FileTransfers, then: Callable[[], object]) -> threading.Event:
    """Wrap `transfers`' event sink: on the first progress mid-file, its fetch's thread runs
    `then()` (the fetch waits for it, so it is cut mid-file, deterministically). Returns an
    event set when the fetch got there."""
    sink, reached = transfers._on_event, threading.Event()

    def events(event: object) -> None:
        sink(event)
        if isinstance(event, fe.TransferProgress) and not reached.is_set() and 0 < event.done < event.total:
            reached.set()
            then()

    transfers._on_event = events  # type: ignore[method-assign]
    return reached


def statuses(card: FileCard) -> list[str]:
    """Every status `card` shows from now on (one can be replaced within the same batch)."""
    shown: list[str] = []
    show = card.show

    def recording(status: str, *args: object, **kwargs: object) -> None:
        shown.append(status)
        show(status, *args, **kwargs)  # type: ignore[arg-type]

    card.show = recording  # type: ignore[method-assign]
    return shown


def zoe_offers_big(files_chat: Files, make_app, tmp_path: Path) -> tuple[str, Path, FileCard]:
    """zoe offers a big file to the window alone (so it comes straight from her)."""
    app, zoe = files_chat.app, files_chat.zoe
    source = tmp_path / "video.bin"
    source.write_bytes(os.urandom(BIG))
    offer = zoe.transfers.offer([source], to="yann")
    make_app.wait(lambda: "zoe" in app.chat_view.panes and cards(app, "zoe"), message="the card")
    app.files.choose_folder = lambda initial: tmp_path / "in"
    return offer, source, cards(app, "zoe")[0]


def part_kept(app: App, offer: str, part: Path, make_app) -> int:
    """The size of the paused fetch's `.part`, once its thread has closed it."""
    engine = app.files.session.transfers
    make_app.wait(lambda: ("zoe", offer) not in engine._fetches, message="the paused fetch closed")
    kept = part.stat().st_size
    assert 0 < kept < BIG and not part.with_suffix("").exists()
    return kept


def test_the_window_pauses_its_fetch_and_resume_sends_only_the_missing_bytes(
    files_chat, make_app, tmp_path, progress_each_block
):
    app, zoe = files_chat.app, files_chat.zoe
    offer, source, card = zoe_offers_big(files_chat, make_app, tmp_path)
    go_on = threading.Event()
    reached = hold_first_progress(app.files.session.transfers, lambda: go_on.wait(10))
    card.buttons["Accept…"].invoke()
    make_app.wait(reached.is_set, message="the fetch under way")
    make_app.wait(lambda: " of 24.0 MB" in card.status.cget("text"), message="progress on the card")
    card.buttons["Pause"].invoke()
    go_on.set()
    assert card.status.cget("text").startswith("Paused at ")
    assert list(card.buttons) == ["Resume", "Cancel"]
    assert app.files.summary.cget("text") == "1 transfer paused"
    kept = part_kept(app, offer, tmp_path / "in" / "video.bin.part", make_app)
    make_app.wait(lambda: zoe.events.of(fe.TransferServed), message="zoe's first connection ended")
    sent_before = zoe.transfers.bytes_sent
    card.buttons["Resume"].invoke()
    assert card.status.cget("text") == "Waiting for zoe…"
    saved = lambda: str(card.status.cget("text")).startswith("Saved in")  # noqa: E731
    make_app.wait(saved, message="saved after resuming", timeout=20)
    assert sha(tmp_path / "in" / "video.bin") == sha(source)
    served = make_app.wait(lambda: zoe.events.of(fe.TransferServed)[1:], message="zoe's second connection")
    assert served[0].sent == zoe.transfers.bytes_sent - sent_before == BIG - kept  # only the missing bytes
    assert app.files.summary.cget("text") == ""


def test_zoe_pauses_the_windows_fetch_and_resumes_it(files_chat, make_app, tmp_path, progress_each_block):
    app, zoe = files_chat.app, files_chat.zoe
    offer, source, card = zoe_offers_big(files_chat, make_app, tmp_path)
    engine = app.files.session.transfers

    def zoe_pauses() -> None:  # on the window's fetch thread: the fetch waits for the pause
        zoe.transfers.pause_upload(offer, "yann")
        wait_until(lambda: ("zoe", offer) in engine._paused, message="the pause reached the window")

    hold_first_progress(engine, zoe_pauses)
    card.buttons["Accept…"].invoke()
    paused = lambda: card.status.cget("text").startswith("Paused by zoe at ")  # noqa: E731
    make_app.wait(paused, message="paused by zoe on the card")
    assert card.status.cget("text").endswith(" of 24.0 MB; it goes on when they resume.")
    assert list(card.buttons) == ["Cancel"]  # zoe resumes it, not us
    assert app.files.summary.cget("text") == "1 transfer paused"
    kept = part_kept(app, offer, tmp_path / "in" / "video.bin.part", make_app)
    make_app.wait(lambda: zoe.events.of(fe.TransferServed), message="zoe's first connection ended")
    shown = statuses(card)
    zoe.transfers.resume_upload(offer, "yann")
    saved = lambda: str(card.status.cget("text")).startswith("Saved in")  # noqa: E731
    make_app.wait(saved, message="saved after zoe resumed", timeout=20)
    assert shown[0] == "zoe resumed"
    assert all(status.startswith("zoe resumed · ") for status in shown[1:-1])  # progress, with it
    assert sha(tmp_path / "in" / "video.bin") == sha(source)
    served = make_app.wait(lambda: zoe.events.of(fe.TransferServed)[1:], message="zoe's second connection")
    assert served[0].sent == BIG - kept


def window_offers_big_and_zoe_fetches(
    files_chat, make_app, tmp_path
) -> tuple[str, Path, FileCard, threading.Event]:
    """The window offers zoe a big file and she accepts; her fetch waits on its first
    progress until the returned event is set."""
    app, zoe = files_chat.app, files_chat.zoe
    source = tmp_path / "video.bin"
    source.write_bytes(os.urandom(BIG))
    app.controller.open_private("zoe")
    assert app.files.send([source], "zoe")
    make_app.wait(lambda: zoe.events.of(fe.OfferReceived), message="zoe got the offer", timeout=10)
    offer = zoe.events.of(fe.OfferReceived)[0].offer
    make_app.wait(lambda: cards(app, "zoe"), message="our card")
    card = cards(app, "zoe")[0]
    assert list(card.buttons) == ["Withdraw"]  # nobody fetches it yet: nothing to pause
    go_on = threading.Event()
    reached = hold_first_progress(zoe.transfers, lambda: go_on.wait(10))
    zoe.transfers.accept("yann", offer, tmp_path / "zoe")
    make_app.wait(reached.is_set, message="zoe's fetch under way")
    make_app.wait(lambda: "Pause" in card.buttons, message="Pause on our card")
    return offer, source, card, go_on


def window_pauses_zoe(zoe: Member, offer: str, card: FileCard, go_on: threading.Event, make_app) -> None:
    """Pause on our card while zoe's fetch waits; then her fetch stops, and so does our
    serving of it (which the card counts as paused, not as stopped)."""
    shown = statuses(card)
    card.buttons["Pause"].invoke()
    make_app.wait(lambda: ("yann", offer) in zoe.transfers._paused, message="zoe's fetch paused")
    go_on.set()
    [paused] = make_app.wait(lambda: zoe.events.of(fe.TransferPaused), message="zoe's fetch stopped")
    assert paused.by == "sender"
    make_app.wait(lambda: len(shown) >= 2, message="our serving of it ended")
    assert shown == ["Paused for zoe", "Paused for zoe"]


def test_the_window_pauses_zoes_fetch_of_its_offer_and_resumes_it(
    files_chat, make_app, tmp_path, progress_each_block
):
    app, zoe = files_chat.app, files_chat.zoe
    offer, source, card, go_on = window_offers_big_and_zoe_fetches(files_chat, make_app, tmp_path)
    window_pauses_zoe(zoe, offer, card, go_on, make_app)
    assert card.status.cget("text") == "Paused for zoe"
    assert list(card.buttons) == ["Resume", "Withdraw"]
    assert app.files.summary.cget("text") == "1 transfer paused"
    part = tmp_path / "zoe" / "video.bin.part"
    kept = part.stat().st_size
    assert 0 < kept < BIG
    card.buttons["Resume"].invoke()
    [done] = make_app.wait(lambda: zoe.events.of(fe.TransferFinished), message="zoe has it", timeout=20)
    assert (done.resumed, done.received) == (kept, BIG - kept)  # only the missing bytes came
    assert sha(tmp_path / "zoe" / "video.bin") == sha(source)
    assert [r.by for r in zoe.events.of(fe.TransferResumed)] == ["sender"]
    told = lambda: card.status.cget("text").startswith("zoe received ")  # noqa: E731
    make_app.wait(told, message="our card says she has it")
    assert app.files.summary.cget("text") == ""


def test_the_window_withdraws_its_offer_while_zoes_fetch_is_paused(
    files_chat, make_app, tmp_path, progress_each_block
):
    app, zoe = files_chat.app, files_chat.zoe
    offer, _source, card, go_on = window_offers_big_and_zoe_fetches(files_chat, make_app, tmp_path)
    window_pauses_zoe(zoe, offer, card, go_on, make_app)
    card.buttons["Withdraw"].invoke()
    assert card.status.cget("text") == "You withdrew this offer." and card.buttons == {}
    assert app.files.summary.cget("text") == ""
    make_app.wait(lambda: zoe.events.of(fe.OfferCancelled), message="zoe is told")
    with pytest.raises(KeyError):
        zoe.transfers.accept("yann", offer, tmp_path / "zoe")  # nothing left to resume
    assert zoe.events.of(fe.TransferFinished) == []
