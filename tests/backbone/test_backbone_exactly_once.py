"""Exactly once in the stream: a publish whose ack was lost is retried with the same
`Nats-Msg-Id`, and JetStream keeps the message once, also while a NATS node dies.

The members' clients drop a second copy by its message id, so a chat test cannot see a
doubled stream: this one reads the stream itself. Acks are lost on purpose (every fourth
publish's answer never reaches the host, as when the connection or the leader changes
after the stream stored it), which forces the retry path every time, not only by chance.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from bench.nats_cluster import NatsCluster
from net.backbone import BackboneConfig
from net.backbone.link import Backbone, Duplicate
from net.backbone.wire import RoomNames, read_message
from net.protocol import events as ev
from tests.helpers import wait_until

ROOM = "exactly once"
COUNT = 120


def _messages(tag: str) -> list[ev.ChatMessage]:
    return [ev.build_message(f"{tag}-{n}", "ann", f"{tag} {n}", 1.0e9 + n, None, False) for n in range(COUNT)]


def _lose_some_acks(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """Every fourth publish reaches the stream but its ack never comes back: their ids, and
    the ids of the publishes retried since (once the stream answered them)."""
    from nats.js.client import JetStreamContext

    original, original_retry = JetStreamContext.publish_async, JetStreamContext.publish
    lost: list[str] = []
    retried: list[str] = []

    async def publish_async(self: Any, subject: str, payload: bytes = b"", **options: Any) -> Any:
        future = await original(self, subject, payload, **options)
        message = read_message(payload)
        if int(message.id.rsplit("-", 1)[1]) % 4 == 0:
            lost.append(message.id)
            future.add_done_callback(lambda f: f.cancelled() or f.exception())  # read: nobody waits
            return asyncio.get_running_loop().create_future()  # never answered
        return future

    async def publish(self: Any, subject: str, payload: bytes = b"", **options: Any) -> Any:
        ack = await original_retry(self, subject, payload, **options)
        retried.append(read_message(payload).id)
        return ack

    monkeypatch.setattr(JetStreamContext, "publish_async", publish_async)
    monkeypatch.setattr(JetStreamContext, "publish", publish)
    return lost, retried


def _stream_ids(urls: tuple[str, ...]) -> list[str]:
    """The message id of every message in the room's stream, in its order."""

    async def read() -> list[str]:
        import nats

        nc = await nats.connect(servers=list(urls), connect_timeout=2)
        try:
            js = nc.jetstream(timeout=5)
            stream = RoomNames.of(ROOM).stream
            state = (await js.stream_info(stream)).state
            return [read_message((await js.get_msg(stream, seq)).data).id
                    for seq in range(state.first_seq, state.last_seq + 1)]  # fmt: skip
        finally:
            await nc.close()

    return asyncio.run(read())


def test_a_retried_publish_is_kept_once_while_a_node_dies(
    nats_cluster: NatsCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost, retried = _lose_some_acks(monkeypatch)
    config = BackboneConfig(servers=nats_cluster.urls, host_id="host-x", request_timeout=1.0)
    woken = threading.Event()
    backbone = Backbone(config, ROOM, "host-x", 0, woken.set)
    backbone.start()
    try:
        assert backbone.ready.wait(20), "the stream is set up"
        before, after = _messages("before"), _messages("after")
        assert backbone.publish(before)
        all_retried = lambda count: len(lost) == count and set(lost) <= set(retried)  # noqa: E731
        wait_until(lambda: all_retried(COUNT // 4), 30, message="the lost acks retried")
        lost_before = set(lost)
        nats_cluster.kill_node(0)
        assert backbone.publish(after)
        everything = {m.id for m in before + after}
        # (While the node is down other publishes time out too and are retried alike.)
        wait_until(lambda: all_retried(COUNT // 2), 60, message="the lost acks retried after the kill")
        stored: list[str] = []

        def all_stored() -> bool:
            stored[:] = _stream_ids(nats_cluster.urls[1:])
            return set(stored) == everything

        wait_until(all_stored, 60, interval=0.5, message="every message in the stream")
        duplicates = {item.msg_id for item in backbone.take() if type(item) is Duplicate}
    finally:
        backbone.stop()
    ids = stored
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} messages are in the stream twice"
    assert lost_before <= duplicates, "each retried publish was found already stored"
